"""The inbox's own settings: an optional tiersheet.toml (I1, I6, I9).

    [headers]            # other header names for our columns
    "Reseller Code" = "partner_id"
    [formats]
    dates = "DMY"        # or "MDY": the order of day and month in columns that do not decide it
    [csv]
    encoding = "cp1250"  # instead of detecting it
    delimiter = ";"      # instead of detecting it

Anything else is a usage error naming the key, never a guess.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from ..config import read_toml
from ..errors import UsageProblem
from .dates import ORDERS
from .kinds import ALL_FIELDS, normalise_header

MAPPING_FILE = "tiersheet.toml"


class InboxError(UsageProblem):
    """The inbox as a whole cannot be read (missing folder, bad tiersheet.toml): exit 2."""


@dataclass(frozen=True)
class InboxSettings:
    headers: dict[str, str] = field(default_factory=dict)  # normalised header -> our field
    dates: str | None = None                               # "DMY", "MDY" or None
    csv_encoding: str | None = None
    csv_delimiter: str | None = None


TABLES = {"headers": None, "formats": {"dates"}, "csv": {"encoding", "delimiter"}}


def load_settings(folder: Path) -> InboxSettings:
    path = folder / MAPPING_FILE
    if not path.exists():
        return InboxSettings()
    try:
        raw = read_toml(path)
    except ValueError as exc:
        raise InboxError(f"header mapping {exc}") from None
    for key, value in raw.items():
        if key not in TABLES:
            raise InboxError(f"{path}: unknown key '{key}' (expected [headers], [formats] or [csv])")
        if not isinstance(value, dict):
            raise InboxError(f"{path}: key '{key}' must be a table")
        allowed = TABLES[key]
        for name in value if allowed is not None else ():
            if name not in allowed:
                raise InboxError(f"{path}: unknown key '{key}.{name}' (expected {', '.join(sorted(allowed))})")
    headers = {}
    for theirs, ours in raw.get("headers", {}).items():
        if not isinstance(ours, str) or ours not in ALL_FIELDS:
            raise InboxError(f"{path}: key 'headers.{theirs}' must name one of our columns, not {ours!r}")
        headers[normalise_header(theirs)] = ours
    dates = raw.get("formats", {}).get("dates")
    if dates is not None and (not isinstance(dates, str) or dates.upper() not in ORDERS):
        raise InboxError(f"{path}: key 'formats.dates' must be \"DMY\" or \"MDY\", not {dates!r}")
    csv = raw.get("csv", {})
    encoding, delimiter = csv.get("encoding"), csv.get("delimiter")
    if encoding is not None:
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            raise InboxError(f"{path}: key 'csv.encoding' is not an encoding Python knows: {encoding!r}") from None
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InboxError(f"{path}: key 'csv.delimiter' must be one character, such as \";\" or \"\\t\", not {delimiter!r}")
    return InboxSettings(headers, dates.upper() if dates else None,
                         str(encoding) if encoding else None, delimiter)
