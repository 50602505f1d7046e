#!/usr/bin/env bash
# Renders one chart of an HTML report (flashsale-loadtest --format html) to a
# PNG with headless Chromium, for a README or a slide:
#
#   loadtest/bench/chart-png.sh report.html sold docs/lab-report.png
#
# SECTION is the id of a section of the page: verdicts, sold, latency or
# throughput. HEIGHT (default 900) is the window's height in pixels; the width
# is 1200. The page is cut down to its head and that one section, so the
# picture starts at the chart.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 REPORT.html SECTION OUT.png [HEIGHT]" >&2
  exit 2
fi
report=$1 section=$2 out=$3 height=${4:-900}
page=$(mktemp --suffix=.html)
trap 'rm -f "$page"' EXIT

awk -v id="$section" '
  /<main>/ { print; head_done = 1; next }
  !head_done { print; next }
  index($0, "<section id=\"" id "\">") == 1 { inside = 1 }
  inside { print }
  inside && /<\/section>/ { inside = 0 }
  END { print "</main>\n</body>\n</html>" }
' "$report" >"$page"
grep -q "<section id=\"$section\">" "$page" || {
  echo "$report has no section $section (verdicts, sold, latency, throughput)" >&2
  exit 1
}

chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run \
  --hide-scrollbars --screenshot="$(realpath -m "$out")" --window-size="1200,$height" \
  "file://$page" 2>/dev/null
echo "$out"
