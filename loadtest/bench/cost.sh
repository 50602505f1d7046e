#!/usr/bin/env bash
# The generator's own cost: the wall time and CPU time of flashsale-loadtest
# and oha for the same number of requests at the same connections, against
# the same cheap endpoint of a running flashsale, alternately; prints each
# round and the median ratios (flashsale-loadtest / oha).
#
#   loadtest/bench/cost.sh [URL] [REQUESTS] [CONNECTIONS] [ROUNDS]
#   defaults:              http://127.0.0.1:8080 20000 64 5
#
# Needs: a running service, oha (cargo install oha --locked). Loopback only.
set -euo pipefail

url=${1:-http://127.0.0.1:8080}
requests=${2:-20000}
connections=${3:-64}
rounds=${4:-5}

case "$url" in
  http://127.*|http://localhost*|http://\[::1\]*) ;;
  *) echo "error: $url is not a loopback address" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/../.." && pwd)
loadtest=${LOADTEST_BIN:-$here/target/release/flashsale-loadtest}
oha=${OHA_BIN:-oha}
[[ -x $loadtest ]] || { echo "error: build it first: cargo build --release -p loadtest" >&2; exit 2; }
command -v "$oha" >/dev/null || { echo "error: oha is not installed (cargo install oha --locked)" >&2; exit 2; }
curl -fsS "$url/healthz" >/dev/null || { echo "error: cannot reach $url/healthz" >&2; exit 2; }

timefile=$(mktemp)
trap 'rm -f "$timefile"' EXIT

# One run of one tool; prints "wall_seconds cpu_seconds".
run() {
  case "$1" in
    oha)
      /usr/bin/time -o "$timefile" -f "%e %U %S" \
        "$oha" --no-tui -n "$requests" -c "$connections" "$url/healthz" >/dev/null ;;
    loadtest)
      /usr/bin/time -o "$timefile" -f "%e %U %S" \
        "$loadtest" --url "$url" --get /healthz -n "$requests" -c "$connections" \
        --format csv --no-progress >/dev/null ;;
  esac
  awk '{print $1, $2 + $3}' "$timefile"
}

echo "GET $url/healthz, $requests requests, $connections connections, $rounds rounds, $(nproc) cores"
printf '%-6s%24s%24s\n' round "oha (wall, cpu)" "loadtest (wall, cpu)"
walls=() cpus=()
for ((r = 1; r <= rounds; r++)); do
  # Alternate the order so neither always runs on a warmer (or busier) machine.
  if ((r % 2)); then order=(oha loadtest); else order=(loadtest oha); fi
  declare -A wall cpu
  for t in "${order[@]}"; do read -r "wall[$t]" "cpu[$t]" < <(run "$t"); done
  printf '%-6s%24s%24s\n' "$r" "${wall[oha]} s ${cpu[oha]} s" "${wall[loadtest]} s ${cpu[loadtest]} s"
  walls+=("$(awk -v a="${wall[loadtest]}" -v b="${wall[oha]}" 'BEGIN {print a / b}')")
  cpus+=("$(awk -v a="${cpu[loadtest]}" -v b="${cpu[oha]}" 'BEGIN {print a / b}')")
  unset wall cpu
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "loadtest / oha, median of $rounds: wall $(median "${walls[@]}")×, cpu $(median "${cpus[@]}")×"
