"""The input contract (I1-I6, R17 adjustments): one declarative description per input kind.

Everything that reads, checks or writes inputs (the reader, settling, the engine's month list,
`check` and `templates`) reads these descriptions; nothing else lists a kind's columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A field's type says how its cells are read (values.py, dates.py, money.py) and what a blank
# optional cell means. The types:
#   text, id, code (upper-case text), list (comma-separated), email
#   date (a day: real date, Excel serial or text in a per-column order), month (rates)
#   amount (signed money: credit notes), money (money of 0 or more), rate (a positive factor)
#   count (a whole number of 0 or more), points (a count with a sanity limit),
#   signed_points (a whole number of points, either sign: R17 adjustments)
#   yes (yes/no), level (a status name), activity (an activity type), sale_type
MONEY_TYPES = {"amount", "money", "rate"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False
    blank: object = None      # the value of a blank optional cell
    lenient: bool = False     # a bad cell is a warning and counts as blank: I7 requirement cells
    in_usd: bool = False      # money in US dollars (a sign or code of another currency is a problem)

    @property
    def header(self) -> str:
        """The column header as templates write it: 'Invoice ID', 'Amount USD' (I1)."""
        words = {"id": "ID", "usd": "USD", "nda": "NDA", "nfr": "NFR"}
        return " ".join(words.get(w, w.capitalize()) for w in self.name.split("_"))


@dataclass(frozen=True)
class Kind:
    name: str                       # "claims"
    label: str                      # "co-op claims", as Reconciliation's Kind column says it
    fields: tuple[Field, ...]
    key: tuple[str, ...]            # what makes two rows the same row (I7 duplicates)
    marks: tuple[str, ...]          # the columns whose presence names the kind (I1)
    date_field: str | None = None   # the event date that places a row in a month (R2)
    one_of: tuple[str, ...] = ()    # at least one of these columns is required (sales: I3)
    extra: tuple[str, ...] = ()     # columns the reader adds beyond the fields

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def read_names(self) -> list[str]:
        """The columns of its rows as the reader gives them: the fields, where each row came
        from, and the reader's extras (a sale's usd_rate comes later, with its currency's rate)."""
        return self.names + PROVENANCE + [name for name in self.extra if name != "usd_rate"]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def _yes(name: str) -> Field:
    return Field(name, "yes", blank=False, lenient=True)


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("sales", "sales", (
        Field("invoice_id", "id", required=True),
        Field("partner_id", "id", required=True),
        Field("invoice_date", "date", required=True),
        Field("product", "text"), Field("edition", "text"),
        Field("sale_type", "sale_type", blank="licence"),
        Field("amount_usd", "amount", in_usd=True),
        Field("amount", "amount"),
        Field("currency", "code", blank=""),
    ), key=("invoice_id",), marks=("invoice_id",), date_field="invoice_date",
        one_of=("amount_usd", "amount"), extra=("usd_rate",)),
    Kind("activities", "activities", (
        Field("activity_id", "id", required=True),
        Field("partner_id", "id", required=True),
        Field("date", "date", required=True),
        Field("activity", "activity", required=True),
        Field("approved_on", "date"),
        Field("description", "text"),
    ), key=("activity_id",), marks=("activity_id",), date_field="date", extra=("activity_text",)),
    Kind("leads", "leads", (
        Field("lead_id", "id", required=True),
        Field("received_on", "date", required=True),
        Field("territory", "code", required=True),
        Field("company", "text"), Field("contact", "text"),
    ), key=("lead_id",), marks=("lead_id",), date_field="received_on"),
    Kind("claims", "co-op claims", (
        Field("claim_id", "id", required=True),
        Field("partner_id", "id", required=True),
        Field("date", "date", required=True),
        Field("expense_usd", "money", required=True, in_usd=True),
        Field("requested_usd", "money", in_usd=True),
        Field("description", "text"),
    ), key=("claim_id",), marks=("claim_id",), date_field="date"),
    # R17: a channel manager's correction, kept in the inbox so that no re-run loses it.
    Kind("adjustments", "adjustments", (
        Field("adjustment_id", "id", required=True),
        Field("partner_id", "id", required=True),
        Field("date", "date", required=True),
        Field("points", "signed_points", blank=0),
        Field("status", "level"),
        Field("until", "month"),
        Field("reason", "text", required=True),
        Field("approved_by", "text", required=True),
    ), key=("adjustment_id",), marks=("adjustment_id",), date_field="date"),
    Kind("rates", "rates", (
        Field("currency", "code", required=True),
        Field("month", "month", required=True),
        Field("usd_rate", "rate", required=True),
    ), key=("currency", "month"), marks=("currency", "usd_rate")),
    Kind("partners", "partners", (
        Field("partner_id", "id", required=True),
        Field("partner_name", "text", required=True),
        Field("email", "text"),
        Field("territories", "list", blank=()),
        Field("joined_on", "date"),
        Field("starting_status", "level"),
        Field("opening_points", "points", blank=0),
        Field("certificate_issued_on", "date"),
        Field("as_of", "date"),
        _yes("partner_agreement"), _yes("nda"),
        Field("certified_engineers", "count", blank=0, lenient=True),
        Field("certified_sales_specialists", "count", blank=0, lenient=True),
        _yes("first_line_support"), _yes("logo_on_website"),
        _yes("product_descriptions_on_website"),
        Field("sales_commitment_usd", "money", lenient=True, in_usd=True),
        _yes("forecast_submitted"),
        Field("prior_intranet_sale", "yes", blank=False),
        Field("nfr_issued", "list", blank=()),
    ), key=("partner_id", "as_of"), marks=("partner_id", "partner_name")),
)}

# Event kinds, those whose rows fall in a month (R2): sales, activities, leads, claims, adjustments.
DATED_KINDS = [kind for kind in KINDS.values() if kind.date_field]
PROVENANCE = ["source_file", "source_sheet", "source_row"]

# Spellings of our columns that exports commonly use (normalised); tiersheet.toml adds more.
HEADER_ALIASES = {"1stlinesupport": "first_line_support", "nondisclosureagreement": "nda",
                  "electronicpartneragreement": "partner_agreement"}


def normalise_header(text: object) -> str:
    """'Partner ID', 'partner_id' and 'PARTNER-ID' all become 'partnerid' (I1)."""
    return re.sub(r"[\W_]+", "", str(text).casefold())


KNOWN_HEADERS = {normalise_header(f.name): f.name for kind in KINDS.values() for f in kind.fields} \
    | HEADER_ALIASES
ALL_FIELDS = {f.name for kind in KINDS.values() for f in kind.fields}


def detect_kind(fields: set[str]) -> str | None:
    """A sheet's kind from the canonical fields in its header row (I1): the first kind, in the
    order above, whose marking columns are all there."""
    for kind in KINDS.values():
        if set(kind.marks) <= fields:
            return kind.name
    return None


def complete_kind(fields: set[str]) -> str | None:
    """The kind whose required columns a header row names in full, if any (I1: that row is the
    header, whatever title rows stand above it)."""
    kind = detect_kind(fields)
    if kind is None:
        return None
    spec = KINDS[kind]
    if not set(spec.required) <= fields or (spec.one_of and not set(spec.one_of) & fields):
        return None
    return kind
