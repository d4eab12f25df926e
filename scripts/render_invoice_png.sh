#!/usr/bin/env bash
# Page 1 of the demo's commercial invoice (the cleared shipment), and of a blocked shipment's draft, as PNG
# for the docs: runs `fba-jp demo` in a scratch directory and renders with pdftoppm (Debian: poppler-utils).
#   bash scripts/render_invoice_png.sh [OUT_DIR]        (default docs/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath "${1:-docs}")
command -v pdftoppm >/dev/null || { echo "needs pdftoppm: apt-get install poppler-utils" >&2; exit 3; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && fba-jp demo --db demo.db --report demo.html >/dev/null)
mkdir -p "$out"
pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$work/demo-documents/FBA15HD0001A-invoice.pdf" "$out/invoice-page1"
pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$work/demo-documents/FBA15MP0002A-invoice-DRAFT.pdf" "$out/invoice-draft-page1"
echo "wrote $out/invoice-page1.png and $out/invoice-draft-page1.png"
