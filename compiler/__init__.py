"""Front end and lowering: text -> tree -> lesson model -> checks -> Manim Python."""
