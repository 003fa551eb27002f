"""Render the phone screenshots of tests/data/screenshots/screens.yaml as PNG files.

`python -m tests.render_screenshots` rewrites tests/data/screenshots/*.png; it needs Pillow
(installed with the bot) and a CJK font (Debian: `apt-get install fonts-wqy-zenhei`). The
PNGs are committed, so tests and benchmarks need no font. `telegram_jpeg` makes the JPEG
Telegram would deliver of a photo (longest side 1280 px), for the tests and the benchmark.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

FOLDER = Path(__file__).resolve().parent / "data" / "screenshots"
FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
WIDTH, HEIGHT = 1080, 2340  # a common phone screen, in pixels


@dataclass(frozen=True)
class Palette:
    background: str
    bar: str
    bar_text: str
    received: str
    sent: str
    text: str
    sent_text: str


PALETTES = {
    "chat": Palette("#EDEDED", "#EDEDED", "#111111", "#FFFFFF", "#95EC69", "#111111", "#111111"),
    "dark": Palette("#111111", "#1E1E1E", "#D5D5D5", "#2C2C2C", "#3EB575", "#D5D5D5", "#0F0F0F"),
    "sms": Palette("#FFFFFF", "#F7F7F7", "#111111", "#E9E9EB", "#0A84FF", "#111111", "#FFFFFF"),
}


def load_screens() -> list[dict]:
    return yaml.safe_load((FOLDER / "screens.yaml").read_text(encoding="utf-8"))["screens"]


def screen_text(screen: dict) -> str:
    """What a perfect reader would read of the messages, one bubble per line."""
    return "\n".join(text for _, text in screen["messages"])


def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    sys.exit("no CJK font found: apt-get install fonts-wqy-zenhei")


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list:
    """Break a message into lines as a phone does: anywhere, as wide as the bubble allows."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width and line:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    return [*lines, line] if line else lines


def render(screen: dict) -> Image.Image:
    palette = PALETTES[screen["layout"]]
    image = Image.new("RGB", (WIDTH, HEIGHT), palette.background)
    draw = ImageDraw.Draw(image)
    small, title, body = _font(34), _font(44), _font(46)
    # Status bar and title bar: text the reader sees too, as on a real screenshot.
    draw.rectangle((0, 0, WIDTH, 250), fill=palette.bar)
    draw.text((50, 30), "14:32", font=small, fill=palette.bar_text)
    draw.text((WIDTH - 160, 30), "87%", font=small, fill=palette.bar_text)
    draw.text((50, 140), "<", font=title, fill=palette.bar_text)
    title_width = draw.textlength(screen["title"], font=title)
    draw.text(((WIDTH - title_width) / 2, 140), screen["title"], font=title, fill=palette.bar_text)
    top = 320
    if screen["layout"] == "sms":
        label = "今天 09:41"
        draw.text(
            ((WIDTH - draw.textlength(label, font=small)) / 2, top),
            label,
            font=small,
            fill="#8E8E93",
        )
        top += 90
    for side, text in screen["messages"]:
        lines = _wrap(draw, text, body, 640)
        line_height = 66
        bubble_width = max(draw.textlength(line, font=body) for line in lines) + 60
        bubble_height = line_height * len(lines) + 40
        received = side == "in"
        if screen["layout"] != "sms":  # a messaging app shows avatars
            avatar_x = 40 if received else WIDTH - 140
            draw.rounded_rectangle(
                (avatar_x, top, avatar_x + 100, top + 100),
                12,
                fill="#7A9CC6" if received else "#C69C7A",
            )
        left = 170 if received else WIDTH - 170 - bubble_width
        if screen["layout"] == "sms":
            left = 40 if received else WIDTH - 40 - bubble_width
        draw.rounded_rectangle(
            (left, top, left + bubble_width, top + bubble_height),
            18,
            fill=palette.received if received else palette.sent,
        )
        colour = palette.text if received else palette.sent_text
        for number, line in enumerate(lines):
            draw.text((left + 30, top + 20 + number * line_height), line, font=body, fill=colour)
        top += bubble_height + 50
    # The input bar at the bottom.
    draw.rectangle((0, HEIGHT - 170, WIDTH, HEIGHT), fill=palette.bar)
    return image


def telegram_jpeg(png: bytes, quality: int = 80) -> bytes:
    """The photo Telegram delivers of a screenshot: longest side 1280 px, JPEG."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.thumbnail((1280, 1280))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def main() -> int:
    for screen in load_screens():
        path = FOLDER / f"{screen['id']}.png"
        render(screen).save(path, optimize=True)
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
