"""Lecture: a lesson language compiled to Manim videos."""

__version__ = "0.1.0"
