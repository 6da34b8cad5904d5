# Shared by bench/instrument.sh and bench/instrument-cachegrind.sh (sourced, from the
# repository's root): the server to measure, and the helpers to start it.

# The bench/instrument-overhead binary: INSTRUMENT_OVERHEAD_BIN when set (e.g. one built from
# another commit, to compare before and after a change under the same machine load), else
# this tree's, built in release.
instrument_overhead_bin() {
  if [ -n "${INSTRUMENT_OVERHEAD_BIN:-}" ]; then
    echo "$INSTRUMENT_OVERHEAD_BIN"
    return
  fi
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/tetrad-target}
  cargo build --release -q -p instrument-overhead >&2
  echo "$CARGO_TARGET_DIR/release/instrument-overhead"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_ready PORT [TENTHS]: waits up to TENTHS tenths of a second (default 100) for the server
# on PORT to answer `/health` or `/`.
wait_ready() {
  for _ in $(seq "${2:-100}"); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    curl -sf "http://127.0.0.1:$1/" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}
