#!/usr/bin/env bash
# Renders what people see, from the demo agency, into docs/*.png: the emails the owner and a
# CSR receive, the Requests tab, the Health tab's Problems lines and the Dashboard.
# Needs Debian's chromium, libreoffice-calc and poppler-utils. Run from the repository root.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/sheets-ops demo "$work/agency" --now 2026-12-01T07:00 >/dev/null 2>&1
(cd "$work/agency" && "$OLDPWD/.venv/bin/sheets-ops" digest --preview "$work/preview" --now 2026-12-01T08:31 >/dev/null)
shot() {  # html png height
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile" --hide-scrollbars --window-size="760,$3" \
        --screenshot="$2" "file://$1" >/dev/null 2>&1
}
shot "$(ls "$work"/preview/digest-*dana*.html)" docs/digest.png 680
shot "$(ls "$work"/preview/summary-*dana*.html)" docs/daily-summary.png 1000
shot "$(ls "$work"/preview/queue-*tom*.html)" docs/morning-queue-email.png 760
# one sheet of the workbook as LibreOffice draws it (libreoffice-calc, poppler-utils)
sheet() {  # workbook tab png
    .venv/bin/python -c "
from openpyxl import load_workbook
wb = load_workbook('$1')
for name in [n for n in wb.sheetnames if n != '$2']:
    del wb[name]  # one sheet, one page
wb.save('$work/$2.xlsx')"
    soffice --headless --convert-to 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}' \
        --outdir "$work" "$work/$2.xlsx" >/dev/null 2>&1
    pdftoppm -png -r 60 -singlefile "$work/$2.pdf" "$3"
}
sheet "$work/agency/tracker.xlsx" Requests docs/requests-tab
# the Health tab once a person typed a Status the job cannot use
.venv/bin/python -c "
import sys; sys.path.insert(0, '.')
from tests.people import edit_tab
from sheets_ops.sync.xlsx import XlsxTracker
def typo(header, rows):
    rows[2][header.index('Status')] = 'Waiting for carrier'
    rows[4][header.index('Owner')] = 'Jane Nobody'
    return header, rows
edit_tab(XlsxTracker('$work/agency/tracker.xlsx'), 'Requests', typo)"
(cd "$work/agency" && "$OLDPWD/.venv/bin/sheets-ops" run --once --now 2026-12-01T08:40 >/dev/null 2>&1)
sheet "$work/agency/tracker.xlsx" Health docs/health-problems
# the weekly report, on the week whose figures tests/week.py works out by hand
mkdir -p "$work/week"
.venv/bin/python -c "
import sys; sys.path.insert(0, '.')
from sheets_ops.model import ARCHIVE, TABS
from sheets_ops.sync.xlsx import XlsxTracker
from tests.week import fill_week
book = XlsxTracker('$work/week/tracker.xlsx'); book.init((*TABS, ARCHIVE)); fill_week(book)"
(cd "$work/week" && "$OLDPWD/.venv/bin/sheets-ops" report --from 2026-11-16 --to 2026-11-22 --html "$work/week.html" >/dev/null)
shot "$work/week.html" docs/weekly-report.png 1620
# the same report once `sheets-ops baseline` read the mailbox of the months before (the
# generated mailbox of tests/test_baseline.py): the baseline beside the week
.venv/bin/python -c "
import sys; sys.path.insert(0, '.')
from pathlib import Path
from sheets_ops.rules.settings import read_settings
from sheets_ops.sync.xlsx import XlsxTracker
from tests.mailbox_gen import generate
box = generate(read_settings(XlsxTracker(Path('$work/week/tracker.xlsx')).read()).calendar, 400)
for name, raws in (('old-inbox', box.inbox), ('old-sent', box.sent)):
    (Path('$work') / name).mkdir()
    for n, raw in enumerate(raws):
        (Path('$work') / name / f'{n:05d}.eml').write_bytes(raw)"
(cd "$work/week" && MAILBOX="$work/old-inbox" "$OLDPWD/.venv/bin/sheets-ops" baseline \
    --sent "$work/old-sent" --since 2026-09-01 --now 2026-12-01T17:00 >/dev/null 2>&1)
(cd "$work/week" && "$OLDPWD/.venv/bin/sheets-ops" report --from 2026-11-16 --to 2026-11-22 --html "$work/week-baseline.html" >/dev/null)
shot "$work/week-baseline.html" docs/weekly-report-baseline.png 1800
# the Dashboard tab as LibreOffice draws it (needs libreoffice-calc and poppler-utils), on
# the same week, seen on its Friday afternoon
.venv/bin/python -c "
import sys; sys.path.insert(0, '.')
from datetime import datetime
from openpyxl import load_workbook
from sheets_ops.cycle import run_cycle
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.xlsx import XlsxTracker, draw_charts
run_cycle(XlsxTracker('$work/week/tracker.xlsx'), FolderMailbox('$work/week/inbox'),
          datetime(2026, 11, 20, 16, 30))
wb = load_workbook('$work/week/tracker.xlsx')
for name in [n for n in wb.sheetnames if n != 'Dashboard']:
    del wb[name]  # one sheet, one page
draw_charts(wb['Dashboard'])
wb.save('$work/dashboard.xlsx')"
soffice --headless --convert-to 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}' \
    --outdir "$work" "$work/dashboard.xlsx" >/dev/null 2>&1
pdftoppm -png -r 80 -singlefile "$work/dashboard.pdf" docs/dashboard
echo "docs/digest.png docs/daily-summary.png docs/morning-queue-email.png docs/requests-tab.png"
echo "docs/health-problems.png docs/weekly-report.png docs/dashboard.png"
