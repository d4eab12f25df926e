#!/usr/bin/env bash
# Render the demo's HTML report in headless Chromium and save screenshots + a PDF, to look at it as a
# person would (screen and print). Needs Debian's chromium package: apt-get install chromium fonts-noto-cjk
set -euo pipefail
out=${1:-/tmp/fba-jp-report-check}
mkdir -p "$out"
cd "$out"
fba-jp demo --db demo.db --report report.html > /dev/null
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$out/profile" --hide-scrollbars)
chromium "${flags[@]}" --window-size=1200,2200 --screenshot="$out/report-top.png" "file://$out/report.html" 2>/dev/null
chromium "${flags[@]}" --window-size=1200,9000 --screenshot="$out/report-full.png" "file://$out/report.html" 2>/dev/null
chromium "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$out/report.pdf" "file://$out/report.html" 2>/dev/null
echo "wrote $out/report-top.png, $out/report-full.png and $out/report.pdf"
