"""The ``hallmark`` command line."""
