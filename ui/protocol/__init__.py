"""The clinic protocol screen."""
