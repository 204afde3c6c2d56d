"""Small fakes for the swappable parts, registered through the same plugin hook as built-ins."""
