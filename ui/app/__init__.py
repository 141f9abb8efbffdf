"""The application window: navigation, lock, tick, and the wiring of the screens."""
