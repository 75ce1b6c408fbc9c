"""`lecture eval`: TeachQuiz and aesthetic scores of lesson videos against any OpenAI-compatible vision model."""
