"""The record that travels with the data when an input row (or file, or sheet) is wrong.

Bad input never raises: it becomes a Problem naming where it is and what was done about it,
so one bad cell never costs the rest of the run (SPEC I7).
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"          # the row (or sheet, or file) was rejected
WARNING = "warning"      # the row was used, with the stated assumption
DUPLICATE = "duplicate"  # an exact duplicate, counted once: reported, not a problem (O7)
NOTE = "note"            # information (rows outside the run, skipped title rows): not a problem (I7)
NOTED = "noted (not a problem)"  # the Action of every note, so formulas can tell notes apart


@dataclass(frozen=True)
class Problem:
    file: str
    sheet: str
    row: int | None      # as the spreadsheet numbers it; None for a whole file or sheet
    column: str
    value: str
    message: str
    action: str
    severity: str = ERROR

    @property
    def is_problem(self) -> bool:
        """Exact duplicates and notes are reported but are not problems (I7, O7, O8 --strict)."""
        return self.severity not in (DUPLICATE, NOTE)

    def __str__(self) -> str:
        where = self.file
        if self.sheet:
            where += f" [{self.sheet}]"
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", {self.column}"
        value = f" = {self.value!r}" if self.value != "" else ""
        return f"{where}{value}: {self.message} ({self.action})"
