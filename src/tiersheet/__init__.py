"""tiersheet: run a reseller partner programme from spreadsheets."""

__version__ = "0.1.0"
