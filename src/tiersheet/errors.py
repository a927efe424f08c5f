"""The one base class of tiersheet's fatal errors, carrying the exit code the command line
ends with (as sqlite-utils does): the stages raise what went wrong in their own words, and
`cli` maps every one of them to one line and an exit code in one place.

Bad input rows are never errors: they travel with the data as `Problem` records (SPEC I7).
"""

from __future__ import annotations


class TiersheetError(Exception):
    """The command cannot go on; its message is one line that says what to do (exit 1)."""
    exit_code = 1


class UsageProblem(TiersheetError):
    """What was asked for cannot work as given: a bad option value, an unreadable rules file or
    tiersheet.toml, a missing program the option needs (exit 2)."""
    exit_code = 2
