"""(Re)write the demo inbox in samples/inbox/.

    python samples/make_inbox.py            # writes samples/inbox/
    python samples/make_inbox.py OUTDIR     # writes somewhere else

Deterministic: no randomness, fixed workbook metadata and fixed zip timestamps, so running it twice
gives byte-identical files.  Every number below was chosen by hand so that the outcome described in
samples/README.md is certain under the rules of SPEC.md (R1-R16) and the input contract (I1-I8).
Dates are real spreadsheet date cells, except where ISO text dates are used on purpose (marked).
"""

from __future__ import annotations

import csv
import html
import io
import re
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FIXED_TIME = datetime(2025, 4, 1, 9, 0, 0)
D = date  # short alias for the data tables

# --------------------------------------------------------------------------------------------
# Partners (I2).  One row per partner per snapshot.  Yes/no spellings vary on purpose.
# --------------------------------------------------------------------------------------------

PARTNER_HEADERS = [
    "Partner ID", "Partner Name", "Email", "Territories", "Joined On", "Starting Status",
    "Opening Points", "Certificate Issued On", "As Of", "Partner Agreement", "NDA",
    "Certified Engineers", "Certified Sales Specialists", "First Line Support", "Logo On Website",
    "Product Descriptions On Website", "Sales Commitment USD", "Forecast Submitted",
    "Prior Intranet Sale", "NFR Issued",
]


def partner(pid, name, email, terr, joined, status, points, cert, as_of, pa, nda, eng, spec,
            fls, logo, desc, commit, forecast, prior, nfr):
    return [pid, name, email, terr, joined, status, points, cert, as_of, pa, nda, eng, spec,
            fls, logo, desc, commit, forecast, prior, nfr]


ALL_NFR = "InfoPace, TeamPace, BizPace"

