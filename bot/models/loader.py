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
        if name == "e5+use":  # the parts are the same objects "e5" and "use" give
            from bot.models.blend import USE_WEIGHT, BlendEncoder

            e5, use = load_encoder("e5"), load_encoder("use")
            if e5 is None or use is None:
                return None  # the part that could not load has said why
            return BlendEncoder([(e5, 1.0 - USE_WEIGHT), (use, USE_WEIGHT)])
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
