#!/usr/bin/env bash
# Speech load benchmark: N callers on the speech demo line
# (examples/bank/ivr.yaml) each say a recorded request, against `ivr serve`
# on loopback.
#
#   bench/load/speech.sh [-n 25] [-rate 10] [-utter-at 1s] [-stagger]
#                        [-labels /tmp/eval/bank-dev/labels.csv]
#                        [-intents check_balance,lost_card,oos]
#                        [-second auto|none] [-hold S] [-after 6] [-eval]
#                        [-sip-port 15062] [-http-port 18082] [-out DIR]
#                        [-nice N | -rt PRIO [-rt-gen PRIO]] [-no-build | -ivr BINARY]
#
# The labels file (file,intent[,text]; e.g. `go run ./speech/evalset/gen
# -set bank -split dev -out /tmp/bank-dev`) is filtered to -intents (the
# intents the line has, plus "oos" for requests it should not take) into
# DIR/clips.csv; call k says clip k mod count. SIPp (caller.xml) makes N
# calls at -rate/s; bench/rtpsink is every caller's phone: silence, then
# the clip as PCMU. By default all callers start speaking together,
# -utter-at after the last call got the greeting's first packet (N turns
# end within the clips' length spread); -stagger makes each caller speak
# -utter-at after its own greeting started instead (turns spread over the
# ramp). Each call is held long enough for the last caller's flow to
# react (-after seconds after the speech; -hold overrides), then SIPp
# hangs up. -second none writes speech.second_engine: none into the
# line's config (DIR/ivr.yaml), to show PocketSphinx's share of the cost.
# -ivr runs a server binary built elsewhere (e.g. from `git archive` of a
# commit, when the shared checkout has uncommitted edits) instead of
# building /tmp/ivr-speechbench. -eval first runs `ivr eval speech` on
# the same clips with the same recognizers, one file at a time
# (DIR/eval.txt), for the report to compare against.
#
# bench/load/speechreport joins rtpsink's utterance times with the call
# records (`ivr calls --json`) and procmon's samples: the share of calls
# whose last_intent is the clip's intent, the delay from the end of the
# caller's speech to the recognized turn and to the flow's next prompt,
# server CPU and RSS, and the IVR's RTP packet interval while the server
# recognizes. It prints a summary (stderr) and one JSON line (stdout,
# also DIR/report.json).
set -euo pipefail

N=25 RATE=10 UTTER_AT=1s STAGGER=0 LABELS=/tmp/eval/bank-dev/labels.csv INTENTS=check_balance,lost_card,oos
SECOND=auto HOLD=0 AFTER=6 SIP_PORT=15062 HTTP_PORT=18082 OUT="" BUILD=1 NICE=0 RT=0 RT_GEN="" EVAL=0 IVR=/tmp/ivr-speechbench
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	-rate) RATE=$2; shift 2 ;;
	-utter-at) UTTER_AT=$2; shift 2 ;;
	-stagger) STAGGER=1; shift ;;
	-labels) LABELS=$2; shift 2 ;;
	-intents) INTENTS=$2; shift 2 ;;
	-second) SECOND=$2; shift 2 ;;
	-hold) HOLD=$2; shift 2 ;;
	-after) AFTER=$2; shift 2 ;;
	-sip-port) SIP_PORT=$2; shift 2 ;;
	-http-port) HTTP_PORT=$2; shift 2 ;;
	-out) OUT=$2; shift 2 ;;
	-nice) NICE=$2; shift 2 ;;
	-rt) RT=$2; shift 2 ;;
	-rt-gen) RT_GEN=$2; shift 2 ;;
	-no-build) BUILD=0; shift ;;
	-ivr) IVR=$2; BUILD=0; shift 2 ;;
	-eval) EVAL=1; shift ;;
	-h | --help) sed -n '2,38p' "$0"; exit 0 ;;
	*) echo "speech.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$SECOND" in auto | none | sphinx | moonshine) ;; *) echo "speech.sh: -second auto|none|sphinx|moonshine" >&2; exit 2 ;; esac
[ -f "$LABELS" ] || { echo "speech.sh: no labels file $LABELS (go run ./speech/evalset/gen -set bank -split dev -out /tmp/bank-dev)" >&2; exit 2; }

