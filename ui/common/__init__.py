"""Theme, style and the small widgets every screen shares: the keypad, the segmented choice,
the PIN entry, labels and headings, field messages, the signature dialog."""
