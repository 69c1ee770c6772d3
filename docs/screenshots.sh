#!/usr/bin/env bash
# Renders the emails the owner receives, from the demo agency, into docs/*.png.
# Needs Debian's chromium (apt-get install chromium). Run from the repository root.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/sheets-ops demo "$work/agency" >/dev/null 2>&1
(cd "$work/agency" && "$OLDPWD/.venv/bin/sheets-ops" digest --preview "$work/preview" --now 2026-11-30T08:31 >/dev/null)
shot() {  # html png height
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile" --hide-scrollbars --window-size="760,$3" \
        --screenshot="$2" "file://$1" >/dev/null 2>&1
}
shot "$(ls "$work"/preview/digest-*dana*.html)" docs/digest.png 680
shot "$(ls "$work"/preview/summary-*dana*.html)" docs/daily-summary.png 1000
echo "docs/digest.png docs/daily-summary.png"
