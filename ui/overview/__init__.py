"""The chair overview: one tile per chair."""
