"""Partnership Warehouse."""
