"""Qt user interface. Never does blocking work on the GUI thread: workers do."""
