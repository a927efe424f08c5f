"""Delimited text (I9): which encoding and which delimiter a CSV, TSV or TXT export uses.

The encoding: a byte-order mark decides (UTF-8, UTF-16: Excel's "Unicode text"); otherwise
UTF-8 when the bytes are valid UTF-8; otherwise the legacy encoding charset-normalizer is sure
of, and cp1252 (what Excel writes on Western Windows) when it is not sure. The delimiter: comma,
semicolon (European Excel), tab or pipe, by csv.Sniffer over the first lines, falling back to
the one that splits the most lines into the same number of fields. `[csv] encoding` and
`delimiter` in tiersheet.toml override both.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter

DELIMITERS = ",;\t|"
LEGACY = "cp1252"
_BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def detect_encoding(data: bytes) -> str:
    """The encoding of a text export (I9)."""
    encoding = bom_encoding(data)
    if encoding:
        return encoding
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    results = from_bytes(data[:200_000])
    best = results.best()
    if best is None:
        return LEGACY
    # Short Western texts fit many code pages equally well (a cp1252 CSV of accented names can
    # come out as mac_iceland): cp1252 unless the detector prefers one decoding over all others.
    tied = [match for match in results if match.chaos <= best.chaos]
    candidates = {name.replace("-", "_").casefold() for match in tied
                  for name in (match.encoding, *match.could_be_from_charset)}
    if LEGACY in candidates or len(tied) > 1:
        return LEGACY
    return best.encoding


def detect_delimiter(text: str) -> str:
    """The delimiter among comma, semicolon, tab and pipe (I9)."""
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on some files (a title line, few rows): take the delimiter whose
    # split gives most lines the same number (above one) of fields.
    best, score = ",", 0
    for delimiter in DELIMITERS:
        widths = Counter(len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter))
        width, lines = max(widths.items(), key=lambda item: (item[1], item[0]), default=(0, 0))
        if width > 1 and lines > score:
            best, score = delimiter, lines
    return best


def read_delimited(data: bytes, encoding: str | None = None,
                   delimiter: str | None = None) -> list[list[str]]:
    """The rows of a delimited text file; quoted fields may hold delimiters and line breaks.
    A given encoding must fit (UnicodeDecodeError); cp1252 chosen in doubt takes what it can."""
    chosen = encoding or detect_encoding(data)
    text = data.decode(chosen, errors="replace" if chosen == LEGACY and not encoding else "strict")
    if text.startswith("\ufeff"):
        text = text[1:]
    delimiter = delimiter or detect_delimiter(text)
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