PARTNERS = [
    # P001 Gold, DE+AT.  Certificate 2024-03-20 expires 2025-03-20 -> renewed at March close.
    partner("P001", "Alpenblick IT GmbH", "partners@alpenblick.example", "DE, AT",
            D(2021, 4, 12), "Gold", 3100, D(2024, 3, 20), None,
            "Yes", "Yes", 3, 2, "Yes", "Yes", "Yes", 6000, "Yes", "Yes", ALL_NFR),
    # P002 Gold, DE.  Certificate 2024-02-10 expires 2025-02-10; from February one engineer
    # left -> at February's close it meets only Certified -> downgraded, points set to 500.
    partner("P002", "Nordwind Systems GmbH", "vertrieb@nordwind.example", "DE",
            D(2022, 9, 1), "GOLD CERTIFIED PARTNER", 2400, D(2024, 2, 10), None,
            "Y", "Y", 2, 2, "Y", "Y", "Y", 4000, "Y", "Y", ALL_NFR),
    partner("P002", "Nordwind Systems GmbH", "vertrieb@nordwind.example", "DE",
            D(2022, 9, 1), "GOLD CERTIFIED PARTNER", 2400, D(2024, 2, 10), D(2025, 2, 5),
            "Y", "Y", 1, 2, "Y", "Y", "Y", 4000, "Y", "Y", ALL_NFR),
    # P003 Business, DE, meets every Gold requirement (real TRUE/FALSE cells) -> skip-level
    # upgrade to Gold at January's close.
    partner("P003", "Hanse Digital GmbH", "hallo@hanse-digital.example", "DE",
            D(2024, 10, 7), "business", 240, D(2024, 10, 7), None,
            True, True, 2, 2, True, True, True, 5000, True, False, None),
    # P004 Certified, PL.  Certificate 2024-01-25 expires 2025-01-25 -> renewed at January's close.
    partner("P004", "Wisła Software Sp. z o.o.", "partnerzy@wisla-soft.example", "PL",
            D(2023, 1, 16), "Certified", 860, D(2024, 1, 25), None,
            "y", "y", 1, 1, "y", "y", "y", None, "n", "y", "InfoPace, TeamPace"),
    # P005 Gold, FR.  Yes/no as numbers 1/0.  Sells in EUR in February.
    partner("P005", "Lumière Logiciels SARL", "contact@lumiere-logiciels.example", "FR",
            D(2020, 11, 3), "gold certified partner", 2950, D(2024, 6, 15), None,
            1, 1, 2, 3, 1, 1, 1, 3000, 1, 1, ALL_NFR),
    # P006 Business, GB.  First Intranet sale in January (R12), upgrade to Certified at February's
    # close.  Second snapshot: the InfoPace NFR has been issued.
    partner("P006", "Cedar Point Solutions Ltd", "sales@cedarpoint.example", "GB",
            D(2024, 5, 20), None, 120, D(2024, 5, 20), None,
            "yes", "yes", 1, 1, "yes", "yes", "yes", None, "no", "no", None),
    partner("P006", "Cedar Point Solutions Ltd", "sales@cedarpoint.example", "GB",
            D(2024, 5, 20), None, 120, D(2024, 5, 20), D(2025, 2, 3),
            "yes", "yes", 1, 1, "yes", "yes", "yes", None, "no", "no", "InfoPace"),
    # P007 Business, HR.  Prior Intranet Sale = Y -> no first-sale discount.  Reaches 500 points in
    # March but misses Certified requirements -> stays Business.
    partner("P007", "Adriatic Cloud d.o.o.", "info@adriatic-cloud.example", "HR",
            D(2024, 8, 1), "Business Partner", 75, D(2024, 8, 1), None,
            "Y", "Y", 0, 1, "N", "Y", "N", None, "N", "Y", "InfoPace"),
    # P008 Business, HU.  Yes/no as x / blank.  Credit note in February.
    partner("P008", "Danube Web Kft.", "partner@danubeweb.example", "HU",
            D(2024, 11, 11), "Business", 60, D(2024, 11, 11), None,
            "x", "x", 0, 0, None, None, None, None, None, None, None),
    # P009 Certified, ES.  Text true/false.  From 2025-02-20 the Bitrix logo is off its website
    # (site relaunch) -> at risk at February's and March's close (no expiry in the run).
    partner("P009", "Iberia Sistemas S.L.", "canal@iberia-sistemas.example", "ES",
            D(2023, 6, 5), "certified partner", 1140, D(2024, 9, 1), None,
            "true", "true", 1, 1, "true", "true", "true", None, "false", "true",
            "InfoPace, TeamPace"),
    partner("P009", "Iberia Sistemas S.L.", "canal@iberia-sistemas.example", "ES",
            D(2023, 6, 5), "certified partner", 1140, D(2024, 9, 1), D(2025, 2, 20),
            "true", "true", 1, 1, "true", "false", "true", None, "false", "true",
            "InfoPace, TeamPace"),
    # P010 Business, CZ.  NDA never signed (blank) -> at risk every month; certificate
    # 2024-03-05 expires 2025-03-05 -> lapses at March's close.  Opening points blank (= 0).
    partner("P010", "Vltava Apps s.r.o.", "obchod@vltava-apps.example", "CZ",
            D(2024, 3, 5), "BUSINESS", None, D(2024, 3, 5), None,
            "yes", None, 0, 0, None, None, None, None, None, None, None),
    # P011 joins on 2025-02-03; status, points and certificate date blank (= defaults).
    # Yes/no as "+".  First Intranet sale in March (R12).
    partner("P011", "Nordic Pixel AB", "hej@nordicpixel.example", "SE",
            D(2025, 2, 3), None, None, None, None,
            "+", "+", 1, 0, None, None, None, None, None, None, None),
    # P012 Business, GB, no activity at all.  Joined On blank (= first month of the run).
    # "pending" is not a yes/no -> warning, counts as not met (only matters for Certified).
    partner("P012", "Quiet Harbour IT Ltd", "office@quietharbour.example", "GB",
            None, "Business", 310, None, None,
            "1", "1", 0, 0, "0", "pending", "0", None, "0", "0", None),
    # P013 Certified, NL.  Passes 2000 points in January but has one sales specialist; the second
    # one is certified as of 2025-03-10 (ISO text date on purpose) -> upgrade to Gold at March close.
    partner("P013", "Atlas Integratie B.V.", "partners@atlas-integratie.example", "NL",
            D(2022, 2, 14), "Certified", 1720, D(2024, 7, 1), None,
            "Yes", "Yes", 2, 1, "Yes", "Yes", "Yes", 4500, "Yes", "Yes", "InfoPace, TeamPace"),
    partner("P013", "Atlas Integratie B.V.", "partners@atlas-integratie.example", "NL",
            D(2022, 2, 14), "Certified", 1720, D(2024, 7, 1), "2025-03-10",
            "Yes", "Yes", 2, 2, "Yes", "Yes", "Yes", 4500, "Yes", "Yes", "InfoPace, TeamPace"),
]

