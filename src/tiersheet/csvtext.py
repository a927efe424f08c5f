"""Text cells of the CSV files tiersheet writes for spreadsheets to open (index.csv), made safe
from formula injection (SPEC I8) in a way that can be undone exactly when the file is read back.

A spreadsheet takes a cell beginning with =, +, -, @ (also after spaces or line breaks), or holding a tab or
carriage return, for a formula; a leading single quote makes it show as the text it is. Text
that itself begins with a quote gets one more, so that `restored` strips exactly one quote and
gives back the original text whatever it was.
"""

from __future__ import annotations

import re

_NEEDS_QUOTE = re.compile(r"[ \t\r\n]*[=+\-@]|[\t\r]|'")


def neutral(text: str) -> str:
    """`text` as a CSV cell that no spreadsheet opens as a formula."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def restored(cell: str) -> str:
    """The text `neutral` was given: the inverse of neutral."""
    return cell[1:] if cell.startswith("'") else cell
