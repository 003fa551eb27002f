"""Persistent per-resident state, behind small interfaces (SQLite by default)."""
