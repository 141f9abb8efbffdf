"""Demo data and the simulated chair."""