NOTES = [
    ["Note"],
    ["Partner master data exported from the CRM on 2025-04-01."],
    ["One row per partner per snapshot; 'As Of' = the snapshot applies from that month on."],
    ["Nordwind: Jonas K. (certified engineer) left the company on 2025-02-05."],
    ["Iberia Sistemas: website relaunch on 2025-02-20, Bitrix logo not yet back."],
    ["Atlas Integratie: second sales specialist certified on 2025-03-10."],
]

# --------------------------------------------------------------------------------------------
# Monthly exports
# --------------------------------------------------------------------------------------------

SALES_HEADERS = ["Invoice ID", "Partner ID", "Invoice Date", "Product", "Edition", "Sale Type",
                 "Amount USD"]
SALES_HEADERS_FX = ["Invoice ID", "Partner ID", "Invoice Date", "Product", "Edition", "Sale Type",
                    "Amount", "Currency"]
ACTIVITY_HEADERS = ["Activity ID", "Partner ID", "Date", "Activity", "Approved On", "Description"]
LEAD_HEADERS = ["Lead ID", "Received On", "Territory", "Company", "Contact"]
COOP_HEADERS = ["Claim ID", "Partner ID", "Date", "Expense USD", "Requested USD", "Description"]
RATE_HEADERS = ["Currency", "Month", "USD Rate"]
ADJUSTMENT_HEADERS = ["Adjustment ID", "Partner ID", "Date", "Points", "Status", "Until", "Reason",
                      "Approved By"]

# R17: a channel manager's correction, kept in the inbox so that every re-run applies it.
ADJUSTMENTS_2025_03 = [
    ["ADJ-2025-001", "P012", D(2025, 3, 14), 200, None, None,
     "Webinar series of December 2024, missing from the portal export", "A. Novak, channel lead"],
]

BI = "Bitrix Intranet"
SM = "Bitrix Site Manager"

SALES_2025_01 = [
    ["INV-2501-001", "P001", D(2025, 1, 9), BI, "BizPace", "licence", 4990],
    ["INV-2501-002", "P003", D(2025, 1, 10), SM, "Business", "licence", 3480],
    ["INV-2501-003", "P008", D(2025, 1, 13), SM, "Business", "licence", 1790],
    ["INV-2501-004", "P002", D(2025, 1, 14), SM, "Business", "licence", 1790],
    ["INV-2501-005", "P005", D(2025, 1, 15), SM, "Standard", "licence", "$1,234.50"],  # text amount
    ["INV-2501-006", "P009", D(2025, 1, 16), BI, "TeamPace", "licence", 1490],
    ["INV-2501-007", "P004", D(2025, 1, 17), BI, "TeamPace", "renewal", 1490],
    ["INV-2501-008", "P006", D(2025, 1, 20), BI, "TeamPace", "licence", 1490],  # R12 first sale
    ["INV-2501-009", "P001", D(2025, 1, 21), SM, "Business", "renewal", 1190],
    ["INV-2501-010", "P003", D(2025, 1, 22), SM, "Small Business", "licence", 2260],
    ["INV-2501-011", "P002", D(2025, 1, 23), BI, "TeamPace", "licence", 1490],
    ["INV-2501-012", "P007", D(2025, 1, 24), BI, "InfoPace", "licence", 990],  # prior sale = Y
    ["INV-2501-013", "P008", D(2025, 1, 27), SM, "Standard", "licence", 590],
    ["INV-2501-014", "P001", D(2025, 1, 28), BI, "TeamPace", "licence", 2400],  # corrected in Feb
    ["INV-2501-015", "P010", D(2025, 1, 29), SM, "Standard", "licence", 420],
    ["INV-2501-016", "P005", D(2025, 1, 30), BI, "InfoPace", "licence", 990],  # repeated in March
    ["INV-2501-017", "P013", D(2025, 1, 31), BI, "BizPace", "licence", 3990],
    ["INV-2501-018", "P099", D(2025, 1, 31), SM, "Standard", "licence", 590],  # unknown partner
]

