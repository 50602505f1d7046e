#!/usr/bin/env bash
# Issue 16's benchmark in one run: 64 buyers, one product with stock
# 1,000,000, the modes front-door, redis-fair, pg-batch and redis-stream,
# against one instance and then two instances sharing Postgres and Redis.
# Builds the release binaries, starts the instances itself on free loopback
# ports with a scratch database (created here, dropped on exit) and a Redis
# key prefix of their own (deleted on exit), and prints the two tables and
# the issue's targets, checked.
#
#   loadtest/bench-fast.sh [SECONDS_PER_MODE]        default 5
#
# Environment (all optional):
#   PGHOST, PGPORT, PGUSER      Postgres for the scratch database (127.0.0.1, 5432, postgres)
#   REDIS_URL                   redis://127.0.0.1:6379
#   MODES                       front-door,redis-fair,pg-batch,redis-stream
#   BUYERS, STOCK               64, 1000000
#   OUT_DIR                     where the reports are kept (default: a new temporary directory)
#   CARGO_TARGET_DIR            where the binaries are built
#   PROFILE                     release; `dev` for a quick try of the script (its numbers mean little)
#
# Exit status: 0 when both runs passed (no mode the catalogue marks safe
# oversold, lost an order or was left undrained), 1 when one did not, 2 when
# the benchmark could not run. The targets are printed, not enforced.
set -euo pipefail

seconds=${1:-5}
modes=${MODES:-front-door,redis-fair,pg-batch,redis-stream}
buyers=${BUYERS:-64}
stock=${STOCK:-1000000}
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}

case "$pg_host:$redis_url" in
  127.*:redis://127.*|localhost:redis://localhost*|127.*:redis://localhost*|localhost:redis://127.*) ;;
  *) echo "error: Postgres ($pg_host) and Redis ($redis_url) must be on loopback" >&2; exit 2 ;;
esac
for tool in curl createdb dropdb redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 2; }
done

profile=${PROFILE:-release}
case "$profile" in
  release) profile_dir=release ;;
  dev) profile_dir=debug ;;
  *) echo "error: PROFILE is release or dev, not $profile" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build --workspace --profile "$profile" --bin flashsale --bin flashsale-loadtest) >&2
service=$target_dir/$profile_dir/flashsale
loadtest=$target_dir/$profile_dir/flashsale-loadtest

run_id="bench_fast_$$_$(date +%s)"
database="flashsale_$run_id"
prefix="flashsale_$run_id"
out=${OUT_DIR:-$(mktemp -d -t flashsale-bench-fast.XXXXXX)}
mkdir -p "$out"
pids=()

cleanup() {
  # Only what this script started, by PID.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  dropdb -h "$pg_host" -p "$pg_port" -U "$pg_user" --if-exists --force "$database" || true
  redis-cli -u "$redis_url" --scan --pattern "$prefix*" | xargs -r redis-cli -u "$redis_url" del >/dev/null || true
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts an instance on a free port; sets `url` once /healthz answers (not
# in a subshell: the PID must reach `pids`).
start_instance() {
  local port log
  port=$(free_port)
  log="$out/instance-$port.log"
  HOST=127.0.0.1 PORT=$port \
    DATABASE_URL="postgres://$pg_user@$pg_host:$pg_port/$database" \
    REDIS_URL="$redis_url" LOCK_KEY_PREFIX="$prefix" RUST_LOG=warn \
    "$service" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      url="http://127.0.0.1:$port"
      return
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "error: the instance on port $port did not come up; its log:" >&2
  cat "$log" >&2
  exit 2
}

createdb -h "$pg_host" -p "$pg_port" -U "$pg_user" "$database"

# Prints the issue's targets for one report, from its JSON.
targets() {
  python3 - "$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
modes = {m["mode"]: m for m in report["modes"]}
def per_s(name):
    m = modes.get(name)
    return m["throughput"]["purchases_per_s"] if m else None
door = modes.get("front-door")
fast = [n for n in ("pg-batch", "redis-stream") if n in modes]
if not fast:
    print("  no pg-batch nor redis-stream in this run: no target to check")
if door and fast:
    best = max(fast, key=per_s)
    ratio = modes[best]["front_door_ratio"]
    print(f"  the faster of pg-batch and redis-stream: {best}, {ratio:.2f}x the front door "
          f"(target >= 0.8): {'met' if ratio >= 0.8 else 'MISSED'}")
    fair = per_s("redis-fair")
    if fair:
        print(f"  {best} over redis-fair: {per_s(best) / fair:.1f}x (target >= 3): "
              f"{'met' if per_s(best) >= 3 * fair else 'MISSED'}")
for name in fast:
    m = modes[name]
    accepted = m["throughput"]["purchases_per_s"]
    durable = m["durable_orders_per_s"] or 0.0
    share = durable / accepted if accepted else 0.0
    print(f"  {name}: durable {durable:.0f}/s = {share:.2f} of accepted {accepted:.0f}/s "
          f"(target >= 0.8): {'met' if share >= 0.8 else 'MISSED'}")
    fairness = m.get("fairness")
    if fairness:
        print(f"  {name}: p99 {fairness['sold_p99_ms']:.1f} ms = {fairness['ratio']:.1f}x the FIFO wait "
              f"of {fairness['fifo_wait_ms']:.1f} ms (target <= 2): {'met' if fairness['ratio'] <= 2 else 'MISSED'}")
    oversold = m["server"]["oversold"]
    lost = m["lost_orders"]
    print(f"  {name}: {oversold} oversold, {lost} lost orders, drained in {m['drain_ms']} ms "
          f"(target 0 and 0): {'met' if oversold == 0 and lost == 0 and m['server']['drained'] else 'MISSED'}")
PY
}

status=0
# One run: the crowd against the given instances, the report kept as JSON
# and Markdown, printed as text with the targets.
bench() {
  local name=$1; shift
  local urls=()
  for url in "$@"; do urls+=(--url "$url"); done
  local code=0
  "$loadtest" "${urls[@]}" --product 1 --stock "$stock" --concurrency "$buyers" \
    --duration "${seconds}s" --modes "$modes" --expect-safe safe --no-progress \
    --format json --out "$out/$name.json" >/dev/null || code=$?
  if [[ ! -s $out/$name.json ]]; then
    echo "error: the $name run wrote no report (exit $code)" >&2
    exit 2
  fi
  if ((code > status)); then status=$code; fi
  "$loadtest" --from-json "$out/$name.json" --format markdown --out "$out/$name.md" >/dev/null || true
  echo
  echo "=== $name: $* ==="
  "$loadtest" --from-json "$out/$name.json" --format text || true
  echo
  echo "targets ($name):"
  targets "$out/$name.json"
}

start_instance
first=$url
bench one-instance "$first"
start_instance
second=$url
bench two-instances "$first" "$second"

echo
echo "reports: $out/{one-instance,two-instances}.{json,md}"
exit "$status"
