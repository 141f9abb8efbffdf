"""Clinical rules and values: pure functions, no SQL, no I/O."""