NAME=speech.sh OUT_PREFIX=/tmp/ivr-speech
TOOLS="./bench/rtpsink ./bench/procmon ./bench/load/speechreport"
WATCH="cmd config dialog telephony audio codec dtmf prompt store models speech asr nlu vad tts"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# The clips: absolute paths, only the chosen intents.
LABELS_DIR=$(cd "$(dirname "$LABELS")" && pwd)
awk -F, -v dir="$LABELS_DIR" -v want=",$INTENTS," '
	NR == 1 && tolower($1) == "file" { print; next }
	/^#/ || NF < 2 { next }
	index(want, "," $2 ",") { f = $1; if (f !~ /^\//) f = dir "/" f; $1 = f; print }
' OFS=, "$LABELS" >"$OUT/clips.csv"
CLIPS=$(($(wc -l <"$OUT/clips.csv") - 1))
[ "$CLIPS" -gt 0 ] || { echo "speech.sh: no clips of intents $INTENTS in $LABELS" >&2; exit 2; }

# The line: the bank demo, optionally without the second recognizer.
CONFIG="$OUT/ivr.yaml"
cp "$ROOT/examples/bank/ivr.yaml" "$CONFIG"
if [ "$SECOND" != auto ]; then
	sed -i "s/^speech:\$/speech:\n  second_engine: $SECOND/" "$CONFIG"
	grep -q "second_engine: $SECOND" "$CONFIG" || { echo "speech.sh: could not set second_engine in $CONFIG" >&2; exit 1; }
fi
"$IVR" validate "$CONFIG" >"$OUT/validate.log" 2>&1 || { echo "speech.sh: $CONFIG does not validate; see $OUT/validate.log" >&2; exit 1; }

EVAL_ARGS=()
if [ "$EVAL" = 1 ]; then
	log "ivr eval speech on the $CLIPS clips (second engine $SECOND)"
	"${SCHED[@]}" "$IVR" eval speech --intents "$CONFIG" --labels "$OUT/clips.csv" --second "$SECOND" >"$OUT/eval.txt" 2>&1 ||
		{ echo "speech.sh: ivr eval speech failed; see $OUT/eval.txt" >&2; exit 1; }
	EVAL_ARGS=(-eval "$OUT/eval.txt")
fi

RAMP=$(((N + RATE - 1) / RATE))
AT_S=$(awk -v d="$UTTER_AT" 'BEGIN { v = d + 0; if (d ~ /ms$/) v /= 1000; print int(v + 0.999) }')
if [ "$HOLD" = 0 ]; then
	# The longest clip is about 3 s; the first call waits the ramp when
	# the callers speak together.
	HOLD=$((AT_S + 3 + AFTER))
	[ "$STAGGER" = 1 ] || HOLD=$((HOLD + RAMP))
fi
SYNC=-utter-sync
[ "$STAGGER" = 1 ] && SYNC=-utter-sync=false

cat /proc/loadavg >"$OUT/loadavg.before"
log "starting the server (sip 127.0.0.1:$SIP_PORT, second engine $SECOND), output in $OUT"
start_server --config "$CONFIG"

log "opening $N RTP ports ($CLIPS clips from $LABELS, intents $INTENTS)"
"${GEN_SCHED[@]}" "$OUT/bin/rtpsink" -calls "$N" -keys "" -utterances "$OUT/clips.csv" -utter-at "$UTTER_AT" "$SYNC" \
	-csv "$OUT/ports.csv" -json "$OUT/sink.json" >/dev/null 2>"$OUT/sink.log" &
SINK=$!
PIDS+=("$SINK")
for _ in $(seq 100); do [ -f "$OUT/ports.csv" ] && break; sleep 0.1; done
[ -f "$OUT/ports.csv" ] || { echo "speech.sh: rtpsink did not start; see $OUT/sink.log" >&2; exit 1; }

log "calling: $N calls at $RATE/s (ramp ${RAMP}s), hold ${HOLD}s, speech $UTTER_AT after $([ "$STAGGER" = 1 ] && echo "each call's greeting" || echo "the last call's greeting")"
cd "$OUT"
"${GEN_SCHED[@]}" sipp -sf "$ROOT/bench/load/caller.xml" -inf "$OUT/ports.csv" -s ivr "127.0.0.1:$SIP_PORT" \
	-i 127.0.0.1 -r "$RATE" -rp 1000 -l "$N" -m "$N" -d "$((HOLD * 1000))" \
	-nostdin -trace_stat -stf "$OUT/stat.csv" -fd 1 -trace_logs -trace_err \
	-timeout "$((RAMP + HOLD + 60))" -timeout_error >"$OUT/sipp.out" 2>&1 &
SIPP=$!
PIDS+=("$SIPP")
"$OUT/bin/procmon" -interval 1s -json "$OUT/procmon.json" -csv "$OUT/timeline.csv" \
	server="$SERVER" sink="$SINK" sipp="$SIPP" >/dev/null 2>"$OUT/procmon.log" &
PROCMON=$!
PIDS+=("$PROCMON")

SIPP_RC=0
wait "$SIPP" || SIPP_RC=$?
log "sipp exited with $SIPP_RC"
sleep 2 # let rtpsink see the last calls' media stop (its -idle is 1 s)
kill -TERM "$SINK" "$PROCMON" 2>/dev/null || true
wait "$SINK" "$PROCMON" || true
kill -TERM "$SERVER" 2>/dev/null || log "the server had exited; see $OUT/server.log"
wait "$SERVER" || true
"$IVR" calls --data-dir "$OUT/data" --json >"$OUT/calls.json"

"$OUT/bin/speechreport" -dir "$OUT" -calls "$N" -rate "$RATE" -second "$SECOND" -sync="$([ "$STAGGER" = 1 ] && echo false || echo true)" \
	-utter-at "$UTTER_AT" -sipp-rc "$SIPP_RC" -sched "$SCHED_NAME" -commit "$COMMIT" "${EVAL_ARGS[@]}" \
	-loadavg "$(cat "$OUT/loadavg.before")" | tee "$OUT/report.json"
