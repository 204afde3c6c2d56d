"""The two flows every request takes: ``create`` and ``receive``."""
