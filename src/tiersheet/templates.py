"""`tiersheet templates DIR`: blank input workbooks to hand to colleagues and systems (SPEC O7).

One workbook per input kind, made from the kinds' own descriptions (inbox/kinds.py), so a
template can never disagree with what the reader expects: the exact headers, column formats,
drop-down lists for the closed lists (yes/no, levels, activity types, sale types, currencies),
an input message on every header cell, a frozen header row and an Instructions sheet. Beside
them: the default rules file, the default email template and an example tiersheet.toml.

The files are the same byte for byte every time (a fixed creation date), so the repository's
`templates/` folder can be checked against what the command writes.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from .config import Rules, default_rules_path
from .errors import UsageProblem
from .inbox.kinds import KINDS, Field, Kind
from .outputs import atomic_output, write_bytes

CREATED = datetime(2025, 1, 1)
DATA_ROWS = 5000  # rows that carry the formats and drop-downs
CURRENCIES = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "CNY", "INR", "BRL", "MXN", "PLN",
              "CZK", "SEK", "NOK", "DKK", "HUF", "RON", "TRY", "UAH", "KZT", "RUB", "ZAR", "SGD"]
FILE_NAMES = {"partners": "partners.xlsx", "sales": "sales.xlsx", "activities": "activities.xlsx",
              "leads": "leads.xlsx", "claims": "coop-claims.xlsx", "adjustments": "adjustments.xlsx",
              "rates": "rates.xlsx"}
SHEET_NAMES = {"partners": "Partners", "sales": "Sales", "activities": "Activities", "leads": "Leads",
               "claims": "Co-op claims", "adjustments": "Adjustments", "rates": "Rates"}

# What goes in each column, for the input message on its header cell (at most 255 characters).
HELP: dict[str, dict[str, str]] = {
    "partners": {
        "partner_id": "The partner's ID, as your other exports write it. Required.",
        "partner_name": "The partner's company name. Required.",
        "email": "Where statements go: one address, or several separated by commas or semicolons.",
        "territories": "Territory codes for lead rotation (R14), separated by commas: DE, AT.",
        "joined_on": "The date the partner joined the programme. Rows dated earlier are refused.",
        "starting_status": "The level the partner starts at (from the list). Blank: the lowest level.",
        "opening_points": "Points carried in when the partner starts (a whole number).",
        "certificate_issued_on": "The date the current certificate was issued (R10).",
        "as_of": "For a later snapshot of the same partner: the date it applies from. Blank for the first.",
        "partner_agreement": "Electronic partner agreement signed? yes or no (R6).",
        "nda": "Non-disclosure agreement signed? yes or no (R6).",
        "certified_engineers": "How many certified engineers the partner has (R6).",
        "certified_sales_specialists": "How many certified sales specialists the partner has (R6).",
        "first_line_support": "Does the partner give 1st line support? yes or no (R6).",
        "logo_on_website": "Is the vendor's logo on the partner's website? yes or no (R6).",
        "product_descriptions_on_website": "Are product descriptions on the partner's website? yes or no (R6).",
        "sales_commitment_usd": "The agreed quarterly sales volume in US dollars (R7). Blank: none agreed.",
        "forecast_submitted": "Has the partner submitted its sales forecast? yes or no (R6).",
        "prior_intranet_sale": "Had the partner sold Intranet before joining? yes or no (R12).",
        "nfr_issued": "NFR editions already issued, separated by commas (R13).",
    },
    "sales": {
        "invoice_id": "The invoice number; each invoice once. Required.",
        "partner_id": "The selling partner's ID (as on the partners sheet). Required.",
        "invoice_date": "The invoice date. Required; it places the sale in its month.",
        "product": "The product sold, e.g. Bitrix Intranet.",
        "edition": "The edition sold, e.g. BizPace.",
        "sale_type": "licence or renewal (from the list). Blank: licence.",
        "amount_usd": "The amount in US dollars; negative for a credit note. Or fill Amount and Currency.",
        "amount": "The amount in the invoice's currency, when Amount USD is blank.",
        "currency": "The currency of Amount (from the list); its monthly rate goes on a rates sheet.",
    },
    "activities": {
        "activity_id": "An ID for the activity; each once. Required.",
        "partner_id": "The partner's ID. Required.",
        "date": "The date the activity took place. Required.",
        "activity": "The activity type (from the list; R5). Required.",
        "approved_on": "The date the vendor approved it, for types that need prior approval (R5).",
        "description": "What was done, in a few words.",
    },
    "leads": {
        "lead_id": "The lead's ID; each once. Required.",
        "received_on": "The date the lead came in. Required.",
        "territory": "The lead's territory code, e.g. DE (R14). Required.",
        "company": "The prospect's company.",
        "contact": "The prospect's contact person.",
    },
    "claims": {
        "claim_id": "The claim's ID; each once. Required.",
        "partner_id": "The claiming partner's ID. Required.",
        "date": "The date of the claim. Required.",
        "expense_usd": "The marketing expense in US dollars (0 or more). Required.",
        "requested_usd": "The reimbursement asked for in US dollars, if less than the share (R15).",
        "description": "What the money was spent on.",
    },
    "adjustments": {
        "adjustment_id": "An ID for the correction; each once. Required.",
        "partner_id": "The partner it corrects. Required.",
        "date": "The date of the correction. Required; it places it in its month (R17).",
        "points": "Points to add, or to take away with a minus sign; they count toward the next level.",
        "status": "The level to set at this month's close (from the list), whatever the rules say. Blank: none.",
        "until": "With a status: hold it, with no downgrade, until the close of this month (YYYY-MM).",
        "reason": "Why the correction is made; statements show it. Required.",
        "approved_by": "Who approved the correction. Required.",
    },
    "rates": {
        "currency": "The currency (from the list). Required.",
        "month": "The month the rate applies to, written as YYYY-MM (text) or a date in it.",
        "usd_rate": "US dollars per one unit of the currency, e.g. 1.08 for EUR. Required.",
    },
}

INSTRUCTIONS = [
    ("How to use this workbook", "title"),
    ("", None),
    ("Fill in one row per {item} on the '{sheet}' sheet, under the header row. Keep the headers as they "
     "are: tiersheet recognises the sheet by them (other column names can be mapped in tiersheet.toml).", None),
    ("Every header cell says what goes in its column when you select it. Columns with a drop-down "
     "list take one of its values; dates are real dates (or text such as 2025-03-14); amounts are "
     "numbers.", None),
    ("", None),
    ("The monthly routine", "section"),
    ("1. Put this month's exports (partners, sales, activities, leads, co-op claims, adjustments, rates) in one "
     "folder, the inbox. Files may be .xlsx, .xls, .ods, .csv or .txt, with any sheet names.", None),
    ("2. Check them:  tiersheet check INBOX   lists every problem (file, sheet, row, column, value) "
     "without writing anything. Fix what it lists, or leave it: problem rows are left out and "
     "reported.", None),
    ("3. Run:  tiersheet run INBOX --out OUT   writes the channel workbook for every month and a "
     "statement for each partner.", None),
    ("4. Look: open OUT/tiersheet-YYYY-MM.xlsx (Summary, Partners, Exceptions) and a statement or two "
     "in OUT/statements/YYYY-MM/. Every figure is a formula you can click.", None),
    ("5. Email:  tiersheet email OUT --month YYYY-MM --dry-run   writes the messages to read first; "
     "without --dry-run it sends them (see the README for the SMTP settings).", None),
    ("", None),
    ("Nothing is lost: every row you give ends accepted, rejected with its reason, or counted once "
     "as a duplicate; the Reconciliation sheet shows the counts per sheet.", None),
]


def closed_lists(rules: Rules) -> dict[str, list[str]]:
    """The drop-down values of each field type that has them."""
    return {"yes": ["yes", "no"], "level": [level.name for level in rules.levels],
            "activity": [activity.label for activity in rules.activities],
            "sale_type": ["licence", "renewal"], "currency": CURRENCIES}


def list_for(field: Field, kind: Kind) -> str | None:
    """Which closed list a field takes its values from, if any."""
    if field.type in ("yes", "level", "activity", "sale_type"):
        return field.type
    if field.name == "currency":
        return "currency"
    return None


def write_kind_template(path: Path, kind: Kind, rules: Rules) -> None:
    """One blank input workbook for `kind`."""
    with atomic_output(path) as temp:
        book = xlsxwriter.Workbook(str(temp), {"strings_to_formulas": False, "strings_to_urls": False,
                                               "strings_to_numbers": False})
        book.set_properties({"title": f"tiersheet input: {kind.label}", "author": "tiersheet",
                             "created": CREATED})
        header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78",
                                  "text_wrap": True, "valign": "top", "border": 1})
        formats = {"date": book.add_format({"num_format": "yyyy-mm-dd"}),
                   "money": book.add_format({"num_format": "#,##0.00"}),
                   "rate": book.add_format({"num_format": "0.0000"}),
                   "count": book.add_format({"num_format": "0"}),
                   "text": book.add_format({"num_format": "@"})}
        sheet = book.add_worksheet(SHEET_NAMES[kind.name])
        lists_sheet = book.add_worksheet("Lists")
        lists = closed_lists(rules)
        ranges: dict[str, str] = {}
        for column, (name, values) in enumerate(lists.items()):
            lists_sheet.write_string(0, column, name)
            for row, value in enumerate(values, start=1):
                lists_sheet.write_string(row, column, value)
            letter = xlsxwriter.utility.xl_col_to_name(column)
            ranges[name] = f"=Lists!${letter}$2:${letter}${len(values) + 1}"
        lists_sheet.hide()

        for column, field in enumerate(kind.fields):
            width = max(12, min(34, len(field.header) + 4))
            fmt = column_format(field, formats)
            sheet.set_column(column, column, width, fmt)
            sheet.write_string(0, column, field.header, header)
            required = " (required)" if field.required or field.name in kind.one_of else ""
            sheet.data_validation(0, column, 0, column, {
                "validate": "any", "input_title": (field.header + required)[:32],
                "input_message": HELP[kind.name][field.name][:255]})
            rule = validation(field, kind, ranges)
            if rule:
                sheet.data_validation(1, column, DATA_ROWS, column, rule)
        sheet.set_row(0, 30)
        sheet.freeze_panes(1, 0)
        sheet.set_landscape()
        sheet.repeat_rows(0)
        sheet.fit_to_pages(1, 0)

        notes = book.add_worksheet("Instructions")
        notes.set_column(0, 0, 110, book.add_format({"text_wrap": True, "valign": "top"}))
        styles = {"title": book.add_format({"bold": True, "font_size": 14}),
                  "section": book.add_format({"bold": True, "font_size": 12})}
        item = {"partners": "partner (a later row with an As Of date updates a partner)",
                "sales": "invoice line", "activities": "activity", "leads": "lead",
                "claims": "co-op claim", "adjustments": "correction (points, a status or both)",
                "rates": "currency and month"}[kind.name]
        for row, (text, style) in enumerate(INSTRUCTIONS):
            text = text.format(item=item, sheet=SHEET_NAMES[kind.name])
            if text:
                notes.write_string(row, 0, text, styles.get(style) if style else None)
        sheet.activate()
        book.close()


def column_format(field: Field, formats: dict):
    if field.type == "date":
        return formats["date"]
    if field.type in ("amount", "money"):
        return formats["money"]
    if field.type == "rate":
        return formats["rate"]
    if field.type in ("count", "points"):
        return formats["count"]
    if field.type == "signed_points":
        return formats["count"]
    if field.type in ("id", "text", "code", "list", "email", "month"):
        return formats["text"]  # IDs keep their leading zeros; months stay YYYY-MM
    return None


def validation(field: Field, kind: Kind, ranges: dict[str, str]) -> dict | None:
    """The data validation of a field's cells: a drop-down for closed lists, ranges for the rest."""
    closed = list_for(field, kind)
    if closed:
        # a currency not on the list is allowed after a warning; other lists are strict
        return {"validate": "list", "source": ranges[closed],
                "error_type": "warning" if closed == "currency" else "stop",
                "error_title": "Not on the list", "error_message": f"Choose a value from the list ({closed})."}
    if field.type == "date":
        return {"validate": "date", "criteria": "between", "minimum": date(1990, 1, 1),
                "maximum": date(2099, 12, 31), "error_title": "Not a date",
                "error_message": "Write a date between 1990 and 2099 (e.g. 2025-03-14)."}
    if field.type in ("money", "rate"):
        return {"validate": "decimal", "criteria": ">=", "value": 0, "error_title": "Not an amount",
                "error_message": "Write a number of 0 or more."}
    if field.type == "amount":
        return {"validate": "decimal", "criteria": "between", "minimum": -1e12, "maximum": 1e12,
                "error_title": "Not an amount", "error_message": "Write a number (negative for a credit note)."}
    if field.type in ("count", "points"):
        return {"validate": "integer", "criteria": ">=", "value": 0, "error_title": "Not a whole number",
                "error_message": "Write a whole number of 0 or more."}
    if field.type == "signed_points":
        return {"validate": "integer", "criteria": "between", "minimum": -10_000_000, "maximum": 10_000_000,
                "error_title": "Not a whole number",
                "error_message": "Write a whole number of points (negative to take points away)."}
    return None


