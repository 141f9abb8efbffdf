"""The check-in screen."""
