"""A seeded generator of realistic small inboxes for tests (varied partners, months and events)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import openpyxl

LEVELS = ["Business", "certified", "GOLD", "Business Partner", "", "Gold Certified Partner"]
ACTIVITIES = ["Case study delivery", "seminar", "Development of customized modules",
              "Online or offline product placement", "Project publishing at Bitrix website",
              "localization"]
PRODUCTS = [("Bitrix Intranet", "InfoPace"), ("Bitrix Intranet", "BizPace"),
            ("Bitrix Site Manager", "Standard"), ("Bitrix Site Manager", "Business")]


def make_inbox(folder: Path, seed: int, partners: int = 12, months: int = 3,
               sales_per_month: int = 25) -> Path:
    """Write partners.xlsx and one export per month into `folder`; returns the folder."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = date(2025, 1, 1)
    ids = [f"P{i:03d}" for i in range(1, partners + 1)]

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Partners"
    sheet.append(["Partner ID", "Partner Name", "Email", "Territories", "Joined On", "Starting Status",
                  "Opening Points", "Certificate Issued On", "As Of", "Partner Agreement", "NDA",
                  "Certified Engineers", "Certified Sales Specialists", "First Line Support",
                  "Logo On Website", "Product Descriptions On Website", "Sales Commitment USD",
                  "Forecast Submitted", "Prior Intranet Sale", "NFR Issued"])
    for pid in ids:
        level = rng.choice(LEVELS)
        rich = rng.random() < 0.6
        row = [pid, f"Partner {pid}", f"{pid.lower()}@example.com", rng.choice(["DE", "FR", "DE, FR", "PL"]),
               start + timedelta(days=rng.randrange(0, 45)) if rng.random() < 0.2 else None,
               level, rng.choice([0, 150, 480, 900, 1950, 2500]),
               start - timedelta(days=rng.randrange(200, 400)) if rng.random() < 0.7 else None, None,
               "yes", rng.choice(["yes", "Y", "x", "no"]) if rng.random() < 0.2 else "yes",
               rng.choice([0, 1, 2, 3]) if rich else rng.choice([0, 1]),
               rng.choice([1, 2, 3]) if rich else 0,
               "yes" if rich else rng.choice(["no", ""]), "yes" if rich else "no", "TRUE" if rich else "FALSE",
               rng.choice([0, 1000, 5000, 20000]), "yes" if rich else "no",
               "yes" if rng.random() < 0.15 else "no", rng.choice(["", "InfoPace", "TeamPace"])]
        sheet.append(row)
        if rng.random() < 0.3:  # a later snapshot changes the requirements
            later = list(row)
            later[8] = start + timedelta(days=31 * rng.randrange(1, months) + 3) if months > 1 else start
            later[11] = rng.choice([0, 1, 2])
            later[12] = rng.choice([1, 2])
            sheet.append(later)
    book.save(folder / "partners.xlsx")

    invoice = activity = lead = claim = 0
    for m in range(months):
        month = date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1)
        book = openpyxl.Workbook()
        sales = book.active
        sales.title = "Sales"
        sales.append(["Invoice ID", "Partner ID", "Invoice Date", "Product", "Edition", "Sale Type", "Amount USD"])
        for _ in range(sales_per_month):
            invoice += 1
            product, edition = rng.choice(PRODUCTS)
            amount = rng.choice([330, 499, 990, 1490, 2990, 4990, 12.5, 75.99])
            if rng.random() < 0.08:
                amount = -amount  # a credit note
            day = month + timedelta(days=rng.randrange(0, 28))
            row = [f"INV-{invoice:05d}", rng.choice(ids), day, product, edition,
                   rng.choice(["licence", "license", "renewal", ""]), amount]
            if rng.random() < 0.04:
                row[6] = "n/a"  # unreadable amount
            if rng.random() < 0.03:
                row[1] = "P999"  # unknown partner
            sales.append(row)
            if rng.random() < 0.04:
                sales.append(list(row))  # exact duplicate
        acts = book.create_sheet("Activities")
        acts.append(["Activity ID", "Partner ID", "Date", "Activity", "Approved On", "Description"])
        for _ in range(6):
            activity += 1
            day = month + timedelta(days=rng.randrange(0, 28))
            approved = rng.choice([None, day - timedelta(days=5), day + timedelta(days=3)])
            acts.append([f"ACT-{activity:04d}", rng.choice(ids), day, rng.choice(ACTIVITIES), approved,
                         rng.choice(["", "=SUM(A1:A2)", "+ promo", "webinar"])])
        leads = book.create_sheet("Leads")
        leads.append(["Lead ID", "Received On", "Territory", "Company", "Contact"])
        for _ in range(5):
            lead += 1
            leads.append([f"L-{lead:04d}", month + timedelta(days=rng.randrange(0, 28)),
                          rng.choice(["DE", "FR", "PL", "SE"]), f"Company {lead}", "@contact"])
        coop = book.create_sheet("Co-op")
        coop.append(["Claim ID", "Partner ID", "Date", "Expense USD", "Requested USD", "Description"])
        for _ in range(3):
            claim += 1
            coop.append([f"C-{claim:04d}", rng.choice(ids), month + timedelta(days=rng.randrange(0, 28)),
                         rng.choice([500, 1200, 3000]), rng.choice([None, 200, 900, 2000]), "event"])
        book.save(folder / f"{month:%Y-%m}.xlsx")
    return folder