ACTIVITIES_2025_01 = [
    ["ACT-2501-01", "P003", D(2025, 1, 29), "Bitrix dedicated seminars", D(2025, 1, 15),
     '=HYPERLINK("https://hanse-digital.example/seminar","Hamburg launch seminar, 42 guests")'],
    ["ACT-2501-02", "P009", D(2025, 1, 20), "Product localization", None,
     "Catalan localization of Bitrix Intranet"],
    ["ACT-2501-03", "P013", D(2025, 1, 14), "Online or offline product placement", D(2025, 1, 20),
     "Banner campaign on a Dutch IT portal"],
]

LEADS_2025_01 = [
    ["LD-2501-01", D(2025, 1, 8), "DE", "Brauhaus Sommer KG", "Petra Sommer"],
    ["LD-2501-02", D(2025, 1, 9), "FR", "Cabinet Marchand", "+33 1 55 55 01 23"],
    ["LD-2501-03", D(2025, 1, 16), "DE", "Stadtwerke Lindenau", "Frank Albers"],
    ["LD-2501-04", D(2025, 1, 22), "PL", "Mleczarnia Zielona", "Anna Nowak"],
    ["LD-2501-05", D(2025, 1, 27), "DE", "Kanzlei Brandt & Wolf", "Dr. Sabine Wolf"],
    ["LD-2501-06", D(2025, 1, 30), "AT", "Tiroler Holzbau GmbH", "Martin Gruber"],
]

COOP_2025_01 = [
    ["COOP-2501-01", "P003", D(2025, 1, 24), 1200, 600, "Google Ads campaign, January"],
]

SALES_2025_02 = [  # Amount + Currency layout; needs the Rates sheet for EUR
    ["INV-2501-014", "P001", D(2025, 1, 28), BI, "TeamPace", "licence", 2040, "USD"],  # corrected
    ["INV-2502-001", "P005", D(2025, 2, 6), BI, "TeamPace", "License", 1380, "EUR"],
    ["INV-2502-002", "P008", D(2025, 2, 10), SM, "Business", "licence", -1790, "USD"],  # credit note
    ["INV-2502-003", "P001", D(2025, 2, 11), SM, "Small Business", "License", 1450, "EUR"],
    ["INV-2502-004", "P011", D(2025, 2, 12), SM, "Standard", "licence", 590, "USD"],
    ["INV-2502-005", "P003", D(2025, 2, 13), SM, "Business", "licence", 3480, "USD"],
    ["INV-2502-006", "P002", D(2025, 2, 17), SM, "Standard", "licence", 590, "USD"],
    ["INV-2502-007", "P006", D(2025, 2, 18), SM, "Small Business", "licence", 330, "USD"],
    ["INV-2502-008", "P005", D(2025, 2, 24), SM, "Business", "License", 1690, "EUR"],
    ["INV-2502-009", "P009", D(2025, 2, 25), SM, "Business", "renewal", 890, "USD"],
    ["INV-2502-010", "P004", D(2025, 2, 26), SM, "Standard", "licence", 420, "USD"],
    ["INV-2502-011", "P010", D(2025, 2, 27), SM, "Standard", "licence", "TBD", "USD"],  # bad amount
    ["INV-2502-012", "P007", "2025-02-30", SM, "Small Business", "licence", 640, "USD"],  # bad date
]

