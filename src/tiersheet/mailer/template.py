"""The editable wording of a message: a `Subject:` line, a blank line, then the plain-text body,
with `$placeholders` (string.Template) for the partner's figures. Lines starting with `#` before
the subject are comments. The HTML alternative is made from the same text, every value escaped."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from string import Template

from ..months import month_end
from .errors import MailUsageError

STATEMENT_PLACEHOLDERS = (
    "partner_id", "partner_name", "month", "month_iso", "status", "opening_status",
    "status_summary", "change", "change_note", "opening_points", "sales_points", "bonus_points",
    "activity_points", "adjustment_points", "closing_points", "margin", "next_status",
    "points_to_next", "next_step", "missing_for_status", "missing_for_next", "at_risk",
    "risk_note", "certificate_expires", "statement_file", "correction_note",
    "month_close_points", "month_close_note", "certificate_status",
)
CHANNEL_PLACEHOLDERS = (
    "month", "month_iso", "workbook_file", "partners", "by_status", "upgrades", "downgrades",
    "renewals", "lapses", "at_risk", "changes", "correction_note",
)


@dataclass(frozen=True)
class Wording:
    """A parsed template: the subject, the body, and the body with its own text HTML-escaped."""
    subject: Template
    body: Template
    html_body: Template

    @classmethod
    def of(cls, subject: str, body: str) -> "Wording":
        return cls(Template(subject), Template(body), Template(html.escape(body, quote=False)))

    def subject_for(self, values: dict[str, str]) -> str:
        return " ".join(self.subject.substitute(values).split())

    def text_for(self, values: dict[str, str]) -> str:
        return tidy(self.body.substitute(values)) + "\n"

    def html_for(self, values: dict[str, str]) -> str:
        """The body as simple HTML, every value escaped, a paragraph per blank-line block."""
        escaped = {name: html.escape(value) for name, value in values.items()}
        blocks = tidy(self.html_body.substitute(escaped)).split("\n\n")
        paragraphs = "\n".join("<p>" + block.replace("\n", "<br>\n") + "</p>" for block in blocks)
        return ('<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n'
                + paragraphs + "\n</body></html>\n")


def tidy(text: str) -> str:
    """Placeholders that are empty for this partner leave no run of blank lines behind."""
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def default_path(name: str) -> Path:
    return Path(str(resources.files(__package__) / name))


def load_wording(path: Path, placeholders: tuple[str, ...]) -> Wording:
    """Read and check a template: a missing subject, a stray `$` or a placeholder not in
    `placeholders` is a usage error that names it and lists the valid ones."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MailUsageError(f"cannot read template {path}: {exc}") from None
    lines = text.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    if not lines or not lines[0].lower().startswith("subject:"):
        raise MailUsageError(f"template {path}: the first line (after # comments) must be "
                             f"'Subject: ...', then a blank line, then the body")
    if len(lines) > 1 and lines[1].strip():
        raise MailUsageError(f"template {path}: put a blank line between the Subject line and the body")
    wording = Wording.of(lines[0][len("subject:"):].strip(), "\n".join(lines[2:]))
    subject, body = wording.subject, wording.body
    valid = ", ".join(f"${name}" for name in placeholders)
    for part in (subject, body):
        if not part.is_valid():
            raise MailUsageError(f"template {path}: a '$' that starts no placeholder "
                                 f"(write $$ for a dollar sign); valid placeholders: {valid}")
    unknown = sorted({name for part in (subject, body) for name in part.get_identifiers()}
                     - set(placeholders))
    if unknown:
        raise MailUsageError(f"template {path}: unknown placeholder(s) "
                             f"{', '.join('$' + name for name in unknown)}; valid placeholders: {valid}")
    return wording


# What the placeholders say: the Partners sheet's cached values, formatted, never recomputed.

def number(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    return str(value)


def percent(value: object) -> str:
    return f"{value * 100:g}%" if isinstance(value, (int, float)) else number(value)


def day(value: object) -> str:
    return f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else number(value)


def text(value: object) -> str:
    return "" if value is None else str(value).strip()


def signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value)


def as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def month_close(row: dict, status: str, change: str) -> tuple[float | None, str]:
    """The month close's movement, the Ledger's "Month close" line: closing minus the month's
    other movements (its formula there), non-zero when a downgrade reset the points to the new
    status's threshold (R10) or the balance was kept from going below 0 (R3); and the words for
    it in the points line ("" when it is zero)."""
    figures = [row["Opening points"], row["Sales points"], row["Bonus points"],
               row["Activity points"], row.get("Adjustment points") or 0, row["Closing points"]]
    if not all(isinstance(value, (int, float)) for value in figures):
        return None, ""
    *movements, closing = figures
    moved = round(closing - sum(movements), 6)
    if not moved:
        return 0, ""
    if change == "Downgrade":
        return moved, f", reset to the {status} threshold {signed(moved)}"
    if moved > 0 and sum(movements) < 0:
        return moved, f", raised to 0 at month close {signed(moved)}"
    return moved, f", month close {signed(moved)}"


