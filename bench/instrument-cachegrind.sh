#!/usr/bin/env bash
# What instrument's layers cost the demo backend under its request mix, counted rather than
# timed: the backend runs under Valgrind's cachegrind (Debian's valgrind, installed if
# missing), bare (demo-plain-catch) and instrumented (demo-instrumented), loaded by wrk with
# bench/instrument-mix.lua; the inventory it calls runs natively, the same for both modes.
# Prints per request: instructions executed (Ir), first-level instruction and data cache
# misses (I1mr, D1mr, D1mw, as cachegrind simulates this CPU's caches) and what the layers add.
#
# Counts do not move with the machine's load the way time does, so a change of a few hundred
# instructions per request shows in one run, where bench/instrument.sh needs many rounds on a
# busy machine. Each mode runs twice, for a short and a long load, and the difference of the
# two runs' counts divided by the difference of their requests is the per-request cost (the
# start and the shutdown cancel out). Under cachegrind the server runs some 50x slower; the
# counts are those of the same code.
#
# Usage: bench/instrument-cachegrind.sh [--short 6] [--long 18] [--connections 16]
# Environment: INSTRUMENT_OVERHEAD_BIN=path runs that build of bench/instrument-overhead.
set -euo pipefail

SHORT=6
LONG=18
CONNECTIONS=16
while [ $# -gt 0 ]; do
  case "$1" in
    --short) SHORT=$2; shift 2 ;;
    --long) LONG=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 2 ;;
  esac
done
if [ "$LONG" -le "$SHORT" ]; then
  echo "--long ($LONG) must be longer than --short ($SHORT)" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
for tool in wrk valgrind; do
  if ! command -v "$tool" >/dev/null; then
    apt-get install -y --no-install-recommends "$tool" >/dev/null
  fi
done
# shellcheck source=bench/instrument-common.sh
. bench/instrument-common.sh
BIN=$(instrument_overhead_bin)

WORK=$(mktemp -d)
INVENTORY_PORT=$(free_port)
"$BIN" inventory "$INVENTORY_PORT" >/dev/null 2>&1 &
INVENTORY_PID=$!
# Stops the servers this script started (SIGINT: their graceful shutdown).
cleanup() {
  kill -INT "$INVENTORY_PID" 2>/dev/null || true
  wait "$INVENTORY_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
wait_ready "$INVENTORY_PORT"

# measure MODE SECONDS -> "requests Ir I1mr D1mr D1mw" of one run under cachegrind.
measure() {
  local mode=$1 seconds=$2 port pid out requests
  port=$(free_port)
  out=$WORK/$mode-$seconds
  valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file="$out" \
    "$BIN" "$mode" "$port" "http://127.0.0.1:$INVENTORY_PORT" >/dev/null 2>"$out.log" &
  pid=$!
  # Under cachegrind a server takes seconds to start.
  wait_ready "$port" 300
  requests=$(wrk -t1 -c"$CONNECTIONS" -s bench/instrument-mix.lua -d"${seconds}s" \
    "http://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
  kill -INT "$pid"
  wait "$pid" || true
  awk -v n="$requests" '
    /^events:/ { for (i = 2; i <= NF; i++) col[$i] = i - 1 }
    /^summary:/ { print n, $(col["Ir"] + 1), $(col["I1mr"] + 1), $(col["D1mr"] + 1), $(col["D1mw"] + 1) }
  ' "$out"
}

declare -A PER_REQUEST # mode -> "Ir I1mr D1mr D1mw" per request
for mode in demo-plain-catch demo-instrumented; do
  read -r n1 a1 b1 c1 d1 < <(measure "$mode" "$SHORT")
  read -r n2 a2 b2 c2 d2 < <(measure "$mode" "$LONG")
  if [ "$n2" -le "$n1" ]; then
    echo "$mode: the long run served no more requests ($n2) than the short one ($n1)" >&2
    exit 1
  fi
  PER_REQUEST[$mode]=$(awk -v n="$((n2 - n1))" -v a="$((a2 - a1))" -v b="$((b2 - b1))" \
    -v c="$((c2 - c1))" -v d="$((d2 - d1))" 'BEGIN { printf "%.0f %.0f %.0f %.0f", a/n, b/n, c/n, d/n }')
  echo "$mode: $n1 and $n2 requests in ${SHORT} s and ${LONG} s under cachegrind"
done

read -r pa pb pc pd <<<"${PER_REQUEST[demo-plain-catch]}"
read -r ia ib ic id <<<"${PER_REQUEST[demo-instrumented]}"
echo
echo "Per request of the demo's mix (bench/instrument-mix.lua, wrk -c$CONNECTIONS):"
printf '%-22s %12s %10s %10s %10s\n' "" instructions "I1 misses" "D1r miss" "D1w miss"
printf '%-22s %12s %10s %10s %10s\n' "bare" "$pa" "$pb" "$pc" "$pd"
printf '%-22s %12s %10s %10s %10s\n' "instrumented" "$ia" "$ib" "$ic" "$id"
awk -v pa="$pa" -v pb="$pb" -v pc="$pc" -v pd="$pd" -v ia="$ia" -v ib="$ib" -v ic="$ic" -v id="$id" 'BEGIN {
  printf "%-22s %+12d %+10d %+10d %+10d\n", "added by the layers", ia - pa, ib - pb, ic - pc, id - pd
  printf "%-22s %+11.1f%% %+9.1f%% %+9.1f%% %+9.1f%%\n", "", (ia - pa) / pa * 100, (ib - pb) / pb * 100, (ic - pc) / pc * 100, (id - pd) / pd * 100
}'
