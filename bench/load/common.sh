# Shared setup of the load scripts (run.sh, queue.sh), sourced after their
# argument parsing. The caller sets NAME (its name for messages), OUT_PREFIX,
# IVR (the server binary), TOOLS (bench packages to build), WATCH (the
# server's package dirs whose uncommitted edits mark the build dirty), and
# N, NICE, RT, RT_GEN, SIP_PORT, HTTP_PORT, BUILD from its flags.

SCHED=(nice -n "$NICE") GEN_SCHED=(nice -n "$NICE")
SCHED_NAME="nice $NICE"
if [ "$RT" -gt 0 ]; then
	RT_GEN=${RT_GEN:-$RT}
	SCHED=(chrt -f "$RT") GEN_SCHED=(chrt -f "$RT_GEN")
	SCHED_NAME="SCHED_FIFO $RT (server), $RT_GEN (rtpsink, sipp)"
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$OUT_PREFIX-$N-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/bin"
OUT=$(cd "$OUT" && pwd)
log() { echo "$NAME: $(date +%T) $*" >&2; }

for port in "$SIP_PORT" "$HTTP_PORT"; do
	if ss -Hlnut "sport = :$port" | grep -q .; then
		echo "$NAME: port $port is in use; pick another with -sip-port/-http-port" >&2
		exit 2
	fi
done

if [ "$BUILD" = 1 ]; then
	log "building the server and the bench tools"
	(cd "$ROOT" && go build -o "$IVR" ./cmd/ivr)
fi
# shellcheck disable=SC2086 # TOOLS is a list of packages
(cd "$ROOT" && go build -o "$OUT/bin/" $TOOLS)
# What was built: the commit, and whether the server's packages had
# uncommitted edits (the checkout is shared).
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
# shellcheck disable=SC2086 # WATCH is a list of directories
if [ -n "$(git -C "$ROOT" status --porcelain -- $WATCH 2>/dev/null)" ]; then
	COMMIT="$COMMIT+dirty"
fi
[ "$BUILD" = 1 ] || COMMIT="prebuilt $IVR (tree at $COMMIT)"

# Every process the script starts, so the trap ends exactly those.
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Each call needs an RTP socket in the server and in rtpsink.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 256)) ]; then
	echo "$NAME: open files limit $(ulimit -n) is too low for $N calls" >&2
	exit 2
fi

# start_server [serve flags...]: starts "$IVR serve" on SIP_PORT and
# HTTP_PORT with its data in $OUT/data and its log in $OUT/server.log,
# and waits up to 30 s for /healthz.
start_server() {
	"${SCHED[@]}" "$IVR" serve "$@" --sip-addr "127.0.0.1:$SIP_PORT" --http-addr "127.0.0.1:$HTTP_PORT" \
		--data-dir "$OUT/data" 2>"$OUT/server.log" &
	SERVER=$!
	PIDS+=("$SERVER")
	for _ in $(seq 300); do
		curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "$NAME: the server did not come up; see $OUT/server.log" >&2
	exit 1
}
