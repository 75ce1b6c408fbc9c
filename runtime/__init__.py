"""Running compiled lessons: rendering with Manim, assembling with ffmpeg, watch mode."""
