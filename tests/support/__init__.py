"""Test rigs that are not tests: a private PostgreSQL server and a faulty network between."""
