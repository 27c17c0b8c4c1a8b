"""Will it fit and how good is it: memory, quality, the recommendation."""
