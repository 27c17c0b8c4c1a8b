"""Plain-Python core of Quantdesk. Nothing under this package may import Qt."""
