"""Write a large, realistic, seeded inbox for speed benchmarks.

    python benchmarks/generate.py OUTDIR                   # --size full (default)
    python benchmarks/generate.py OUTDIR --size 100k
    python benchmarks/generate.py OUTDIR --sales 250000 --seed 7

Sizes (data rows, headers not counted):

    preset   sales       partners   activities   leads    co-op claims
    full     1,048,575   10,000     100,000      50,000   10,000
    100k       100,000    1,000      10,000       5,000    1,000

`full` fills the "Sales" sheet completely: header in row 1, data in rows 2..1,048,576 (Excel's
last row).  Each count can be overridden (--sales, --partners, --activities, --leads, --claims).

Files written into OUTDIR (SPEC I1-I5 headers, Title Case):

  partners.xlsx   "Partners"    one row per partner, plus a second snapshot with a later "As Of"
                                for about 5% of partners (I2); yes/no in varied spellings.
  sales.xlsx      "Sales"       12 months of 2025; Bitrix Intranet (InfoPace/TeamPace/BizPace) and
                                Bitrix Site Manager; $50-$20,000; ~2% credit notes (I3).
  activities.xlsx "Activities"  labels, keys and aliases of the R5 types; approvals missing or
                                dated after the activity for some (I4).
  leads.xlsx      "Leads"       over 20 territory codes (I5).
  coop.xlsx       "Co-op"       some Requested USD blank (I5).

Deliberately imperfect rows, so the benchmark also exercises I7 (counts for `full`; they scale
with --sales):
  sales   ~0.03% bad rows (unknown or blank partner ID, unreadable amount such as "n/a", bad text
          date such as "2025-02-30"), ~0.1% exact duplicate invoice rows, ~0.02% rows repeating an
          invoice ID with a different amount, ~0.02% amounts as text ("$1,234.50", valid per I6).
  others  a handful of unknown partner IDs / activity types and bad requirement cells.

Everything comes from numpy.random.default_rng children of one SeedSequence(--seed), one per file,
so changing one count does not change the other files.  Workbook metadata is fixed, so the same
arguments give byte-identical files.  Written with xlsxwriter in constant_memory mode (rows stream
to disk; strings are inline).  Dates are real date cells (Excel serials with a date format, as
write_datetime would write them).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import xlsxwriter

EXCEL_EPOCH = date(1899, 12, 30)
CREATED = datetime(2025, 1, 1)
YEAR = 2025

PRESETS = {
    "full": dict(sales=1_048_575, partners=10_000, activities=100_000, leads=50_000, claims=10_000),
    "100k": dict(sales=100_000, partners=1_000, activities=10_000, leads=5_000, claims=1_000),
}

SALES_HEADERS = ["Invoice ID", "Partner ID", "Invoice Date", "Product", "Edition", "Sale Type",
                 "Amount USD"]
PARTNER_HEADERS = [
    "Partner ID", "Partner Name", "Email", "Territories", "Joined On", "Starting Status",
    "Opening Points", "Certificate Issued On", "As Of", "Partner Agreement", "NDA",
    "Certified Engineers", "Certified Sales Specialists", "First Line Support", "Logo On Website",
    "Product Descriptions On Website", "Sales Commitment USD", "Forecast Submitted",
    "Prior Intranet Sale", "NFR Issued",
]
ACTIVITY_HEADERS = ["Activity ID", "Partner ID", "Date", "Activity", "Approved On", "Description"]
LEAD_HEADERS = ["Lead ID", "Received On", "Territory", "Company", "Contact"]
COOP_HEADERS = ["Claim ID", "Partner ID", "Date", "Expense USD", "Requested USD", "Description"]

# Territory codes with relative market weight and the legal-form suffix of company names there.
TERRITORIES = {
    "DE": (18, ["GmbH", "GmbH & Co. KG", "AG"]), "AT": (5, ["GmbH"]), "CH": (5, ["AG", "GmbH"]),
    "FR": (10, ["SARL", "SAS"]), "BE": (3, ["BV", "SRL"]), "NL": (6, ["B.V."]),
    "LU": (1, ["S.à r.l."]), "GB": (12, ["Ltd"]), "IE": (2, ["Ltd"]),
    "PL": (8, ["Sp. z o.o."]), "CZ": (4, ["s.r.o."]), "SK": (2, ["s.r.o."]), "HU": (3, ["Kft."]),
    "IT": (7, ["S.r.l.", "S.p.A."]), "ES": (6, ["S.L."]), "PT": (2, ["Lda."]),
    "SE": (3, ["AB"]), "DK": (2, ["ApS"]), "FI": (2, ["Oy"]), "NO": (2, ["AS"]),
}
TERR_CODES = list(TERRITORIES)
TERR_W = np.array([TERRITORIES[c][0] for c in TERR_CODES], dtype=float)
TERR_W /= TERR_W.sum()

NAME_A = ["Alpen", "Nord", "Hanse", "Cedar", "Blue", "Silver", "Oak", "River", "Lumen", "Baltic",
          "Adria", "Iber", "Fjord", "Danube", "Atlas", "Polar", "Vista", "Terra", "Nova", "Delta",
          "Kestrel", "Granite", "Harbor", "Summit", "Meridian", "Orbit", "Quantum", "Sigma",
          "Vector", "Zenith", "Amber", "Coral"]
NAME_B = ["blick", "wind", "soft", "data", "logic", "net", "point", "ware", "line", "core",
          "bridge", "gate", "works", "stack", "cloud", "sys", "tec", "byte", "field", "light"]
NAME_C = ["IT", "Systems", "Solutions", "Software", "Digital", "Consulting", "Technologies",
          "Informatik", "Group", ""]
FIRST = ["Anna", "Petra", "Martin", "Frank", "Sabine", "Jan", "Marie", "Luca", "Sofia", "Piotr",
         "Katarzyna", "Jiří", "Eva", "Lars", "Ingrid", "Mikko", "João", "Carmen", "Giulia",
         "Thomas", "Claire", "Olivier", "Emma", "James", "Siobhan", "Péter", "Zsófia", "Erik",
         "Nina", "David"]
LAST = ["Sommer", "Albers", "Wolf", "Gruber", "Nowak", "Kowalski", "Novák", "Horváth", "Rossi",
        "Bianchi", "García", "López", "Silva", "Dubois", "Martin", "Janssen", "de Vries", "Smith",
        "Murphy", "Andersson", "Nielsen", "Virtanen", "Hansen", "Müller", "Schmidt", "Weber",
        "Bauer", "Moreau", "Kovács", "Fischer"]
CLIENT_A = ["Stadtwerke", "Brauhaus", "Kanzlei", "Cabinet", "Klinik", "Autohaus", "Hotel",
            "Bäckerei", "Logistik", "Studio", "Atelier", "Mleczarnia", "Transport", "Agenzia",
            "Construcciones", "Farmacia", "Ingenieurbüro", "Verlag", "Reederei", "Holzbau"]
CITY = ["Hamburg", "Lindenau", "Wien", "Zürich", "Lyon", "Gent", "Utrecht", "Leeds", "Cork",
        "Kraków", "Brno", "Košice", "Győr", "Torino", "Valencia", "Porto", "Malmö", "Aarhus",
        "Tampere", "Bergen", "Sommer", "Brandt & Wolf", "Nord", "Süd", "Marchand", "Zielona"]

BI, SM = "Bitrix Intranet", "Bitrix Site Manager"
# (product, edition, list price USD, share of sales)
EDITIONS = [
    (BI, "InfoPace", 990, 0.24), (BI, "TeamPace", 1490, 0.22), (BI, "BizPace", 4990, 0.14),
    (SM, "Start", 290, 0.08), (SM, "Standard", 590, 0.12), (SM, "Small Business", 1790, 0.12),
    (SM, "Business", 3480, 0.08),
]

# R5 activity types: key, label, aliases, needs approval, share.
ACTIVITY_TYPES = [
    ("case_study", "Case study delivery", ["case study", "Case studies"], False, 0.20),
    ("custom_modules", "Development of customized modules",
     ["customized modules", "Custom modules", "module development"], True, 0.14),
    ("product_placement", "Online or offline product placement",
     ["product placement", "Placement"], True, 0.20),
    ("seminar", "Bitrix dedicated seminar",
     ["Bitrix dedicated seminars", "seminars", "Dedicated seminar"], True, 0.14),
    ("localization", "Product localization", ["product localisation", "Localisation"], True, 0.05),
    ("project_publishing", "Project publishing at Bitrix website",
     ["project publishing", "Publishing"], False, 0.27),
]
ACTIVITY_DESC = {
    "case_study": "Case study: {c} intranet roll-out",
    "custom_modules": "Custom module for {c}",
    "product_placement": "Banner campaign on {city} IT portal",
    "seminar": "{city} launch seminar, {n} guests",
    "localization": "Localization pack, {city} office",
    "project_publishing": "Project published: {c}",
}
COOP_DESC = ["Google Ads campaign", "Trade fair booth", "Printed brochures", "Webinar hosting",
             "Partner event catering", "LinkedIn campaign", "Direct mail", "Roadshow stand"]

STATUS_SPELLINGS = {
    "business": ["Business", "Business Partner", "business", "BUSINESS PARTNER", ""],
    "certified": ["Certified", "Certified Partner", "certified", "CERTIFIED PARTNER"],
    "gold": ["Gold", "Gold Certified Partner", "gold", "GOLD CERTIFIED PARTNER",
             "gold certified partner"],
}
# Yes/no spellings (I2); None = leave the cell blank, bool = real TRUE/FALSE cell.
YES_NO = [("Yes", "No", 0.30), ("yes", "no", 0.15), ("Y", "N", 0.15), ("y", "n", 0.05),
          (True, False, 0.10), (1, 0, 0.10), ("x", None, 0.05), ("TRUE", "FALSE", 0.05),
          ("+", None, 0.05)]
CAPABILITY = {"business": [0.65, 0.25, 0.10], "certified": [0.15, 0.60, 0.25],
              "gold": [0.05, 0.12, 0.83]}
NFR_BY_LEVEL = {"business": ["", "InfoPace"], "certified": ["InfoPace, TeamPace", "TeamPace"],
                "gold": ["InfoPace, TeamPace, BizPace", "TeamPace, BizPace"]}


def serial(d: date) -> int:
    return (d - EXCEL_EPOCH).days


Y0 = serial(date(YEAR, 1, 1))
Y1 = serial(date(YEAR + 1, 1, 1))  # exclusive
DAYS = np.arange(Y0, Y1)
_DATES = [date.fromordinal(EXCEL_EPOCH.toordinal() + int(s)) for s in DAYS]
MONTH_OF_DAY = np.array([d.month for d in _DATES])
WEEKDAY_OF_DAY = np.array([d.weekday() for d in _DATES])  # 0 = Monday


def day_probabilities(month_weights, weekend=0.05):
    w = np.array([month_weights[m - 1] for m in MONTH_OF_DAY], dtype=float)
    w = w / np.bincount(MONTH_OF_DAY, minlength=13)[MONTH_OF_DAY]  # month weight spread over days
    w = w * np.where(WEEKDAY_OF_DAY >= 5, weekend, 1.0)
    return w / w.sum()


SALES_MONTHS = [0.85, 0.9, 1.15, 0.95, 1.0, 1.15, 0.9, 0.7, 1.05, 1.0, 1.05, 1.3]
FLAT_MONTHS = [1.0] * 12


def rand_dates(rng, n, months=FLAT_MONTHS, weekend=0.05):
    return rng.choice(DAYS, size=n, p=day_probabilities(months, weekend))


def sample_rows(rng, n_total, frac, minimum=1):
    """A sorted random subset of row indices, about `frac` of n_total (at least `minimum`)."""
    k = min(n_total, max(minimum, round(n_total * frac))) if n_total else 0
    return np.sort(rng.choice(n_total, size=k, replace=False)) if k else np.array([], int)


def workbook(path: Path):
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"created": CREATED, "author": "tiersheet benchmark generator"})
    fmts = {
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "usd": wb.add_format({"num_format": "#,##0.00"}),
    }
    return wb, fmts


def header(ws, fmts, headers, widths):
    for c, (h, w) in enumerate(zip(headers, widths)):
        ws.set_column(c, c, w)
    ws.freeze_panes(1, 0)
    for c, h in enumerate(headers):
        ws.write_string(0, c, h, fmts["head"])


def put(ws, r, c, v, fmt=None):
    """Write one cell by type; None = blank (nothing written)."""
    if v is None or v == "":
        return
    t = type(v)
    if t is str:
        ws.write_string(r, c, v, fmt)
    elif t is bool:
        ws.write_boolean(r, c, v, fmt)
    else:
        ws.write_number(r, c, v, fmt)


# --------------------------------------------------------------------------------------------
# Partners (I2)
# --------------------------------------------------------------------------------------------

def make_partners(rng, n):
    """Return (rows, info) where info holds per-partner arrays used by the other files."""
    levels = rng.choice(["business", "certified", "gold"], size=n, p=[0.60, 0.28, 0.12])
    home = rng.choice(len(TERR_CODES), size=n, p=TERR_W)
    n_extra = rng.choice([0, 1, 2], size=n, p=[0.6, 0.3, 0.1])
    joined = rng.integers(serial(date(2012, 1, 1)), serial(date(2025, 1, 1)), size=n)
    has_cert = rng.random(n) < 0.6
    cert_day = rng.integers(serial(date(2024, 1, 1)), serial(date(2025, 1, 1)), size=n)
    yn_style = rng.choice(len(YES_NO), size=n, p=[s[2] for s in YES_NO])
    prior = rng.random(n) < 0.03
    second = rng.random(n) < 0.05
    rows, partner_ids = [], []
    for i in range(n):
        pid = f"P{i + 1:05d}"
        partner_ids.append(pid)
        lvl = levels[i]
        code = TERR_CODES[home[i]]
        terr = [code]
        if n_extra[i]:
            others = rng.choice(len(TERR_CODES), size=n_extra[i] + 1, replace=False, p=TERR_W)
            terr += [TERR_CODES[j] for j in others if TERR_CODES[j] != code][: n_extra[i]]
        a, b, c = (NAME_A[rng.integers(len(NAME_A))], NAME_B[rng.integers(len(NAME_B))],
                   NAME_C[rng.integers(len(NAME_C))])
        suffixes = TERRITORIES[code][1]
        name = " ".join(x for x in (a + b, c, suffixes[rng.integers(len(suffixes))]) if x)
        slug = (a + b).lower()
        email = f"{['info', 'sales', 'partners', 'office', 'contact'][rng.integers(5)]}@{slug}-{i + 1}.example"
        yes, no = YES_NO[yn_style[i]][:2]

        def yn(p_yes):
            return yes if rng.random() < p_yes else no

        # Requirements (R6): each partner is equipped for some level ("capability"), mostly its
        # own; some Business partners already meet Certified or Gold requirements (upgrades,
        # R8), some Certified/Gold partners fall short (at risk R9, downgrade at expiry R10).
        cap = rng.choice(3, p=CAPABILITY[lvl])
        eng = int(min(3, cap + rng.choice([0, 0, 0, 1]))) if cap else int(rng.choice([0, 0, 1]))
        spec = int(min(3, cap + rng.choice([0, 0, 0, 1]))) if cap else int(rng.choice([0, 1]))
        web = [cap >= 1 or rng.random() < 0.5 for _ in range(3)]  # support, logo, descriptions
        if cap == 0 and all(web) and eng >= 1 and spec >= 1:
            web[rng.integers(3)] = False  # capability "business" must miss something
        points = int({"business": rng.integers(0, 500), "certified": rng.integers(500, 2000),
                      "gold": rng.integers(2000, 6001)}[lvl])
        commit = None
        if cap == 2 or rng.random() < 0.15:
            commit = float(rng.integers(4, 41) * 500)
        joined_s = int(joined[i]) if lvl == "business" else int(joined[i]) - 700
        cert = int(max(cert_day[i], joined_s)) if has_cert[i] else None
        row = [
            pid, name, email, ", ".join(terr), joined_s,
            STATUS_SPELLINGS[lvl][rng.integers(len(STATUS_SPELLINGS[lvl]))], points, cert, None,
            yn(0.98), yn(0.97), eng, spec, *(yes if w else no for w in web),
            commit, yes if cap == 2 or rng.random() < 0.3 else no, yes if prior[i] else no,
            NFR_BY_LEVEL[lvl][rng.integers(2)] or None,
        ]
        if rng.random() < 0.002:  # a bad requirement cell: a warning, counts as not met (I7)
            row[11] = "two"
        rows.append(row)
        if second[i]:  # a later snapshot: something changed during the year (I2 as_of)
            snap = list(row)
            snap[8] = int(rng.integers(serial(date(YEAR, 2, 1)), serial(date(YEAR, 12, 1))))
            change = rng.integers(5)
            if change == 0:
                snap[11] = max(0, int(eng) + int(rng.choice([-1, 1])))
            elif change == 1:
                snap[12] = max(0, spec + int(rng.choice([-1, 1])))
            elif change == 2:
                snap[13] = no if snap[13] == yes else yes
            elif change == 3:
                snap[16] = float(rng.integers(4, 41) * 500)
            else:
                snap[17] = yes
                snap[19] = "InfoPace, TeamPace, BizPace" if lvl == "gold" else "InfoPace, TeamPace"
            rows.append(snap)
    # Sales activity per partner: skewed, higher for higher levels; ~8% do not sell at all.
    weight = rng.lognormal(0.0, 1.1, size=n) * np.select(
        [levels == "gold", levels == "certified"], [3.0, 1.8], 1.0)
    weight[rng.random(n) < 0.08] = 0.0
    weight /= weight.sum()
    return rows, {"ids": np.array(partner_ids, dtype=object), "weight": weight}


def write_partners(path, rows):
    wb, f = workbook(path)
    ws = wb.add_worksheet("Partners")
    header(ws, f, PARTNER_HEADERS, [10, 34, 34, 14, 12, 22, 9, 12, 12] + [11] * 11)
    date_cols = {4, 7, 8}
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            put(ws, r, c, v, f["date"] if c in date_cols and v is not None and type(v) is not str
                else (f["usd"] if c == 16 else None))
    wb.close()
    return len(rows)


# --------------------------------------------------------------------------------------------
# Sales (I3)
# --------------------------------------------------------------------------------------------

def write_sales(path, rng, n, partners):
    n_dup = round(n * 0.001)        # exact duplicate rows (same invoice, same content)
    n_conf = round(n * 0.0002)      # same invoice ID, different amount
    m = n - n_dup - n_conf          # distinct base invoices
    # Base invoices, ordered by date, numbered per month: INV-25MM-NNNNNN.
    day = np.sort(rand_dates(rng, m, SALES_MONTHS))
    month = MONTH_OF_DAY[day - Y0]
    first_of_month = np.searchsorted(month, month)
    seq = np.arange(m) - first_of_month + 1
    pidx = rng.choice(len(partners["ids"]), size=m, p=partners["weight"])
    ed = rng.choice(len(EDITIONS), size=m, p=[e[3] for e in EDITIONS])
    renewal = rng.random(m) < 0.3
    price = np.array([e[2] for e in EDITIONS], dtype=float)[ed]
    qty = rng.lognormal(0.0, 0.75, size=m)
    amount = price * qty * np.where(renewal, 0.35, 1.0) * rng.uniform(0.85, 1.0, size=m)
    # Out-of-range amounts are redrawn inside the range (no pile-up at the bounds).
    high, low = amount > 20000, amount < 50
    amount[high] = rng.uniform(8000, 20000, size=int(high.sum()))
    amount[low] = rng.uniform(50, 150, size=int(low.sum()))
    cents = rng.random(m) < 0.25
    amount = np.where(cents, np.round(amount, 2), np.round(amount))
    credit = rng.random(m) < 0.02
    amount = np.where(credit, -amount, amount)

    # Final row order: base rows plus duplicates/conflicts placed a little after their source.
    src = np.concatenate([np.arange(m), rng.integers(0, m, size=n_dup + n_conf)])
    key = np.concatenate([np.arange(m, dtype=float),
                          np.minimum(src[m:] + rng.integers(1, 5000, size=n_dup + n_conf), m - 1)
                          + 0.5])
    order = np.argsort(key, kind="stable")
    is_conf = np.zeros(n, dtype=bool)
    is_conf[m + n_dup:] = True
    src, is_conf = src[order], is_conf[order]

    ids = [f"INV-25{mo:02d}-{s:06d}" for mo, s in zip(month[src].tolist(), seq[src].tolist())]
    pids = partners["ids"][pidx[src]].tolist()
    dates = day[src].astype(float).tolist()
    products = np.array([e[0] for e in EDITIONS], dtype=object)[ed[src]].tolist()
    editions = np.array([e[1] for e in EDITIONS], dtype=object)[ed[src]].tolist()
    stype = np.where(renewal[src], "renewal", "licence").astype(object)
    stype[rng.random(n) < 0.01] = "license"  # US spelling, accepted (I3)
    stype[renewal[src]] = "renewal"
    stypes = stype.tolist()
    amt = amount[src].copy()
    k = int(is_conf.sum())
    changed = np.round(amt[is_conf] * rng.uniform(0.5, 1.5, size=k))  # a corrected amount
    changed = np.clip(changed, -20000, 20000)
    amt[is_conf] = np.where(changed == amt[is_conf], changed + 10, changed)
    amounts = amt.tolist()

    # Bad rows (I7), only among base rows that are not the source of a duplicate.
    single = np.flatnonzero(~is_conf & (np.bincount(src, minlength=m)[src] == 1))
    n_bad = min(len(single), max(3, round(n * 0.0003))) if n >= 100 else 0
    bad = rng.permutation(rng.choice(single, size=n_bad, replace=False)) if n_bad else []
    thirds = np.array_split(np.asarray(bad, dtype=int), 3)
    for j, r in enumerate(thirds[0].tolist()):  # unknown or blank partner
        pids[r] = "" if j % 10 == 9 else f"P{len(partners['ids']) + 1 + j * 7:05d}"
    bad_amounts = ["n/a", "N/A", "TBD", "pending", "-", "see credit note", "#VALUE!"]
    for j, r in enumerate(thirds[1].tolist()):
        amounts[r] = bad_amounts[j % len(bad_amounts)]
    bad_dates = ["2025-02-30", "2025-04-31", "2025-13-05", "2025-00-10", "31.02.2025",
                 "2025-06-31", "tbd", "2025-09-31"]
    for j, r in enumerate(thirds[2].tolist()):
        dates[r] = bad_dates[j % len(bad_dates)]
    # A few valid text amounts (I6 reads "$1,234.50" as a number).
    clean = np.setdiff1d(single, np.asarray(bad, dtype=int))
    for r in rng.choice(clean, size=min(len(clean), round(n * 0.0002)), replace=False).tolist():
        if amounts[r] > 0:
            amounts[r] = f"${amounts[r]:,.2f}"

    wb, f = workbook(path)
    ws = wb.add_worksheet("Sales")
    header(ws, f, SALES_HEADERS, [16, 10, 12, 20, 15, 10, 12])
    ws_str, ws_num = ws.write_string, ws.write_number
    fdate, fusd = f["date"], f["usd"]
    r = 0
    for iid, pid, d, prod, edn, st, a in zip(ids, pids, dates, products, editions, stypes, amounts):
        r += 1
        ws_str(r, 0, iid)
        if pid:
            ws_str(r, 1, pid)
        if type(d) is float:
            ws_num(r, 2, d, fdate)
        else:
            ws_str(r, 2, d)
        ws_str(r, 3, prod)
        ws_str(r, 4, edn)
        ws_str(r, 5, st)
        if type(a) is float:
            ws_num(r, 6, a, fusd)
        else:
            ws_str(r, 6, a)
    wb.close()
    return n, {"exact duplicates": n_dup, "same ID, other amount": n_conf, "bad rows": n_bad}


# --------------------------------------------------------------------------------------------
# Activities (I4), leads and co-op claims (I5)
# --------------------------------------------------------------------------------------------

def pick_partners(rng, n, partners, p_unknown=0.0002):
    ids = partners["ids"][rng.choice(len(partners["ids"]), size=n, p=partners["weight"])].tolist()
    for j, r in enumerate(np.flatnonzero(rng.random(n) < p_unknown).tolist()):
        ids[r] = f"P{len(partners['ids']) + 100 + j:05d}"
    return ids


def pick(rng, words, n):
    """n random picks from a word list, as a Python list."""
    return np.array(words, dtype=object)[rng.integers(len(words), size=n)].tolist()


def companies(rng, n):
    return [f"{a} {b}" for a, b in zip(pick(rng, CLIENT_A, n), pick(rng, CITY, n))]


def write_activities(path, rng, n, partners):
    day = np.sort(rand_dates(rng, n))
    typ = rng.choice(len(ACTIVITY_TYPES), size=n, p=[t[4] for t in ACTIVITY_TYPES])
    form = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])  # label, rules key, alias
    appr_kind = rng.choice(3, size=n, p=[0.75, 0.12, 0.13])  # before, blank, after the date
    delta = rng.integers(1, 60, size=n)
    pids = pick_partners(rng, n, partners)
    unknown_type = rng.random(n) < 0.0003
    alias_pick = rng.integers(0, 6, size=n)
    approve_other = rng.random(n) < 0.1  # types without approval sometimes carry a date anyway
    comp, city, guests = companies(rng, n), pick(rng, CITY, n), rng.integers(12, 160, size=n)
    wb, f = workbook(path)
    ws = wb.add_worksheet("Activities")
    header(ws, f, ACTIVITY_HEADERS, [12, 10, 12, 36, 12, 44])
    for i in range(n):
        r = i + 1
        key, label, aliases, needs, _ = ACTIVITY_TYPES[typ[i]]
        act = (label, key, aliases[alias_pick[i] % len(aliases)])[form[i]]
        if unknown_type[i]:
            act = ["Webinar", "Newsletter", "Hackathon"][i % 3]
        d = int(day[i])
        if needs or approve_other[i]:
            kind = appr_kind[i]
            appr = d - int(delta[i]) if kind == 0 else (None if kind == 1 else d + int(delta[i]) % 30 + 1)
        else:
            appr = None
        desc = ACTIVITY_DESC[key].format(c=comp[i], city=city[i], n=int(guests[i]))
        ws.write_string(r, 0, f"ACT-{i + 1:07d}")
        ws.write_string(r, 1, pids[i])
        ws.write_number(r, 2, d, f["date"])
        ws.write_string(r, 3, act)
        if appr is not None:
            ws.write_number(r, 4, appr, f["date"])
        ws.write_string(r, 5, desc)
    wb.close()
    return n


def write_leads(path, rng, n):
    day = np.sort(rand_dates(rng, n, weekend=0.3))
    terr = rng.choice(len(TERR_CODES), size=n, p=TERR_W)
    comp = companies(rng, n)
    contact = [f"{a} {b}" for a, b in zip(pick(rng, FIRST, n), pick(rng, LAST, n))]
    wb, f = workbook(path)
    ws = wb.add_worksheet("Leads")
    header(ws, f, LEAD_HEADERS, [12, 12, 10, 30, 24])
    for i in range(n):
        r = i + 1
        ws.write_string(r, 0, f"LD-{i + 1:07d}")
        ws.write_number(r, 1, int(day[i]), f["date"])
        ws.write_string(r, 2, TERR_CODES[terr[i]])
        ws.write_string(r, 3, comp[i])
        ws.write_string(r, 4, contact[i])
    wb.close()
    return n


def write_coop(path, rng, n, partners):
    day = np.sort(rand_dates(rng, n))
    expense = np.round(np.clip(rng.lognormal(7.3, 0.8, size=n), 100, 25000), 2)
    requested = np.round(expense * rng.uniform(0.25, 0.7, size=n), 2)
    blank = rng.random(n) < 0.15
    pids = pick_partners(rng, n, partners, p_unknown=0.001)
    desc = pick(rng, COOP_DESC, n)
    wb, f = workbook(path)
    ws = wb.add_worksheet("Co-op")
    header(ws, f, COOP_HEADERS, [12, 10, 12, 12, 13, 32])
    for i in range(n):
        r = i + 1
        ws.write_string(r, 0, f"COOP-{i + 1:06d}")
        ws.write_string(r, 1, pids[i])
        ws.write_number(r, 2, int(day[i]), f["date"])
        ws.write_number(r, 3, float(expense[i]), f["usd"])
        if not blank[i]:
            ws.write_number(r, 4, float(requested[i]), f["usd"])
        ws.write_string(r, 5, f"{desc[i]}, "
                              f"{date(YEAR, int(MONTH_OF_DAY[day[i] - Y0]), 1):%B}")
    wb.close()
    return n


# --------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--size", choices=sorted(PRESETS), default="full")
    ap.add_argument("--seed", type=int, default=2025)
    for name in ("sales", "partners", "activities", "leads", "claims"):
        ap.add_argument(f"--{name}", type=int, metavar="N", help=f"override the {name} row count")
    args = ap.parse_args(argv)
    counts = dict(PRESETS[args.size])
    for name in counts:
        if getattr(args, name) is not None:
            counts[name] = getattr(args, name)
    if not 1 <= counts["sales"] <= 1_048_575:
        ap.error("--sales must be between 1 and 1,048,575 (one sheet)")
    if counts["partners"] < 1:
        ap.error("--partners must be at least 1")
    args.outdir.mkdir(parents=True, exist_ok=True)
    rng_p, rng_s, rng_a, rng_l, rng_c = (np.random.default_rng(s)
                                         for s in np.random.SeedSequence(args.seed).spawn(5))
    t_all = time.perf_counter()
    summary = []

    def step(fname, fn):
        t = time.perf_counter()
        out = fn(args.outdir / fname)
        rows, notes = out if isinstance(out, tuple) else (out, {})
        summary.append((fname, rows, notes, time.perf_counter() - t,
                        (args.outdir / fname).stat().st_size))
        print(f"  {fname:16} {rows:>10,} rows  {summary[-1][3]:7.1f} s", file=sys.stderr, flush=True)

    prow, partners = make_partners(rng_p, counts["partners"])
    step("partners.xlsx", lambda p: write_partners(p, prow))
    step("activities.xlsx", lambda p: write_activities(p, rng_a, counts["activities"], partners))
    step("leads.xlsx", lambda p: write_leads(p, rng_l, counts["leads"]))
    step("coop.xlsx", lambda p: write_coop(p, rng_c, counts["claims"], partners))
    step("sales.xlsx", lambda p: write_sales(p, rng_s, counts["sales"], partners))

    total = time.perf_counter() - t_all
    print(f"Inbox written to {args.outdir} (seed {args.seed}, {counts['partners']:,} partners, "
          f"{sum(1 for r in prow if r[8] is not None):,} later snapshots)")
    print(f"{'file':16} {'data rows':>10} {'MB':>8} {'seconds':>8}")
    for fname, rows, notes, secs, size in summary:
        extra = ("  (" + ", ".join(f"{k}: {v:,}" for k, v in notes.items()) + ")") if notes else ""
        print(f"{fname:16} {rows:>10,} {size / 1e6:8.1f} {secs:8.1f}{extra}")
    print(f"{'total':16} {sum(s[1] for s in summary):>10,} "
          f"{sum(s[4] for s in summary) / 1e6:8.1f} {total:8.1f}")


if __name__ == "__main__":
    main()
