"""A test-only app (installed in test mode) whose model carries every kind of encrypted field."""
