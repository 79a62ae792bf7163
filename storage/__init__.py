"""Storage: the Repository contract and its backends. Knows nothing of Telegram."""
