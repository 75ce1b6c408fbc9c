"""The Lark grammars of the lesson language, shipped as package data."""

from pathlib import Path

GRAMMAR_DIR = Path(__file__).parent