RATES_2025_02 = [
    ["EUR", "2025-01", 1.03],
    ["EUR", "2025-02", 1.04],
    ["EUR", "2025-03", 1.08],
]

ACTIVITIES_2025_02 = [
    ["ACT-2502-01", "P006", D(2025, 2, 21), "Case study delivery", None,
     "Case study: Cedar Point rolls out Bitrix Intranet at a Leeds law firm"],
    ["ACT-2502-02", "P013", D(2025, 2, 3), "Development of customized modules", D(2025, 1, 28),
     "Exact Online connector module"],
    ["ACT-2502-03", "P001", D(2025, 2, 19), "Project publishing at Bitrix website", None,
     "Tiroler Holzbau intranet published in the Bitrix showcase"],
    ["ACT-2502-04", "P008", D(2025, 2, 26), "Trade fair booth", None,  # unknown activity type
     "Stand at the Budapest IT fair"],
]

LEADS_2025_02 = [  # LD-2502-04 is listed before LD-2502-03 on purpose (same day: lead_id order)
    ["LD-2502-01", D(2025, 2, 4), "DE", "Autohaus Meier", "Klaus Meier"],
    ["LD-2502-02", D(2025, 2, 12), "FR", "@venir Conseil", "Julie Martin"],
    ["LD-2502-04", D(2025, 2, 12), "DE", "Bäckerei Hoffmann", "Lena Hoffmann"],
    ["LD-2502-03", D(2025, 2, 12), "DE", "Ingenieurbüro Krause", "+49 30 5550 1842"],
    ["LD-2502-05", D(2025, 2, 25), "DE", "Klinikum Nordheide", "Stefan Becker"],
]

COOP_2025_02 = [  # a European CSV (semicolons, 07.02.2025, 1.500,00, Windows-1252): see below
    ["COOP-2502-01", "P001", D(2025, 2, 7), 1500, 900, "Messestand-Anteil, IT-Konferenz Wien (Österreich)"],
    ["COOP-2502-02", "P008", D(2025, 2, 14), 800, 400, "-20% launch promo mailing"],
    ["COOP-2502-03", "P003", D(2025, 2, 20), 2000, 1000, "LinkedIn campaign, February"],
    ["COOP-2502-04", "P004", D(2025, 2, 20), 2400, None, "Print ads in Computerworld Polska"],
]

SALES_2025_03 = [
    ["INV-2501-016", "P005", D(2025, 1, 30), BI, "InfoPace", "licence", 990],  # exact duplicate
    ["INV-2503-001", "P013", D(2025, 3, 5), SM, "Business", "licence", 1790],
    ["INV-2503-002", "P001", D(2025, 3, 6), BI, "BizPace", "renewal", 2990],
    ["INV-2503-003", "P006", D(2025, 3, 11), BI, "InfoPace", "licence", 990],
    ["INV-2503-004", "P002", D(2025, 3, 12), BI, "InfoPace", "licence", 990],
    ["INV-2503-005", "P007", D(2025, 3, 14), BI, "TeamPace", "licence", 1490],
    ["INV-2503-006", "P011", D(2025, 3, 17), BI, "BizPace", "licence", 4990],  # R12 first sale
    ["INV-2503-007", "P003", D(2025, 3, 18), SM, "Small Business", "renewal", 790],
    ["INV-2503-008", "P005", D(2025, 3, 20), BI, "BizPace", "licence", 4990],
    ["INV-2503-009", "P008", D(2025, 3, 21), SM, "Small Business", None, 640],  # blank = licence
    ["INV-2503-010", "P010", D(2025, 3, 25), SM, "Small Business", "licence", 640],
    ["INV-2503-011", "P009", D(2025, 3, 27), SM, "Standard", "licence", 590],
]

