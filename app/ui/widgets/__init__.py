"""Small widgets that any page may use (below every page in the import layers)."""
