"""The chat page: conversation list, messages view, per-chat settings."""
