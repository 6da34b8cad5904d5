#!/usr/bin/env bash
# What instrument's layers cost: the same axum routes served bare and wrapped by
# Telemetry::instrument (access log to /dev/null, RED metrics, span per request, no export),
# each alone on one tokio worker, loaded in turn by Debian's wrk. Prints requests/s, the
# server's CPU time per request (from /proc: steadier than req/s on a shared machine) and the
# overhead of both in percent (target: under 5 %).
#
# Usage: bench/instrument.sh [--duration 10s] [--connections 32] [--rounds 3] [--path /items/42]
set -euo pipefail

DURATION=10s
CONNECTIONS=32
ROUNDS=3
URL_PATH=/items/42
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --path) URL_PATH=$2; shift 2 ;;
    *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  apt-get install -y --no-install-recommends wrk >/dev/null
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/tetrad-target}
cargo build --release -q -p instrument-overhead
BIN=$CARGO_TARGET_DIR/release/instrument-overhead

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU ticks (user + system) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_HZ=$(getconf CLK_TCK)

# run MODE -> prints "requests/s CPU-µs-per-request"
run() {
  local mode=$1 port pid out rps requests t0 t1
  port=$(free_port)
  "$BIN" "$mode" "$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  # A short warm-up, then the measured run.
  wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port$URL_PATH" >/dev/null
  t0=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$port$URL_PATH")
  t1=$(cpu_ticks "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v r="$rps" -v n="$requests" -v t="$((t1 - t0))" -v hz="$TICK_HZ" \
    'BEGIN { printf "%s %.2f\n", r, t / hz / n * 1e6 }'
}

plain_rps=() inst_rps=() plain_cpu=() inst_cpu=()
for round in $(seq "$ROUNDS"); do
  read -r pr pc < <(run plain)
  read -r ir ic < <(run instrumented)
  plain_rps+=("$pr") inst_rps+=("$ir") plain_cpu+=("$pc") inst_cpu+=("$ic")
  printf 'round %d: plain %s req/s (%s µs CPU/req), instrumented %s req/s (%s µs CPU/req)\n' \
    "$round" "$pr" "$pc" "$ir" "$ic"
done
# Medians over the rounds, then the overheads.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
awk -v p="$(median "${plain_rps[@]}")" -v i="$(median "${inst_rps[@]}")" \
    -v pc="$(median "${plain_cpu[@]}")" -v ic="$(median "${inst_cpu[@]}")" 'BEGIN {
  printf "median requests/s: plain %.0f, instrumented %.0f, overhead %.1f %%\n", p, i, (p - i) / p * 100
  printf "median CPU per request: plain %.2f µs, instrumented %.2f µs, +%.2f µs (%.1f %%)\n", pc, ic, ic - pc, (ic - pc) / pc * 100
}'
