"""The local API server: OpenAI- and Anthropic-compatible endpoints on the one engine thread."""
