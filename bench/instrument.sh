#!/usr/bin/env bash
# What instrument's layers cost: the same axum routes served bare and wrapped by
# Telemetry::instrument (access log to /dev/null, RED metrics, span per request, no export),
# each alone on one tokio worker, loaded in turn by Debian's wrk. Three sets of measurements:
#  - synthetic: bench/instrument-overhead's `/items/42` (a constant answer; --path to change);
#  - demo: the demo backend's real `/`, `/items/43` (a call to the inventory service, which
#    runs instrumented as in the demo, the same for both modes, plus the item's CPU work) and
#    `/health`, one route per run;
#  - mix: the demo backend under `tetrad load`'s request mix without `/slow`
#    (bench/instrument-mix.lua), the bare side with a minimal panic catcher for `/panic`, with
#    enough connections (--mix-connections) that the backend, not the inventory's 1-20 ms
#    sleep, bounds the requests/s.
# Prints requests/s and the server's CPU time per request (from /proc: steadier than req/s on a
# shared machine) for each measurement and mode, then medians over the rounds and the overhead
# of both in percent (target: under 5 %), per route and for the mix; also the median of each
# round's own overheads (its two modes run back to back, so a drift of the machine's speed
# between rounds cancels out), and for the mix those pairs' means with 95 % intervals.
#
# Usage: bench/instrument.sh [--duration 5s] [--connections 32] [--mix-connections 256]
#                            [--rounds 3] [--path /items/42] [--only synthetic|demo|mix]
# Environment: INSTRUMENT_OVERHEAD_BIN=path runs that build of bench/instrument-overhead.
set -euo pipefail

DURATION=5s
CONNECTIONS=32
MIX_CONNECTIONS=256
ROUNDS=3
URL_PATH=/items/42
ONLY=
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --mix-connections) MIX_CONNECTIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --path) URL_PATH=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  apt-get install -y --no-install-recommends wrk >/dev/null
fi
# shellcheck source=bench/instrument-common.sh
. bench/instrument-common.sh
BIN=$(instrument_overhead_bin)

# Stops a server the script started: SIGINT is its graceful shutdown (logs flushed).
stop() { kill -INT "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# CPU ticks (user + system) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_HZ=$(getconf CLK_TCK)

# The inventory the demo backend calls, instrumented like the demo's, shared by both modes.
INVENTORY_PORT=$(free_port)
"$BIN" inventory "$INVENTORY_PORT" >/dev/null 2>&1 &
INVENTORY_PID=$!
trap 'stop "$INVENTORY_PID"' EXIT
wait_ready "$INVENTORY_PORT"
INVENTORY_URL=http://127.0.0.1:$INVENTORY_PORT

# run MODE PATH CONNECTIONS [SCRIPT] -> prints "requests/s CPU-µs-per-request"; SCRIPT is a
# wrk Lua script choosing the requests (PATH is then only the base URL's path).
run() {
  local mode=$1 path=$2 connections=$3 script=${4:-} port pid out rps requests t0 t1 wrk_args
  wrk_args=(-t1 -c"$connections")
  if [ -n "$script" ]; then
    wrk_args+=(-s "$script")
  fi
  port=$(free_port)
  "$BIN" "$mode" "$port" "$INVENTORY_URL" >/dev/null 2>&1 &
  pid=$!
  wait_ready "$port"
  # A short warm-up, then the measured run.
  wrk "${wrk_args[@]}" -d1s "http://127.0.0.1:$port$path" >/dev/null
  t0=$(cpu_ticks "$pid")
  out=$(wrk "${wrk_args[@]}" -d"$DURATION" "http://127.0.0.1:$port$path")
  t1=$(cpu_ticks "$pid")
  stop "$pid"
  # A mix answers some errors on purpose (4xx, 500, 404 items): there a dropped connection is
  # what tells that a mode did not answer.
  if grep -q 'Socket errors' <<<"$out" || { [ -z "$script" ] && grep -q 'Non-2xx' <<<"$out"; }; then
    echo "$mode $path${script:+ ($script)} answered errors:" >&2
    echo "$out" >&2
  fi
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v r="$rps" -v n="$requests" -v t="$((t1 - t0))" -v hz="$TICK_HZ" \
    'BEGIN { printf "%s %.2f\n", r, t / hz / n * 1e6 }'
}

case "$ONLY" in
  ''|synthetic|demo|mix) ;;
  *) echo "--only takes synthetic, demo or mix, not $ONLY" >&2; exit 2 ;;
esac
wanted() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

# Cases: "label plain-mode instrumented-mode path connections [wrk-script]".
CASES=()
if wanted synthetic; then
  CASES+=("synthetic:$URL_PATH plain instrumented $URL_PATH $CONNECTIONS")
fi
if wanted demo; then
  CASES+=("demo:/ demo-plain demo-instrumented / $CONNECTIONS"
          "demo:/items/43 demo-plain demo-instrumented /items/43 $CONNECTIONS"
          "demo:/health demo-plain demo-instrumented /health $CONNECTIONS")
