#!/usr/bin/env bash
# Is the generator ever the bottleneck? Runs flashsale-loadtest and a
# well-known generator (wrk, and oha when installed) against the same cheap
# endpoint of a running flashsale, alternately, and prints each one's
# requests/s, its CPU per request, and the median ratio.
#
#   loadtest/bench/compare.sh [URL] [CONNECTIONS] [SECONDS] [ROUNDS]
#   defaults:                 http://127.0.0.1:8080 50 10 3
#
# Needs: a running service (cargo run --release), wrk (apt-get install wrk),
# optionally oha (cargo install oha). Loopback targets only.
set -euo pipefail

url=${1:-http://127.0.0.1:8080}
connections=${2:-50}
seconds=${3:-10}
rounds=${4:-3}
threads=$(nproc)

case "$url" in
  http://127.*|http://localhost*|http://\[::1\]*) ;;
  *) echo "error: $url is not a loopback address" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/../.." && pwd)
loadtest=${LOADTEST_BIN:-$here/target/release/flashsale-loadtest}
if [[ ! -x $loadtest ]]; then
  (cd "$here" && cargo build --release -p loadtest)
fi
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
curl -fsS "$url/healthz" >/dev/null || { echo "error: cannot reach $url/healthz" >&2; exit 2; }
tools=(wrk flashsale-loadtest)
if command -v oha >/dev/null; then tools=(wrk oha flashsale-loadtest); fi

timefile=$(mktemp)
trap 'rm -f "$timefile"' EXIT

# One run of one tool; prints "requests_per_s cpu_seconds requests".
run() {
  local out rps cpu
  case "$1" in
    wrk)
      out=$(/usr/bin/time -o "$timefile" -f "%U %S" \
        wrk -t"$threads" -c"$connections" -d"${seconds}s" "$url/healthz")
      rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
      ;;
    oha)
      out=$(/usr/bin/time -o "$timefile" -f "%U %S" \
        oha --no-tui --output-format json -c "$connections" -z "${seconds}s" "$url/healthz")
      rps=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["requestsPerSec"])' <<<"$out")
      ;;
    flashsale-loadtest)
      out=$(/usr/bin/time -o "$timefile" -f "%U %S" \
        "$loadtest" --url "$url" --get /healthz --concurrency "$connections" \
        --duration "${seconds}s" --format csv --no-progress)
      rps=$(awk -F, 'NR==1 {for (i=1;i<=NF;i++) if ($i=="requests_per_s") c=i} NR==2 {print $c}' <<<"$out")
      ;;
  esac
  cpu=$(awk '{print $1+$2}' "$timefile")
  echo "$rps $cpu"
}

echo "GET $url/healthz, $connections connections, ${seconds} s per run, $rounds rounds, $threads cores"
printf '%-6s' round; for t in "${tools[@]}"; do printf '%22s' "$t"; done; echo
declare -A all
for ((r = 1; r <= rounds; r++)); do
  printf '%-6s' "$r"
  # Alternate the order so no tool always runs on a warmer (or busier) machine.
  order=("${tools[@]}")
  if ((r % 2 == 0)); then order=($(printf '%s\n' "${tools[@]}" | tac)); fi
  declare -A line
  for t in "${order[@]}"; do
    read -r rps cpu < <(run "$t")
    all[$t]+="$rps "
    us=$(awk -v c="$cpu" -v r="$rps" -v s="$seconds" 'BEGIN {printf "%.1f", c * 1e6 / (r * s)}')
    line[$t]=$(printf '%.0f/s %sus' "$rps" "$us")
  done
  for t in "${tools[@]}"; do printf '%22s' "${line[$t]}"; done; echo
  unset line
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-6s' median
declare -A med
for t in "${tools[@]}"; do
  med[$t]=$(median <<<"${all[$t]}")
  printf '%22s' "$(printf '%.0f/s' "${med[$t]}")"
done
echo
echo "(each cell: requests/s, and the generator's own CPU time per request in µs)"
for t in "${tools[@]}"; do
  [[ $t == flashsale-loadtest ]] && continue
  awk -v a="${med[flashsale-loadtest]}" -v b="${med[$t]}" -v t="$t" \
    'BEGIN {printf "flashsale-loadtest / %s = %.2f\n", t, a / b}'
done
