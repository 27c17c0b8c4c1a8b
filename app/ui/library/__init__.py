"""The local library: models page and downloads."""
