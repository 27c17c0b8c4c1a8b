"""Finding a model: curated list, Hub search, fitted file chooser."""
