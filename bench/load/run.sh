#!/usr/bin/env bash
# Call-path load benchmark: N concurrent SIPp calls through the demo menu
# with audio both ways, against `ivr serve` on loopback.
#
#   bench/load/run.sh [-n 500] [-rate 50] [-hold 30] [-keys 4@5s,3@15s]
#                     [-sip-port 15060] [-http-port 18080] [-out DIR]
#                     [-perf SECONDS] [-nice N | -rt PRIO [-rt-gen PRIO]] [-no-build]
#
# It builds the server (/tmp/ivr-bench) and the bench tools, starts the
# server with its own data dir, opens N RTP ports in bench/rtpsink (the
# callers' phones: 20 ms PCMU back to the IVR, RFC 4733 keys, kernel
# receive timestamps), makes N calls with SIPp (bench/load/caller.xml) at
# -rate calls/s up to N at once, each held -hold seconds, samples CPU and
# RSS with bench/procmon, then prints a summary (stderr) and one JSON line
# (stdout, also DIR/report.json) from bench/loadreport. -perf S records a
# CPU profile of the server (perf record -g) for S seconds once all calls
# are up. -nice N runs the server, rtpsink and SIPp at that niceness (e.g.
# -10: ahead of other tenants of a shared machine); -rt PRIO runs them
# SCHED_FIFO at that priority (chrt -f), which a shared machine's other
# tenants cannot delay; -rt-gen gives rtpsink and SIPp another priority
# (lower: the server preempts its own load generators). The report
# records the scheduling.
# The exit code is 0 when the run passed (no failed call, p99 of
# the IVR's packet interval within 20 +/- 2 ms), 1 otherwise.
set -euo pipefail

N=500 RATE=50 HOLD=30 KEYS=4@5s,3@15s SIP_PORT=15060 HTTP_PORT=18080 OUT="" PERF=0 BUILD=1 NICE=0 RT=0 RT_GEN=""
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	-rate) RATE=$2; shift 2 ;;
	-hold) HOLD=$2; shift 2 ;;
	-keys) KEYS=$2; shift 2 ;;
	-sip-port) SIP_PORT=$2; shift 2 ;;
	-http-port) HTTP_PORT=$2; shift 2 ;;
	-out) OUT=$2; shift 2 ;;
	-perf) PERF=$2; shift 2 ;;
	-nice) NICE=$2; shift 2 ;;
	-rt) RT=$2; shift 2 ;;
	-rt-gen) RT_GEN=$2; shift 2 ;;
	-no-build) BUILD=0; shift ;;
	-h | --help) sed -n '2,27p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

NAME=run.sh OUT_PREFIX=/tmp/ivr-load IVR=/tmp/ivr-bench
TOOLS="./bench/rtpsink ./bench/procmon ./bench/loadreport"
WATCH="cmd config dialog telephony audio codec dtmf prompt store models"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

cat /proc/loadavg >"$OUT/loadavg.before"
grep '^Udp:' /proc/net/snmp >"$OUT/udp.before" # receive buffer overflows, machine-wide
log "starting the server (sip 127.0.0.1:$SIP_PORT), output in $OUT"
start_server

log "opening $N RTP ports"
"${GEN_SCHED[@]}" "$OUT/bin/rtpsink" -calls "$N" -keys "$KEYS" -csv "$OUT/ports.csv" -json "$OUT/sink.json" \
	>/dev/null 2>"$OUT/sink.log" &
SINK=$!
PIDS+=("$SINK")
for _ in $(seq 100); do [ -f "$OUT/ports.csv" ] && break; sleep 0.1; done
[ -f "$OUT/ports.csv" ] || { echo "run.sh: rtpsink did not start; see $OUT/sink.log" >&2; exit 1; }

RAMP=$(( (N + RATE - 1) / RATE ))
log "calling: $N calls at $RATE/s (ramp ${RAMP}s), hold ${HOLD}s"
cd "$OUT"
"${GEN_SCHED[@]}" sipp -sf "$ROOT/bench/load/caller.xml" -inf "$OUT/ports.csv" -s ivr "127.0.0.1:$SIP_PORT" \
	-i 127.0.0.1 -r "$RATE" -rp 1000 -l "$N" -m "$N" -d "$((HOLD * 1000))" \
	-nostdin -trace_stat -stf "$OUT/stat.csv" -fd 1 -trace_rtt -rtt_freq 1 -trace_logs -trace_err \
	-timeout "$((RAMP + HOLD + 60))" -timeout_error >"$OUT/sipp.out" 2>&1 &
SIPP=$!
PIDS+=("$SIPP")
"$OUT/bin/procmon" -interval 1s -json "$OUT/procmon.json" -csv "$OUT/timeline.csv" \
	server="$SERVER" sink="$SINK" sipp="$SIPP" >/dev/null 2>"$OUT/procmon.log" &
PROCMON=$!
PIDS+=("$PROCMON")

if [ "$PERF" -gt 0 ]; then
	(sleep "$((RAMP + 2))" && perf record -F 499 -g -p "$SERVER" -o "$OUT/perf.data" -- sleep "$PERF" \
		>"$OUT/perf.log" 2>&1) &
	PIDS+=("$!")
fi

SIPP_RC=0
wait "$SIPP" || SIPP_RC=$?
log "sipp exited with $SIPP_RC"
sleep 2 # let rtpsink see the last calls' media stop (its -idle is 1 s)
kill -TERM "$SINK" "$PROCMON"
wait "$SINK" "$PROCMON" || true
grep '^Udp:' /proc/net/snmp >"$OUT/udp.after"
kill -TERM "$SERVER"
wait "$SERVER" || true
"$IVR" calls --data-dir "$OUT/data" --json >"$OUT/calls.json"

if [ "$PERF" -gt 0 ] && [ -f "$OUT/perf.data" ]; then
	perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^$' | head -60 >"$OUT/perf.txt" || true
	log "CPU profile: $OUT/perf.txt (perf report -i $OUT/perf.data)"
fi

"$OUT/bin/loadreport" -dir "$OUT" -calls "$N" -rate "$RATE" -hold "${HOLD}s" -keys "$KEYS" \
	-sipp-rc "$SIPP_RC" -sched "$SCHED_NAME" -commit "$COMMIT" -loadavg "$(cat "$OUT/loadavg.before")" | tee "$OUT/report.json"
grep -q '"pass":true' "$OUT/report.json"
