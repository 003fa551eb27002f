"""Build the encoder ANTIFRAUD_SEMANTIC asks for, once per process, or None if it cannot load."""

from __future__ import annotations

import logging
from functools import cache

from bot.core.semantic import Encoder

log = logging.getLogger(__name__)
MODELS = ("e5+use", "e5", "use")


@cache  # one model per process: /reload and every Responder share it; the log says so once
def load_encoder(name: str) -> Encoder | None:
    if name == "off":
        log.info("semantic stage off (ANTIFRAUD_SEMANTIC=off): matching lexically")
        return None
    try:
        if name == "e5+use":
            from bot.models.blend import e5_with_use

            return e5_with_use()
        if name == "use":
            from bot.models.use import UseEncoder

            return UseEncoder()
        from bot.models.e5 import E5Encoder

        return E5Encoder()
    except Exception as exc:  # another CPU, a broken wheel: degrade, never crash
        log.warning(
            "semantic stage off: the %s model cannot load (%s); matching lexically", name, exc
        )
        return None
