"""The composition root, configuration, Telegram adapter and LLM client."""
