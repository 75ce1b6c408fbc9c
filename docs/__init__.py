"""The project's documents that ship with it: docs/style.md, whose rules the Planner's prompt takes
(lecture.agents.style_guide)."""