fi
# The mix's bare side catches panics (demo-plain-catch): a bare router's /panic drops the
# connection unanswered, which would make wrk reconnect and measure that instead. Its
# connection count is higher: a third of its requests wait 1-20 ms for the inventory, so with
# 32 connections the requests/s are set by that wait (about 8k/s in both modes) and say
# nothing of the backend's work; with 256 the backend's worker uses its whole core.
if wanted mix; then
  CASES+=("demo:mix demo-plain-catch demo-instrumented / $MIX_CONNECTIONS bench/instrument-mix.lua")
fi

declare -A RESULTS # "label mode field" -> space-separated values over the rounds
for round in $(seq "$ROUNDS"); do
  for case in "${CASES[@]}"; do
    read -r label plain inst path connections script <<<"$case"
    read -r pr pc < <(run "$plain" "$path" "$connections" "$script")
    read -r ir ic < <(run "$inst" "$path" "$connections" "$script")
    RESULTS["$label p rps"]+="$pr " RESULTS["$label p cpu"]+="$pc "
    RESULTS["$label i rps"]+="$ir " RESULTS["$label i cpu"]+="$ic "
    # The overheads of this round's pair, measured back to back under the same machine load.
    RESULTS["$label pair rps"]+="$(awk -v p="$pr" -v i="$ir" 'BEGIN {printf "%.2f", (p - i) / p * 100}') "
    RESULTS["$label pair cpu"]+="$(awk -v p="$pc" -v i="$ic" 'BEGIN {printf "%.2f", (i - p) / p * 100}') "
    printf 'round %d %-16s plain %9s req/s %7s µs CPU/req | instrumented %9s req/s %7s µs CPU/req\n' \
      "$round" "$label" "$pr" "$pc" "$ir" "$ic"
  done
done

# median "v1 v2 ...": the median of space-separated numbers.
median() {
  local values
  read -ra values <<<"$1"
  printf '%s\n' "${values[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
# mean_interval "v1 v2 ...": the mean of space-separated numbers and the half-width of its
# 95 % confidence interval (1.96 standard errors; 0 for fewer than two values).
mean_interval() {
  local values
  read -ra values <<<"$1"
  printf '%s\n' "${values[@]}" | awk '{s += $1; q += $1 * $1; n++} END {
    m = s / n; v = (n > 1) ? (q - n * m * m) / (n - 1) : 0; if (v < 0) v = 0
    printf "%.1f %.1f", m, (n > 1) ? 1.96 * sqrt(v / n) : 0
  }'
}
# pair_means LABEL: the mean round-pair overheads of a case, with their 95 % intervals: how
# far the noise of this machine leaves the answer open.
pair_means() {
  local label=$1 rps rps_half cpu cpu_half
  read -r rps rps_half <<<"$(mean_interval "${RESULTS["$label pair rps"]}")"
  read -r cpu cpu_half <<<"$(mean_interval "${RESULTS["$label pair cpu"]}")"
  printf '%-16s pairs'"'"' mean: requests/s lost %s %% ± %s, CPU added %s %% ± %s (95 %% intervals)\n' \
    "$label" "$rps" "$rps_half" "$cpu" "$cpu_half"
}
header() {
  printf '%-16s %12s %12s %9s | %11s %11s %10s %9s | %9s %9s\n' "$1" "plain req/s" "instr req/s" overhead \
    "plain µs" "instr µs" "+µs/req" "CPU +%" "pair ovh" "pair CPU"
}
# summary LABEL: the medians of a case and its overheads.
summary() {
  local label=$1
  awk -v l="$label" -v p="$(median "${RESULTS["$label p rps"]}")" -v i="$(median "${RESULTS["$label i rps"]}")" \
      -v pc="$(median "${RESULTS["$label p cpu"]}")" -v ic="$(median "${RESULTS["$label i cpu"]}")" \
      -v pr="$(median "${RESULTS["$label pair rps"]}")" -v pcpu="$(median "${RESULTS["$label pair cpu"]}")" 'BEGIN {
    printf "%-16s %12.0f %12.0f %8.1f%% | %11.2f %11.2f %10.2f %8.1f%% | %8.1f%% %8.1f%%\n", l, p, i, (p - i) / p * 100, pc, ic, ic - pc, (ic - pc) / pc * 100, pr, pcpu
  }'
}
routes_shown=
for case in "${CASES[@]}"; do
  read -r label _ _ _ _ script <<<"$case"
  if [ -z "$script" ]; then
    if [ -z "$routes_shown" ]; then
      echo; echo "Per route (one route per run):"; header route; routes_shown=yes
    fi
    summary "$label"
  fi
done
for case in "${CASES[@]}"; do
  read -r label _ _ _ connections script <<<"$case"
  if [ -n "$script" ]; then
    echo
    echo "Request mix ($script, wrk -c$connections: tetrad load's weights without /slow,"
    echo "per 37 requests / 10, /items/{id} 12 (ids 1..100, 1 in 7 a 404), /health 4, /fail 5,"
    echo "/error 4, /panic 2):"
    header mix
    summary "$label"
    pair_means "$label"
  fi
done
echo
echo "(medians over $ROUNDS rounds of $DURATION, wrk -t1, -c$CONNECTIONS per route; overhead = requests/s lost, CPU +% = CPU per request added;"
echo " pair ovh / pair CPU = the median over the rounds of each round's own overheads, its two modes run back to back)"
