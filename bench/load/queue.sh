#!/usr/bin/env bash
# Queue load benchmark: N concurrent SIPp callers wait in one queue that
# nobody answers, with music on hold and position announcements, against
# `ivr serve --config bench/load/queue.yaml` on loopback.
#
#   bench/load/queue.sh [-n 300] [-rate 50] [-hold 75] [-every 30s]
#                       [-sip-port 15160] [-http-port 18180] [-out DIR]
#                       [-music-only] [-keys K@OFFSET,...] [-perf SECONDS [-perf-delay S]] [-nice N | -rt PRIO [-rt-gen PRIO]] [-no-build]
#
# The line (bench/load/queue.yaml) sends every caller straight into queue
# "support", whose only member has a password and no registered phone:
# nobody is signed in, nobody rings. Callers hear the Debian
# asterisk-moh-opsound-wav music and "You are number K in the queue." 2 s
# after joining and then every -every (announce_every; 5 s is the
# minimum); max_wait is 30 min, so every caller hangs up after -hold
# seconds. The media side is bench/rtpsink (no keys pressed), the process
# samples bench/procmon, the signalling bench/load/caller.xml, as in
# bench/load/run.sh. The server is built to /tmp/ivr-qbench (not run.sh's
# binary) with a fresh data dir, so the prompt cache starts empty: the
# first announcement of each position is synthesized, later ones of the
# same position come from the cache. -music-only switches the
# announcements off (announce_position: false; with nobody signed in
# there is no expected wait to say either): the same callers with music
# alone, for comparison. -keys makes rtpsink press keys as RFC 4733
# events (none by default; a waiting caller usually presses nothing, and
# the server's in-band detector rests once events arrive, so "5@1s"
# shows what that detector costs; 5 does nothing in this queue).
#
# Output: bench/loadreport's summary and JSON (calls, packet pacing, CPU,
# RSS; DIR/report.json), then bench/load/queuereport's (announcement
# timing from the call records, synthesized texts, CPU before and after
# the first announcements; DIR/queue.json). -perf S records a CPU profile
# (perf record -g) for S seconds, starting 1 s after the last call joined
# (so it covers the first-round syntheses of the last callers if S is
# long, or only music and cached announcements if it starts later: see
# -perf-delay). Exit code 0 when both reports pass.
set -euo pipefail

ANNOUNCE=true KEYS="" N=300 RATE=50 HOLD=75 EVERY=30s SIP_PORT=15160 HTTP_PORT=18180 OUT="" PERF=0 PERF_DELAY=-1 BUILD=1 NICE=0 RT=0 RT_GEN=""
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	-rate) RATE=$2; shift 2 ;;
	-hold) HOLD=$2; shift 2 ;;
	-every) EVERY=$2; shift 2 ;;
	-sip-port) SIP_PORT=$2; shift 2 ;;
	-http-port) HTTP_PORT=$2; shift 2 ;;
	-out) OUT=$2; shift 2 ;;
	-perf) PERF=$2; shift 2 ;;
	-perf-delay) PERF_DELAY=$2; shift 2 ;;
	-music-only) ANNOUNCE=false; shift ;;
	-keys) KEYS=$2; shift 2 ;;
	-nice) NICE=$2; shift 2 ;;
	-rt) RT=$2; shift 2 ;;
	-rt-gen) RT_GEN=$2; shift 2 ;;
	-no-build) BUILD=0; shift ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "queue.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

NAME=queue.sh OUT_PREFIX=/tmp/ivr-queue IVR=/tmp/ivr-qbench
TOOLS="./bench/rtpsink ./bench/procmon ./bench/loadreport ./bench/load/queuereport"
WATCH="cmd config dialog hold acd tts prompt telephony audio codec dtmf store models"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

cp "$ROOT/bench/load/queue.yaml" "$OUT/queue.yaml"
export IVR_ANNOUNCE_EVERY=$EVERY IVR_MAX_WAIT=30m IVR_ANNOUNCE_POSITION=$ANNOUNCE
"$IVR" validate "$OUT/queue.yaml" >"$OUT/validate.log" 2>&1 || { cat "$OUT/validate.log" >&2; exit 1; }

cat /proc/loadavg >"$OUT/loadavg.before"
grep '^Udp:' /proc/net/snmp >"$OUT/udp.before"
log "starting the server (sip 127.0.0.1:$SIP_PORT, announce_every $EVERY), output in $OUT"
start_server --config "$OUT/queue.yaml"
# The music is decoded in the background at start; give it time so the
# first callers measure waiting, not decoding (BENCHMARKS.md "Music on
# hold": 1-5 s for the five files on this machine).
sleep 6

log "opening $N RTP ports"
"${GEN_SCHED[@]}" "$OUT/bin/rtpsink" -calls "$N" -keys "$KEYS" -csv "$OUT/ports.csv" -json "$OUT/sink.json" \
	>/dev/null 2>"$OUT/sink.log" &
SINK=$!
PIDS+=("$SINK")
for _ in $(seq 100); do [ -f "$OUT/ports.csv" ] && break; sleep 0.1; done
[ -f "$OUT/ports.csv" ] || { echo "queue.sh: rtpsink did not start; see $OUT/sink.log" >&2; exit 1; }

RAMP=$(( (N + RATE - 1) / RATE ))
log "calling: $N calls at $RATE/s (ramp ${RAMP}s), hold ${HOLD}s"
cd "$OUT"
"${GEN_SCHED[@]}" sipp -sf "$ROOT/bench/load/caller.xml" -inf "$OUT/ports.csv" -s support "127.0.0.1:$SIP_PORT" \
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
	[ "$PERF_DELAY" -ge 0 ] || PERF_DELAY=$((RAMP + 1))
	(sleep "$PERF_DELAY" && perf record -F 499 -g -p "$SERVER" -o "$OUT/perf.data" -- sleep "$PERF" \
		>"$OUT/perf.log" 2>&1) &
	PIDS+=("$!")
fi

SIPP_RC=0
wait "$SIPP" || SIPP_RC=$?
log "sipp exited with $SIPP_RC"
sleep 2
kill -TERM "$SINK" "$PROCMON"
wait "$SINK" "$PROCMON" || true
grep '^Udp:' /proc/net/snmp >"$OUT/udp.after"
kill -TERM "$SERVER"
wait "$SERVER" || true
"$IVR" calls --data-dir "$OUT/data" --json >"$OUT/calls.json"
ls "$OUT/data/tts-cache" 2>/dev/null | grep -c '\.wav$' >"$OUT/tts-files" || true

if [ "$PERF" -gt 0 ] && [ -f "$OUT/perf.data" ]; then
	perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^$' | head -80 >"$OUT/perf.txt" || true
	perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^$' | head -120 >"$OUT/perf-children.txt" || true
	log "CPU profile: $OUT/perf.txt, $OUT/perf-children.txt (perf report -i $OUT/perf.data)"
fi

"$OUT/bin/loadreport" -dir "$OUT" -calls "$N" -rate "$RATE" -hold "${HOLD}s" -keys "$KEYS" \
	-sipp-rc "$SIPP_RC" -sched "$SCHED_NAME" -commit "$COMMIT" -loadavg "$(cat "$OUT/loadavg.before")" | tee "$OUT/report.json"
"$OUT/bin/queuereport" -dir "$OUT" -every "$EVERY" -hold "${HOLD}s" -announce="$ANNOUNCE" | tee "$OUT/queue.json"
grep -q '"pass":true' "$OUT/report.json" && grep -q '"pass":true' "$OUT/queue.json"
