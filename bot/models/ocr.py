"""Reading the text of a picture (a screenshot of a WeChat or SMS message), offline.

One small interface, `TextReader.read_text(image_bytes) -> str`, over RapidOCR's PP-OCR
models, which ship inside the `rapidocr` wheel: the reader names those files itself, so
RapidOCR never takes its download path. Heavy imports happen on first use only.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# RapidOCR 3.10's default detection and recognition models, as its wheel ships them (the
# angle classifier is left out: screenshots are upright).
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}


MAX_SIDE = 1280


class TextReader(Protocol):
    def read_text(self, image_bytes: bytes) -> str: ...


class NotAnImage(ValueError):
    """The bytes are no picture Pillow can open (or a format it does not know, like HEIC)."""


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def image_size(image_bytes: bytes) -> ImageSize:
    """Width and height from the file's header alone: nothing is decoded, so a huge or
    malicious picture costs nothing to measure."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            return ImageSize(*image.size)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NotAnImage(str(exc)) from exc


def model_folder() -> Path:
    """The `models/` folder inside the installed rapidocr package (found without importing
    it, so this costs nothing)."""
    from importlib.util import find_spec

    spec = find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise ImportError("the rapidocr package is not installed")
    return Path(spec.origin).parent / "models"


def available() -> str | None:
    """None when the OCR packages are installed, else what is missing (for the log)."""
    from importlib.util import find_spec

    missing = [name for name in ("rapidocr", "onnxruntime") if find_spec(name) is None]
    return ", ".join(missing) + " not installed" if missing else None


@dataclass(frozen=True)
class Box:
    """One line RapidOCR found: its text and where it is on the picture."""

    text: str
    left: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


_ASCII_END = re.compile(r"[A-Za-z0-9/._\-?=&%#:]$")
_ASCII_START = re.compile(r"^[A-Za-z0-9/._\-?=&%#]")
_IN_A_LINK = re.compile(r"(?:https?://|www\.)\S*$|\.[a-z]{2,6}/\S*$", re.IGNORECASE)


def join_lines(boxes: Sequence[Box]) -> str:
    """The lines of a screenshot as text: a bubble's wrapped lines are joined again (a link
    broken over two lines becomes one link), separate bubbles stay on separate lines, and
    pieces side by side on one row (a status bar) are separated by a space."""
    lines: list[str] = []
    previous: Box | None = None
    for row in _rows(boxes):
        first, text = row[0], " ".join(box.text for box in row)
        if previous is not None and _same_bubble(previous, first) and len(row) == 1:
            lines[-1] += _glue(lines[-1], text) + text
        else:
            lines.append(text)
        previous = row[-1] if len(row) > 1 else first
    return "\n".join(lines)


def _rows(boxes: Sequence[Box]) -> list[list[Box]]:
    """Boxes that overlap vertically by more than half a line are one row, left to right."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.top):
        row = rows[-1] if rows else None
        if row is not None and box.top < min(b.bottom for b in row) - box.height / 2:
            row.append(box)
        else:
            rows.append([box])
    return [sorted(row, key=lambda b: b.left) for row in rows]


def _same_bubble(above: Box, below: Box) -> bool:
    """The next line of the same bubble: close below, starting where the line above starts."""
    gap = below.top - above.bottom
    return gap < above.height * 0.6 and abs(below.left - above.left) < above.height * 1.5


def _glue(before: str, after: str) -> str:
    """Nothing between wrapped Chinese lines or the two halves of a link; a space between
    wrapped English words."""
    if _ASCII_END.search(before) and _ASCII_START.match(after):
        last_word = before.rsplit(maxsplit=1)[-1] if before.strip() else ""
        return "" if _IN_A_LINK.search(last_word) else " "
    return ""


def _boxes(output: Any) -> list[Box]:
    if output is None or output.boxes is None or output.txts is None:
        return []
    boxes = []
    for corners, text in zip(output.boxes, output.txts, strict=True):
        xs, ys = [float(p[0]) for p in corners], [float(p[1]) for p in corners]
        if text.strip():
            boxes.append(Box(text.strip(), min(xs), min(ys), max(ys)))
    return boxes


class RapidTextReader:
    """RapidOCR with the models inside its own wheel; loaded on the first picture."""

    def __init__(self, threads: int = -1) -> None:
        self.threads = threads
        self._engine: Any = None

    def model_paths(self) -> dict[str, Path]:
        folder = model_folder()
        return {part: folder / name for part, name in MODEL_FILES.items()}

    def load(self) -> None:
        if self._engine is not None:
            return
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,  # screenshots are upright: no angle classifier
            # The longest side the detector works on. Telegram delivers photos at 1280 px;
            # a file (原图) is brought to the same size: on the project's screenshots that
            # reads as many characters as 2000 px (RapidOCR's default) in a third of the time
            # (python -m bench.bench_ocr).
            "Global.max_side_len": MAX_SIDE,
        }
        for part, path in self.model_paths().items():
            if not path.is_file():  # RapidOCR would download it: refuse instead
                raise FileNotFoundError(f"OCR model missing from the rapidocr package: {path}")
            params[f"{part}.model_path"] = str(path)
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.threads
        self._engine = RapidOCR(params=params)

    def read_text(self, image_bytes: bytes) -> str:
        import numpy as np
        from PIL import Image, UnidentifiedImageError

        self.load()
        try:
            with Image.open(io.BytesIO(image_bytes)) as image:
                pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]  # RapidOCR wants BGR
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise NotAnImage(str(exc)) from exc
        return join_lines(_boxes(self._engine(pixels)))
