"""AI-content labels, both ways: markers write them, inspectors read them."""