EXAMPLE_SETTINGS = '''# tiersheet.toml: put it in the inbox folder when your exports need it (all of it is optional).

# Other header names for our columns: "Their header" = "our_field".
[headers]
"Reseller Code" = "partner_id"
"Net USD" = "amount_usd"

# The order of day and month in date columns whose values do not decide it (03/04/2025):
# "DMY" (3 April) or "MDY" (4 March).
[formats]
dates = "DMY"

# Delimited text files (.csv, .txt, .tsv): the encoding and delimiter are detected; set them
# here only when the detection is wrong.
[csv]
encoding = "cp1252"
delimiter = ";"
'''


def template_files(rules: Rules) -> dict[str, object]:
    """name -> Kind (a workbook to write) or bytes (a file to copy), in writing order."""
    from .mailer.template import default_path

    files: dict[str, object] = {FILE_NAMES[name]: kind for name, kind in KINDS.items()}
    files["rules.toml"] = default_rules_path().read_bytes()
    files["email-template.txt"] = default_path("statement.txt").read_bytes()
    files["tiersheet.toml.example"] = EXAMPLE_SETTINGS.encode("utf-8")
    return files


def write_templates(folder: Path, rules: Rules, force: bool = False) -> list[Path]:
    """Write every template into `folder`; refuse to overwrite unless `force`."""
    files = template_files(rules)
    existing = [name for name in files if (folder / name).exists()]
    if existing and not force:
        raise UsageProblem(f"{folder} already holds {', '.join(existing)}: use --force to overwrite them")
    written = []
    for name, content in files.items():
        path = folder / name
        if isinstance(content, Kind):
            write_kind_template(path, content, rules)
        else:
            write_bytes(path, content)
        written.append(path)
    return written
