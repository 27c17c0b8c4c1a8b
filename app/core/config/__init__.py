"""The person's settings: preferences and the keychain-held token."""
