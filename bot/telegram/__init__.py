"""The Telegram front end: thin adapters between python-telegram-bot and the core."""
