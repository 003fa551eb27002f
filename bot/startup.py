"""Start-up assembly: load the content, the semantic model and the responder, the same way for
every entry point (`antifraud-bot run`, the offline chat, `match`, `/reload`, the conversation
runner)."""

from __future__ import annotations

from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.content.reader import ContentError, InvalidContent
from bot.core.example_checks import example_conflicts
from bot.core.responder import Responder


def load_responder(settings: Settings, warnings: list[ContentError] | None = None) -> Responder:
    """Load and validate the content; raises InvalidContent listing every problem.

    This includes the examples that the matcher itself would answer with another intent,
    so every entry point refuses the same content. The semantic model (ANTIFRAUD_SEMANTIC) is
    loaded once per process and injected here; its example vectors come from the cache in
    ANTIFRAUD_CACHE_DIR. Problems that do not stop the content from loading are appended to
    `warnings`.
    """
    from bot.models.cache import CachedExampleVectors
    from bot.models.loader import load_encoder

    content = load_content(settings.intents_dir, settings.content_dir, CONTACT_VARIABLES)
    encoder = load_encoder(settings.semantic)
    vectors = CachedExampleVectors(encoder, settings.cache_dir) if encoder else None
    responder = Responder(content, settings.contacts, settings.default_lang, encoder, vectors)
    conflicts = example_conflicts(content, responder.matcher)
    if warnings is not None:
        warnings.extend(c for c in conflicts if c.warning)
    errors = [c for c in conflicts if not c.warning]
    if errors:
        raise InvalidContent(errors)
    return responder
