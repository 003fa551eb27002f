"""The pure core: normalise -> match -> reply. No Telegram types in here."""
