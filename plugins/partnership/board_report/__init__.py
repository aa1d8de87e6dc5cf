"""The Board's quarterly report."""
