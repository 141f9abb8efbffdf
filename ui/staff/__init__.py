"""Sign-in, staff administration and the audit trail on screen."""