def statement_values(month: str, month_iso: str, row: dict, statement_file: str,
                     correction_note: str) -> dict[str, str]:
    """Every statement placeholder for one partner's Partners sheet row. A certificate dated on
    or before the month's end has expired (a lapse, or a level held by an R17 adjustment): the
    words say so, and what renews it, rather than "valid until" a past date."""
    status, opening, change = text(row["Status"]), text(row["Opening status"]), text(row["Change"])
    next_status, missing_next = text(row["Next status"]), text(row["Missing for next"])
    missing_status = text(row["Missing for status"])
    points_to_next = row["Points to next"]
    expires = as_date(row["Certificate expires"])
    expired = expires is not None and expires <= month_end(date.fromisoformat(f"{month_iso}-01"))
    certificate = day(row["Certificate expires"])
    certificate_status = ("" if not certificate else f"expired on {certificate}" if expired
                          else f"valid until {certificate}")
    summary = {"Upgrade": f"{status} (upgraded from {opening})",
               "Downgrade": f"{status} (downgraded from {opening})",
               "Renewed": f"{status} (certificate renewed)",
               "Lapsed": f"{status} (certificate lapsed)"}.get(change, status)
    lapsed = (f"Your {status} certificate expired on {certificate} and was not renewed: the "
              f"{status} requirements are not met." if certificate
              else f"Your {status} certificate has lapsed: the {status} requirements are not met.")
    change_note = {
        "Upgrade": f"Congratulations: you have been upgraded from {opening} to {status}.",
        "Downgrade": f"Your status has been downgraded from {opening} to {status}.",
        "Renewed": f"Your {status} certificate has been renewed for another year.",
        "Lapsed": lapsed,
    }.get(change, "")
    regain = change == "Downgrade" and next_status == opening
    if not next_status:
        next_step = f"{status} is the programme's highest status."
    elif isinstance(points_to_next, (int, float)) and points_to_next > 0:
        next_step = (f"To regain {next_status}, you need {number(points_to_next)} more points." if regain
                     else f"You need {number(points_to_next)} more points for {next_status}.")
    else:
        next_step = (f"You have the points to regain {next_status}." if regain
                     else f"You have the points for {next_status}.")
    if next_status and missing_next:
        next_step += f" Still missing for {next_status}: {missing_next}."
    at_risk = text(row["At risk"]).lower()
    risk_note = ""
    if at_risk == "yes" and missing_status:
        risk_note = (f"To have your {status} certificate renewed, please see to: {missing_status}."
                     if expired else f"To keep your {status} status, please see to: {missing_status}.")
    moved, month_close_note = month_close(row, status, change)
    return {
        "partner_id": text(row["Partner ID"]), "partner_name": text(row["Partner"]),
        "month": month, "month_iso": month_iso, "status": status, "opening_status": opening,
        "status_summary": summary, "change": change, "change_note": change_note,
        "opening_points": number(row["Opening points"]), "sales_points": number(row["Sales points"]),
        "bonus_points": number(row["Bonus points"]),
        "activity_points": number(row["Activity points"]),
        "adjustment_points": number(row.get("Adjustment points") or 0),
        "closing_points": number(row["Closing points"]), "margin": percent(row["Margin %"]),
        "next_status": next_status, "points_to_next": number(points_to_next),
        "next_step": next_step, "missing_for_status": missing_status,
        "missing_for_next": missing_next, "at_risk": at_risk, "risk_note": risk_note,
        "certificate_expires": certificate, "certificate_status": certificate_status,
        "month_close_points": number(moved), "month_close_note": month_close_note,
        "statement_file": statement_file, "correction_note": correction_note,
    }


def channel_values(month: str, month_iso: str, workbook_file: str, rows: list[dict],
                   correction_note: str, listed: int = 50) -> dict[str, str]:
    """Every channel placeholder: the month's counts and who changed status."""
    statuses: dict[str, int] = {}
    changes: dict[str, int] = {}
    lines = []
    for row in rows:
        status, change = text(row["Status"]), text(row["Change"])
        statuses[status] = statuses.get(status, 0) + 1
        changes[change] = changes.get(change, 0) + 1
        if change in ("Upgrade", "Downgrade"):
            lines.append(f"  {text(row['Partner ID'])} {text(row['Partner'])}: {change.lower()} "
                         f"from {text(row['Opening status'])} to {status}")
    if len(lines) > listed:
        lines[listed:] = [f"  ... and {len(lines) - listed} more (see the Summary sheet)"]
    return {
        "month": month, "month_iso": month_iso, "workbook_file": workbook_file,
        "partners": number(len(rows)),
        "by_status": ", ".join(f"{number(count)} {name}" for name, count in statuses.items()),
        "upgrades": number(changes.get("Upgrade", 0)),
        "downgrades": number(changes.get("Downgrade", 0)),
        "renewals": number(changes.get("Renewed", 0)), "lapses": number(changes.get("Lapsed", 0)),
        "at_risk": number(sum(1 for row in rows if text(row["At risk"]).lower() == "yes")),
        "changes": "Status changes:\n" + "\n".join(lines) if lines else "",
        "correction_note": correction_note,
    }
