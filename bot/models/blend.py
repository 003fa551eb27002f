"""Two encoders as one: e5 and the Universal Sentence Encoder side by side.

Each part's unit vectors are scaled by the square root of its weight and joined end to end, so
the joined vector is a unit vector too and a cosine between two of them is the weighted sum of
the parts' cosines. The core sees one `Encoder`, and the example-vector cache keys the joined
vectors by a name that carries the weights.

Why two: they were trained on different data and rank differently. E5 alone ranks the right
intent first for most of the residents' questions the project wrote; USE alone for fewer; a
tenth of USE beside e5 ranks more right than either (`python -m bench.fit_encoder_blend`,
docs/matching.md). USE takes about 3 ms a message, e5 20-35: USE runs in a worker thread beside
e5 (both engines release the GIL while they compute), so on two cores it adds almost nothing
(median 29 ms against 34 for one after the other, four messages of 10-40 characters).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bot.core.semantic import Encoder

# Chosen by `python -m bench.fit_encoder_blend` on the project's own question sets (never the
# development set): the weight with the most right nearest-example answers.
USE_WEIGHT = 0.1


class BlendEncoder:
    def __init__(self, parts: Sequence[tuple[Encoder, float]]) -> None:
        total = sum(weight for _, weight in parts)
        self._parts = [(encoder, math.sqrt(weight / total)) for encoder, weight in parts]
        self.name = "+".join(f"{encoder.name}*{weight / total:g}" for encoder, weight in parts)
        # The parts after the first run here while the first runs in the caller's thread; with
        # one part beside e5 (the bot's case), concurrent callers queue for it one at a time.
        self._beside = ThreadPoolExecutor(max(1, len(parts) - 1), thread_name_prefix="encode")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        (first, first_scale), *rest = self._parts
        pending = [(self._beside.submit(encoder.encode, texts), scale) for encoder, scale in rest]
        joined = [first_scale * first.encode(texts)]
        joined += [scale * future.result() for future, scale in pending]
        return np.hstack(joined).astype(np.float32)
