"""``python -m monitor`` and its subcommands."""
