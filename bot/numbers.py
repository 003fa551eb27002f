"""Parsing whole numbers from text: ASCII digits only.

The one parser for numbers that operators, residents and callback data spell out (settings,
/insights days, a menu choice in `chat`, a report's number on a review button). It imports
nothing of the package, so configuration and every layer can use it.
"""

from __future__ import annotations

MAX_DIGITS = 18  # longer digit strings are no setting's value or id (and int() refuses 4,300+)


def ascii_whole_number(text: str, signed: bool = False) -> int | None:
    """`text` as an int if it is ASCII digits (after one '-' when `signed`), else None.

    str.isdigit() and int() also take superscripts (²) and other scripts' digits (١٢٣),
    which no setting or id is written in; SQLite's integers hold no more than 18 of them.
    """
    digits = text[1:] if signed and text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_DIGITS:
        return None
    return int(text)
