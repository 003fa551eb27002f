"""Broadcast alerts: alert files, the persistent outbox and the rate-limited sender."""
