"""Use cases: one transaction per public method, on top of storage and the clinical rules."""
