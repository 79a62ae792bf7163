"""Transport-neutral handlers: plain events in, plain replies out. Never import telegram or aiogram."""
