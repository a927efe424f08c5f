"""How much room text takes in a spreadsheet cell: its width in Calibri 11 and the lines it
wraps to in a column (for row heights, so that LibreOffice shows wrapped text whole)."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

# Wrapped text and row heights. LibreOffice keeps a row without a stored height at one line, so
# a wrapped cell would show its first line only: rows holding longer text get a height, from
# the text's width in Calibri 11 (Carlito's advance widths, which are Calibri's, in 1/2048 of
# an em) against the column's 7 pixels a character (Excel's; LibreOffice's columns are a little
# wider). Lines break at spaces only, so they are not undercounted.
LINE_HEIGHT = 15  # points, a line of Calibri 11 (Excel's default row height)
_ASCII_UNITS = [int(n) for n in (  # " " to "~"
    "463 667 821 1020 1038 1464 1397 452 621 621 1020 1020 511 627 517 791 1038 1038 1038 1038 1038 "
    "1038 1038 1038 1038 1038 548 548 1020 1020 1020 949 1831 1185 1114 1092 1260 1000 941 1292 1276 516 "
    "653 1064 861 1751 1322 1356 1058 1378 1112 941 998 1314 1162 1822 1063 998 959 628 791 628 1020 1020 "
    "596 981 1076 866 1076 1019 625 964 1076 470 490 931 470 1636 1076 1080 1076 1076 714 801 686 1076 925 "
    "1464 887 927 809 644 943 644 1020").split()]
_PIXELS_PER_UNIT = 11 * 96 / 72 / 2048  # 11 points at 96 pixels an inch
_CHAR_PIXELS = {chr(32 + i): units * _PIXELS_PER_UNIT for i, units in enumerate(_ASCII_UNITS)}
_CHAR_PIXELS |= {chr(i): _CHAR_PIXELS[" "] for i in range(32)} | {"\x7f": 0.0}  # control characters
_ASCII_PIXELS = _CHAR_PIXELS.__getitem__
_OTHER = 1185 * _PIXELS_PER_UNIT  # other letters (accented ones): as wide as "A"
_WIDE = 2048 * _PIXELS_PER_UNIT  # CJK and other full-width characters (from U+2E80): an em


def text_pixels(text: str) -> float:
    if text.isascii():
        return sum(map(_ASCII_PIXELS, text))
    return sum(_CHAR_PIXELS.get(c) or (_WIDE if c >= "\u2e80" else _OTHER) for c in text)


_NARROWEST = min(pixels for pixels in _CHAR_PIXELS.values() if pixels)  # every character but DEL is as wide


def surely_wider(text: str, room: float) -> bool:
    """Whether `text` is wider than `room` pixels by its length alone (measuring a text of
    thousands of characters to find it does not fit on one line takes longer than wrapping it)."""
    return len(text) * _NARROWEST > room * 1.001 and "\x7f" not in text


# Words' widths, remembered: long texts repeat their words (a lead's reason lists the partners
# in its turn, thousands of characters, on each of three thousand leads a month).
_WORD_PIXELS: dict[str, float] = {}


def text_lines(text: str, width: float, bold: bool = False) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide."""
    room = 7 * width / (1.03 if bold else 1)  # the column's 5 pixels of padding left to its margins
    if "\n" not in text and not surely_wider(text, room) and text_pixels(text) <= room:
        return 1
    space = _CHAR_PIXELS[" "]
    lines = 0
    if len(_WORD_PIXELS) > 65_536:
        _WORD_PIXELS.clear()
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            size = _WORD_PIXELS.get(word)
            if size is None:
                size = _WORD_PIXELS[word] = text_pixels(word)
            if used and used + space + size > room:
                lines += 1
                used = 0.0
            elif used:
                used += space
            if used + size > room:  # longer than a line: broken anywhere
                extra = math.ceil(size / room) - 1
                lines += extra
                size -= extra * room
            used += size
    return lines


@lru_cache(maxsize=4096)
def fixed_lines(text: str, width: float, bold: bool = False) -> int:
    """text_lines for the words workbooks repeat (headers, the Rules sheet, the Ledger's
    explanations, level names), worked out once a run rather than once a statement."""
    return text_lines(text, width, bold)


def row_lines(cells: Sequence[tuple[object, float]]) -> int:
    """The lines a row of wrapped (text, column width) cells takes (rows of fixed words: their
    line counts are remembered)."""
    return max((fixed_lines(text, width) for text, width in cells if isinstance(text, str)), default=1)


def tall_rows(texts: list, width: float, heights: dict[int, int]) -> None:
    """Record in `heights` (index -> lines) the texts that take more than one line."""
    fits = int(width * 7 / _WIDE)  # characters that fit on one line whatever they are
    known: dict[str, int] = {}
    for i, text in enumerate(texts):
        if type(text) is str and len(text) > fits:
            lines = known.get(text)
            if lines is None:
                lines = known[text] = fixed_lines(text, width)
            if lines > heights.get(i, 1):
                heights[i] = lines
