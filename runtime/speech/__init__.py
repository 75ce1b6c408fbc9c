"""Speech engines for narration, found by name through a registry."""
