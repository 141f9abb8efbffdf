"""The check-in screen: its cards (patient, dose), the parts they share, and what a check-in
hands to the service."""
