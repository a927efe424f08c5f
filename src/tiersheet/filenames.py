"""File names made from partner IDs (SPEC I8): an ID is untrusted input, so its file name never
leaves the statements folder, is never a name Windows reserves, and two IDs never share a file,
also on file systems that ignore case or Unicode normalisation (Windows, macOS)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable

MAX_STEM = 80  # characters kept from an ID; with the suffix and ".xlsx" well inside 255 bytes
RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
            *(f"{kind}{n}" for kind in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³"))}
_UNSAFE = re.compile(r"[^\w.\- ]")  # anything but letters, digits, _ . - and space


def neutral(text: str) -> str:
    """I8: text that a spreadsheet opening index.csv would take for a formula (beginning with
    =, +, -, @, also after spaces or line breaks, or with a tab or carriage return) gets a
    leading single quote, so it shows as the text it is."""
    return "'" + text if re.match(r"[ \t\r\n]*[=+\-@]|[\t\r]", text) else text


def plain(cell: str) -> str:
    """The text `neutral` was given: what `tiersheet email` reads back from index.csv."""
    return cell[1:] if cell.startswith("'") and neutral(cell[1:]) == cell else cell


def clean(partner_id: str) -> str:
    """The ID with every character a file name cannot safely hold replaced by "_", runs of "_"
    collapsed, and leading or trailing dots, spaces and "_" removed (a leading dot hides a file;
    Windows drops trailing ones), and leading "-" (a name that reads as a command-line option,
    and a cell a spreadsheet would take for a formula in index.csv); may be empty."""
    text = unicodedata.normalize("NFC", partner_id)
    text = "".join("_" if unicodedata.category(c)[0] == "C" else c for c in text)  # controls
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"_{2,}", "_", text).strip("._ ").lstrip("-._ ")
    return text[:MAX_STEM].rstrip("._ ")


def reserved(stem: str) -> bool:
    """Windows refuses CON, NUL, COM1... as a file name, with any extension and any case."""
    return stem.split(".")[0].rstrip(" ").upper() in RESERVED


def tag(partner_id: str, length: int = 8) -> str:
    """A short stable suffix from the ID itself (the same ID always gets the same one)."""
    return hashlib.sha256(partner_id.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def _key(stem: str) -> str:
    """Two stems that a case- or normalisation-insensitive file system takes for one file."""
    return unicodedata.normalize("NFC", stem).casefold()


def file_stems(partner_ids: Iterable[str]) -> dict[str, str]:
    """partner ID -> a file stem (no extension) unique among them, case-insensitively.

    An ID that is already a safe name keeps it. One that cleaning changed, or that is reserved or
    empty, gets "-" and a hash of the ID after its cleaned form ("a/b" -> "a_b-1b7d3e...");
    so does every ID whose name would clash with another's. The suffix comes from the ID alone,
    so a partner's file keeps its name from month to month unless a clashing ID appears."""
    ids = list(dict.fromkeys(partner_ids))
    length = 8
    while True:
        stems = {}
        for pid in ids:
            base = clean(pid)
            safe = base == pid and base and not reserved(base)
            stems[pid] = base if safe else f"{base or 'partner'}-{tag(pid, length)}"
        holders: dict[str, list[str]] = {}
        for pid, stem in stems.items():
            holders.setdefault(_key(stem), []).append(pid)
        for group in holders.values():
            if len(group) > 1:
                for pid in group:
                    stems[pid] = f"{clean(pid) or 'partner'}-{tag(pid, length)}"
        if len({_key(stem) for stem in stems.values()}) == len(stems):
            return stems
        length *= 2  # a suffixed name met another: longer suffixes (64 hex digits at most)
        if length > 64:
            raise ValueError("partner IDs whose file names cannot be told apart")
