"""Class-based operators of the integration (the deferrable ones need a class)."""