ACTIVITIES_2025_03 = [
    ["ACT-2503-01", "P009", D(2025, 3, 28), "Project publishing at Bitrix website", None,
     "Bodegas Rioja Alta intranet published in the Bitrix showcase"],
]

# Activities reported through the partner portal, delivered as CSV (ISO text dates).
PORTAL_ACTIVITIES_CSV = [
    ["ACT-2503-02", "P004", "2025-03-07", "Case study delivery", "",
     "Case study: Mleczarnia Zielona on Bitrix Intranet"],
    ["ACT-2503-03", "P005", "2025-03-04", "seminar", "2025-02-20",
     "Bitrix dedicated seminar, Lyon, 35 guests"],
]

LEADS_2025_03 = [
    ["LD-2503-01", D(2025, 3, 5), "DE", "Weingut Albrecht", "Thomas Albrecht"],
    ["LD-2503-02", D(2025, 3, 11), "SE", "Fjällgården AB", "Erik Lindqvist"],
    ["LD-2503-03", D(2025, 3, 13), "DE", "Spedition Voss GmbH", "Heike Voss"],
    ["LD-2503-04", D(2025, 3, 19), "FR", "Mairie de Saint-Aubin", "Claire Dubois"],
    ["LD-2503-05", D(2025, 3, 24), "DE", "Elektro Schulte", "Jan Schulte"],
    ["LD-2503-06", D(2025, 3, 28), "NL", "Van Dijk Logistiek", "Pieter van Dijk"],
]

COOP_2025_03 = [  # written with an empty first row: the header is on row 2 (I1 "first non-empty row")
    ["COOP-2503-01", "P005", D(2025, 3, 10), 3000, 1000, "Salon Solutions RH, Paris"],
    ["COOP-2503-02", "P006", D(2025, 3, 19), 1200, 600, "Intranet breakfast event, Manchester"],
    ["COOP-2503-03", "P002", D(2025, 3, 21), 900, 450, "Newsletter sponsorship"],
    ["COOP-2503-04", "P009", D(2025, 3, 26), -450, None, "Reversal of a double booking"],  # negative
]

# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

DATE_FMT = "yyyy-mm-dd"
MONEY_FMT = "#,##0.00"
MONEY_COLUMNS = {"Amount USD", "Amount", "Expense USD", "Requested USD", "Sales Commitment USD"}


def add_sheet(wb: Workbook, title: str, headers: list[str], rows: list[list], skip_rows: int = 0):
    ws = wb.create_sheet(title)
    for _ in range(skip_rows):
        ws.append([])
    ws.append(headers)
    header_row = skip_rows + 1
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    for values in rows:
        ws.append(values)
        r = ws.max_row
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # I8: data, never a formula
            elif isinstance(value, (date, datetime)):
                cell.number_format = DATE_FMT
            elif headers[c - 1] in MONEY_COLUMNS and isinstance(value, (int, float)):
                cell.number_format = MONEY_FMT
    for c, name in enumerate(headers, start=1):
        width = max([len(name)] + [len(str(v[c - 1])) for v in rows if v[c - 1] is not None])
        ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 10), 60)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    return ws


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "tiersheet samples/make_inbox.py"
    wb.properties.created = FIXED_TIME
    return wb


def save_deterministic(wb: Workbook, path: Path) -> None:
    """Save, then re-pack the zip with fixed timestamps and a fixed modified date."""
    raw = io.BytesIO()
    wb.save(raw)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rf"\g<1>{stamp}\g<2>", text)
                data = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, data)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(out.getvalue())
    tmp.replace(path)


