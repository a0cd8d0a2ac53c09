#!/usr/bin/env bash
# Pacing experiment: bench/pacing (-mode tickers|shared) sends 20 ms RTP on
# N calls to bench/rtpsink, which answers every 20 ms and measures the
# intervals; prints rtpsink's interval statistics and the sender's CPU.
#
#   bench/pacing/run.sh [-n 500] [-mode tickers] [-dur 20] [-rt PRIO] [-out DIR]
set -euo pipefail
N=500 MODE=tickers DUR=20 RT=0 OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	-mode) MODE=$2; shift 2 ;;
	-dur) DUR=$2; shift 2 ;;
	-rt) RT=$2; shift 2 ;;
	-out) OUT=$2; shift 2 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-/tmp/ivr-pacing-$MODE-$N-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/bin"
(cd "$ROOT" && go build -o "$OUT/bin/" ./bench/rtpsink ./bench/pacing ./bench/procmon)
SCHED=()
[ "$RT" -gt 0 ] && SCHED=(chrt -f "$RT")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

"${SCHED[@]}" "$OUT/bin/rtpsink" -calls "$N" -keys "" -idle 2s -csv "$OUT/ports.csv" -json "$OUT/sink.json" \
	>/dev/null 2>"$OUT/sink.log" &
SINK=$!
PIDS+=("$SINK")
for _ in $(seq 100); do [ -f "$OUT/ports.csv" ] && break; sleep 0.1; done
RAMP=$(( N / 50 ))
"${SCHED[@]}" "$OUT/bin/pacing" -mode "$MODE" -csv "$OUT/ports.csv" -ramp "${RAMP}s" -dur "${DUR}s" >"$OUT/pacing.json" &
PACING=$!
PIDS+=("$PACING")
"$OUT/bin/procmon" -json "$OUT/procmon.json" pacing="$PACING" sink="$SINK" >/dev/null 2>&1 &
PROCMON=$!
PIDS+=("$PROCMON")
wait "$PACING"
kill -TERM "$SINK" "$PROCMON"
wait "$SINK" "$PROCMON" || true
jq -c --arg mode "$MODE" --argjson rt "$RT" --slurpfile pm "$OUT/procmon.json" \
	'{mode: $mode, calls, rt: $rt, interval_ms, steady_interval_ms: .steady.interval_ms, missing_packets, seq_gaps,
	  pacing_cpu_pct: ($pm[0].procs[0].cpu_avg_pct), sink_cpu_pct: ($pm[0].procs[1].cpu_avg_pct), system_busy_pct: $pm[0].system_busy_avg_pct}' \
	"$OUT/sink.json"
