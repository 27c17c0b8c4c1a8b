"""Hugging Face and files on disk: Hub client, remote headers, downloads, the library."""
