"""hallmark: an open, self-hosted generative-AI creation platform with compliance built in."""

__version__ = "0.1.0"
