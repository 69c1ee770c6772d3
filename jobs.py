"""The scheduled job: `python jobs.py` (or `sheets-ops run`) runs the agency's day.

Which job runs when (times are the agency's, from the Settings tab; restart after changing
them):

    every Cycle Minutes (2)      capture   new mail in, the rules, the sheet, emails due
    at the Digest Times          digests   escalation digests (business days)
    at the Daily Summary Time    summary   the owner's daily summary (business days)
    at the Backup Time (02:00)   backup    a dated copy of the workbook, 14 kept

The schedule itself is `plan()` in sheets_ops/jobs.py. SIGTERM or Ctrl-C stops it cleanly.
"""

from sheets_ops.jobs import main

if __name__ == "__main__":
    raise SystemExit(main())
