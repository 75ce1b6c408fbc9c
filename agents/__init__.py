"""LLM agents: model access, Planner, Coder, auto-fix, Critic."""
