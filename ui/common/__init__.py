"""Theme, style and the small widgets every screen shares."""
