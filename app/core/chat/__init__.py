"""Chats: templates, reasoning (thinking) families, prompt preparation, history."""
