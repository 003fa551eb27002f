"""Start-up assembly: load the content and build the responder, the same way for every entry
point (`antifraud-bot run`, the offline chat, `match`, `/reload`, the conversation runner)."""

from __future__ import annotations

from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.content.reader import InvalidContent
from bot.core.example_checks import example_conflicts
from bot.core.responder import Responder


def load_responder(settings: Settings) -> Responder:
    """Load and validate the content; raises InvalidContent listing every problem.

    This includes the examples that the matcher itself would answer with another intent,
    so every entry point refuses the same content.
    """
    content = load_content(settings.intents_dir, settings.content_dir, CONTACT_VARIABLES)
    responder = Responder(content, settings.contacts, settings.default_lang)
    conflicts = example_conflicts(content, responder.index.settings, responder.index)
    if conflicts:
        raise InvalidContent(conflicts)
    return responder