def write_csv(path: Path, headers: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def write_crm_report(path: Path, title: str, period: str, headers: list[str], rows: list[list]) -> None:
    """A CRM's "Export to Excel": an HTML table saved as .xls, with the report's title and filter
    rows above the header, US dates (1/8/2025) and a totals row under the data (I1, I6)."""
    def cell(value) -> str:
        text = f"{value.month}/{value.day}/{value.year}" if isinstance(value, date) else str(value)
        return f"<td>{html.escape(text)}</td>"

    lines = ['<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
             f"<title>{html.escape(title)}</title></head><body>", "<table border=1>",
             f'<tr><td colspan="{len(headers)}"><b>{html.escape(title)}</b></td></tr>',
             f'<tr><td colspan="{len(headers)}">{html.escape(period)}</td></tr>',
             "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    lines += ["<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows]
    lines.append(f'<tr><td>Total</td><td colspan="{len(headers) - 1}">{len(rows)}</td></tr>')
    lines += ["</table>", "</body></html>", ""]
    path.write_text("\n".join(lines), encoding="utf-8", newline="\n")


def write_european_csv(path: Path, headers: list[str], rows: list[list]) -> None:
    """A CSV saved by Excel with German settings: Windows-1252, semicolons, CRLF, dates as
    07.02.2025 and amounts as 1.500,00 (I6, I9)."""
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, date):
            return f"{value:%d.%m.%Y}"
        if isinstance(value, (int, float)):
            return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        return str(value)

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([text(v) for v in row] for row in rows)
    path.write_bytes(buf.getvalue().encode("cp1252"))


def main(argv: list[str]) -> int:
    inbox = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)

    wb = new_workbook()
    add_sheet(wb, "Partners", PARTNER_HEADERS, PARTNERS)
    notes = wb.create_sheet("Notes")
    for row in NOTES:
        notes.append(row)
    notes.column_dimensions["A"].width = 90
    save_deterministic(wb, inbox / "partners.xlsx")

    wb = new_workbook()
    add_sheet(wb, "Sales", SALES_HEADERS, SALES_2025_01)
    add_sheet(wb, "Activities", ACTIVITY_HEADERS, ACTIVITIES_2025_01)
    add_sheet(wb, "Co-op", COOP_HEADERS, COOP_2025_01)
    save_deterministic(wb, inbox / "2025-01.xlsx")
    write_crm_report(inbox / "2025-01-crm-leads.xls", "Leads by territory",
                     "Created: 1/31/2025; Filter: Received On is in January 2025", LEAD_HEADERS,
                     LEADS_2025_01)

    wb = new_workbook()
    add_sheet(wb, "Sales", SALES_HEADERS_FX, SALES_2025_02)
    add_sheet(wb, "Rates", RATE_HEADERS, RATES_2025_02)
    add_sheet(wb, "Activities", ACTIVITY_HEADERS, ACTIVITIES_2025_02)
    add_sheet(wb, "Leads", LEAD_HEADERS, LEADS_2025_02)
    save_deterministic(wb, inbox / "2025-02.xlsx")
    write_european_csv(inbox / "2025-02-coop.csv", COOP_HEADERS, COOP_2025_02)

    wb = new_workbook()
    add_sheet(wb, "Sales", SALES_HEADERS, SALES_2025_03)
    add_sheet(wb, "Activities", ACTIVITY_HEADERS, ACTIVITIES_2025_03)
    add_sheet(wb, "Leads", LEAD_HEADERS, LEADS_2025_03)
    add_sheet(wb, "Co-op", COOP_HEADERS, COOP_2025_03, skip_rows=1)
    save_deterministic(wb, inbox / "2025-03.xlsx")

    write_csv(inbox / "2025-03-portal-activities.csv", ACTIVITY_HEADERS, PORTAL_ACTIVITIES_CSV)

    wb = new_workbook()
    add_sheet(wb, "Adjustments", ADJUSTMENT_HEADERS, ADJUSTMENTS_2025_03)
    save_deterministic(wb, inbox / "2025-03-adjustments.xlsx")

    for path in sorted(inbox.iterdir()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
