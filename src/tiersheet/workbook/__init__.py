"""Writing the workbooks: the channel team's workbook per month and a statement per partner,
through the same sheet writers (one module per family of sheets) on xlsx.py's fast tables."""

from .channel import MonthWriter, write_month
from .rules_sheet import name_for, rules_rows, write_rules
from .statement import partner_views, write_statement

__all__ = ["MonthWriter", "name_for", "partner_views", "rules_rows", "write_month", "write_rules",
           "write_statement"]
