"""Start-up assembly: load the content, the semantic model and the responder, the same way for
every entry point (`antifraud-bot run`, the offline chat, `match`, `/reload`, the conversation
runner)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.content.reader import ContentError, InvalidContent
from bot.core.example_checks import example_conflicts
from bot.core.responder import Responder

log = logging.getLogger(__name__)
CHECKED = "content-checked-{digest}"  # in the cache folder: this content version passed


def load_responder(settings: Settings, warnings: list[ContentError] | None = None) -> Responder:
    """Load and validate the content; raises InvalidContent listing every problem.

    This includes the examples that the matcher itself would answer with another intent,
    so every entry point refuses the same content. That check takes about a second, so a
    content version that passed it is remembered in ANTIFRAUD_CACHE_DIR and not checked again
    on a warm start. The semantic model (ANTIFRAUD_SEMANTIC) is loaded once per process and
    injected here; its example vectors come from the same cache. Given a `warnings` list
    (`antifraud-bot validate`), the combined matcher's near misses are appended to it too.
    """
    from bot.models.cache import CachedExampleVectors, CachedHeads
    from bot.models.loader import load_encoder

    content = load_content(settings.intents_dir, settings.content_dir, CONTACT_VARIABLES)
    encoder = load_encoder(settings.semantic)
    vectors = CachedExampleVectors(encoder, settings.cache_dir) if encoder else None
    heads = CachedHeads(encoder, settings.cache_dir) if encoder else None
    responder = Responder(
        content, settings.contacts, settings.default_lang, encoder, vectors, heads
    )
    marker = _checked_marker(settings)
    if warnings is None and marker is not None and marker.exists():
        return responder
    conflicts = example_conflicts(content, responder.matcher, combined=warnings is not None)
    if warnings is not None:
        warnings.extend(c for c in conflicts if c.warning)
    errors = [c for c in conflicts if not c.warning]
    if errors:
        raise InvalidContent(errors)
    _remember(marker)
    return responder


def _checked_marker(settings: Settings) -> Path | None:
    """The cache file that says this exact content (every YAML byte) passed the checks."""
    if settings.cache_dir is None:
        return None
    digest = hashlib.sha256()
    for folder in (settings.intents_dir, settings.content_dir):
        for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return settings.cache_dir / CHECKED.format(digest=digest.hexdigest()[:32])


def _remember(marker: Path | None) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError as exc:  # a read-only cache only costs the check next time
        log.info("could not remember the content check in %s: %s", marker.parent, exc)
