#!/usr/bin/env bash
# What instrument's layers cost: the same axum routes served bare and wrapped by
# Telemetry::instrument (access log to /dev/null, RED metrics, span per request, no export),
# each alone on one tokio worker, loaded in turn by Debian's wrk; prints requests/s and the
# overhead in percent (target: under 5 %).
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

# run MODE -> prints requests/s
run() {
  local mode=$1 port pid rps
  port=$(free_port)
  "$BIN" "$mode" "$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  # A short warm-up, then the measured run.
  wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port$URL_PATH" >/dev/null
  rps=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$port$URL_PATH" | awk '/^Requests\/sec:/ {print $2}')
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "$rps"
}

plain_all=()
inst_all=()
for round in $(seq "$ROUNDS"); do
  p=$(run plain)
  i=$(run instrumented)
  plain_all+=("$p")
  inst_all+=("$i")
  printf 'round %d: plain %s req/s, instrumented %s req/s\n' "$round" "$p" "$i"
done
# Medians over the rounds, then the overhead.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
P=$(median "${plain_all[@]}")
I=$(median "${inst_all[@]}")
awk -v p="$P" -v i="$I" 'BEGIN {
  printf "median: plain %.0f req/s, instrumented %.0f req/s, overhead %.1f %%\n", p, i, (p - i) / p * 100
}'
