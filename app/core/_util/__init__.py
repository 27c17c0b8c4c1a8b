"""Small helpers every core package may use: units, files, cancellation, logs."""
