"""One chair's session: screen, presenter, chart, rail, flags, discharge, entry and history."""
