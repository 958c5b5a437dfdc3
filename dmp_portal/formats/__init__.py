"""Date and time formats of the portal's languages where Django's own do not suit
(FORMAT_MODULE_PATH)."""
