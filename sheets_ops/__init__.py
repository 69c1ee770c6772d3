"""sheets_ops: an insurance agency's service desk, kept in the spreadsheet it already uses."""

__version__ = "0.1.0"
