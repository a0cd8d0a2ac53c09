// Command loadreport reads what one run of the call-path load benchmark
// (bench/load/run.sh) left in its directory and prints a readable summary
// on stderr and one JSON line on stdout:
//
//   - SIPp's statistics (-trace_stat), response times (-trace_rtt) and
//     per-call log (-trace_logs, "ok N" once a call completed);
//   - the RTP peer's summary (bench/rtpsink);
//   - the process samples (bench/procmon, its JSON and CSV timeline);
//   - the server's call records (ivr calls --json).
//
// A call fails if SIPp did not complete it, if the server has no record
// of it, if the record does not end with the caller's hangup, lacks the
// keys pressed or shows no audio from the caller, or if the peer got no
// audio from the IVR. The run passes when no call failed and the p99 of
// the IVR's packet interval is within 20 +/- 2 ms.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", ".", "the run's directory")
	n := flag.Int("calls", 500, "calls the run was to make")
	rate := flag.Float64("rate", 50, "call rate (calls/s)")
	hold := flag.Duration("hold", 30*time.Second, "hold time per call")
	keys := flag.String("keys", "4@5s,3@15s", "rtpsink's -keys; those due before the hold ends (with 1 s to spare) must be in every call's record")
	sippRC := flag.Int("sipp-rc", -1, "SIPp's exit code")
	loadAvg := flag.String("loadavg", "", "/proc/loadavg before the run (the machine is shared)")
	sched := flag.String("sched", "nice 0", "scheduling the server and load generators ran with")
	commit := flag.String("commit", "", "the commit the server was built from")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("loadreport: ")

	digits := dueKeys(*keys, *hold-time.Second)
	r := report{Calls: *n, Digits: digits, Rate: *rate, HoldS: hold.Seconds(), SippRC: *sippRC, Sched: *sched, Commit: *commit, LoadAvgBefore: strings.TrimSpace(*loadAvg)}
	var problems []string
	note := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// SIPp.
	stat, err := lastStatRow(filepath.Join(*dir, "stat.csv"))
	if err != nil {
		note("sipp stats: %v", err)
	}
	r.Attempted = atoi(stat["OutgoingCall(C)"])
	r.SippSuccessful = atoi(stat["SuccessfulCall(C)"])
	r.SippFailed = atoi(stat["FailedCall(C)"])
	r.SippRetransmissions = atoi(stat["Retransmissions(C)"])
	okCalls, err := sippOK(*dir)
	if err != nil {
		note("sipp log: %v", err)
	}
	rtts, err := sippRTT(*dir)
	if err != nil {
		note("sipp rtt: %v", err)
	}
	r.SetupMS = percentiles(rtts)

	// The peer.
	var sink sinkSummary
	if err := readJSON(filepath.Join(*dir, "sink.json"), &sink); err != nil {
		note("rtpsink: %v", err)
	}
	r.Interval = sink.Interval
	r.AppInterval = sink.AppInterval
	if sink.Steady != nil {
		r.SteadyS = math.Round((sink.Steady.ToUnix-sink.Steady.FromUnix)*10) / 10
		r.IntervalSteady = &sink.Steady.Interval
	}
	r.MissingPackets = sink.MissingPackets
	r.ClockDriftMaxMS = math.Round(sink.ClockDriftMaxMS*10) / 10
	r.SeqGaps = sink.SeqGaps
	r.PacketsRx, r.PacketsTx = sink.PacketsRx, sink.PacketsTx

	// Processes.
	var pm procSummary
	if err := readJSON(filepath.Join(*dir, "procmon.json"), &pm); err != nil {
		note("procmon: %v", err)
	}
	r.SystemBusyAvgPct = pm.SystemBusyAvg
	for _, p := range pm.Procs {
		switch p.Name {
		case "server":
			r.ServerCPUAvgPct, r.ServerCPUMaxPct, r.ServerRSSPeakMiB = p.CPUAvgPct, p.CPUMaxPct, p.RSSPeakMiB
		case "sink":
			r.PeerCPUAvgPct = p.CPUAvgPct
		case "sipp":
			r.SippCPUAvgPct = p.CPUAvgPct
		}
	}
	if sink.Steady != nil {
		avg, sys, err := windowCPU(filepath.Join(*dir, "timeline.csv"), "server", sink.Steady.FromUnix, sink.Steady.ToUnix)
		if err != nil {
			note("timeline: %v", err)
		}
		r.ServerCPUSteadyPct, r.SystemBusySteadyPct = avg, sys
	}

	// The server's records.
	var recs []callRecord
	if err := readJSON(filepath.Join(*dir, "calls.json"), &recs); err != nil {
		note("call records: %v", err)
	}
	byNum := map[int]*callRecord{}
	var answer []float64
	for i := range recs {
		if k := callNumber(recs[i].From); k > 0 {
			byNum[k] = &recs[i]
		}
		if a := recs[i].AnsweredAt; a != nil {
			answer = append(answer, float64(a.Sub(recs[i].StartedAt).Microseconds())/1e3)
		}
	}
	r.ServerAnswerMS = percentiles(answer)

	// Per call: which checks failed.
	noMedia := map[int]bool{}
	for _, k := range sink.NoMedia {
		noMedia[k] = true
	}
	r.FailedBy = map[string]int{}
	var failedCalls []int
	for k := 1; k <= r.Attempted; k++ {
		var why []string
		if !okCalls[k] {
			why = append(why, "sipp")
		}
		if noMedia[k] {
			why = append(why, "no_rtp_from_ivr")
		}
		switch rec := byNum[k]; {
		case rec == nil:
			why = append(why, "no_record")
		default:
			if rec.EndReason != "caller_hangup" {
				why = append(why, "end_"+rec.EndReason)
			}
			if rec.Digits != digits {
				why = append(why, "digits")
			}
			if rec.Media == nil || rec.Media.PacketsIn == 0 {
				why = append(why, "no_rtp_from_caller")
			} else if rec.Media.Foreign > 0 {
				why = append(why, "foreign_rtp")
			}
		}
		for _, w := range why {
			r.FailedBy[w]++
		}
		if len(why) > 0 {
			failedCalls = append(failedCalls, k)
		}
	}
	r.Failed = len(failedCalls)
	if r.Attempted < r.Calls {
		r.Failed += r.Calls - r.Attempted // never attempted counts as failed
		r.FailedBy["not_attempted"] = r.Calls - r.Attempted
	}
	r.FailedCalls = failedCalls[:min(len(failedCalls), 20)]
	// The intervals are only the server's if the peer lost nothing: a
	// datagram dropped at a full socket buffer never gets a timestamp and
	// leaves a gap that is the peer's, not the server's.
	if d, err := udpRcvbufErrors(*dir); err != nil {
		note("udp counters: %v", err)
	} else {
		r.UDPRcvbufErrors = d
	}
	if r.SeqGaps > 0 {
		note("rtpsink saw %d sequence gaps (UDP receive buffer errors machine-wide during the run: %d): it lost packets, so the interval statistics are not the server's alone", r.SeqGaps, r.UDPRcvbufErrors)
	}
	r.IntervalP99Ok = r.Interval.Count > 0 && math.Abs(r.Interval.P99-20) <= 2
	r.Pass = r.Failed == 0 && r.IntervalP99Ok && len(problems) == 0
	r.Problems = problems

	printHuman(r)
	out, err := json.Marshal(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
}

// report is the run's result; its JSON is the final line of the run.
type report struct {
	Calls         int     `json:"calls"`
	Rate          float64 `json:"rate_cps"`
	HoldS         float64 `json:"hold_s"`
	Digits        string  `json:"digits"` // keys every call pressed
	Sched         string  `json:"sched"`  // scheduling of the server, rtpsink and SIPp
	Commit        string  `json:"commit"` // what the server was built from
	LoadAvgBefore string  `json:"loadavg_before"`

	Attempted           int            `json:"attempted"`
	Failed              int            `json:"failed"`
	FailedBy            map[string]int `json:"failed_by"`
	FailedCalls         []int          `json:"failed_calls"` // the first 20 call numbers
	SippRC              int            `json:"sipp_rc"`
	SippSuccessful      int            `json:"sipp_successful"`
	SippFailed          int            `json:"sipp_failed"`
	SippRetransmissions int            `json:"sipp_retransmissions"`

	SetupMS        quantiles `json:"setup_ms"`         // SIPp: INVITE sent to 200 OK received
	ServerAnswerMS quantiles `json:"server_answer_ms"` // server records: INVITE received to answered

	Interval        interval  `json:"interval_ms"`        // kernel receive timestamps, all packets
	IntervalSteady  *interval `json:"interval_steady_ms"` // while every call was up
	SteadyS         float64   `json:"steady_s"`
	AppInterval     interval  `json:"app_interval_ms"` // as the peer's goroutines saw it
	IntervalP99Ok   bool      `json:"interval_p99_ok"`
	MissingPackets  uint64    `json:"missing_packets"`
	ClockDriftMaxMS float64   `json:"clock_drift_max_ms"`
	SeqGaps         uint64    `json:"seq_gaps"`
	UDPRcvbufErrors int64     `json:"udp_rcvbuf_errors"` // /proc/net/snmp delta, machine-wide
	PacketsRx       uint64    `json:"packets_rx"`
	PacketsTx       uint64    `json:"packets_tx"`

	ServerCPUAvgPct     float64 `json:"server_cpu_avg_pct"` // % of one core
	ServerCPUSteadyPct  float64 `json:"server_cpu_steady_pct"`
	ServerCPUMaxPct     float64 `json:"server_cpu_max_pct"`
	ServerRSSPeakMiB    float64 `json:"server_rss_peak_mib"`
	PeerCPUAvgPct       float64 `json:"peer_cpu_avg_pct"`
	SippCPUAvgPct       float64 `json:"sipp_cpu_avg_pct"`
	SystemBusyAvgPct    float64 `json:"system_busy_avg_pct"` // % of all cores, everyone's load
	SystemBusySteadyPct float64 `json:"system_busy_steady_pct"`

	Pass     bool     `json:"pass"`
	Problems []string `json:"problems,omitempty"`
}

type quantiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// interval mirrors rtpsink's intervalStats.
type interval struct {
	Count   int     `json:"count"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	P999    float64 `json:"p999"`
	Max     float64 `json:"max"`
	Under18 int     `json:"under_18"`
	Over22  int     `json:"over_22"`
	Over30  int     `json:"over_30"`
	Over40  int     `json:"over_40"`
}

// sinkSummary is the part of rtpsink's JSON the report uses.
type sinkSummary struct {
	NoMedia         []int    `json:"no_media"`
	PacketsRx       uint64   `json:"packets_rx"`
	PacketsTx       uint64   `json:"packets_tx"`
	SeqGaps         uint64   `json:"seq_gaps"`
	MissingPackets  uint64   `json:"missing_packets"`
	ClockDriftMaxMS float64  `json:"clock_drift_max_ms"`
	Interval        interval `json:"interval_ms"`
	AppInterval     interval `json:"app_interval_ms"`
	Steady          *struct {
		FromUnix float64  `json:"from_unix"`
		ToUnix   float64  `json:"to_unix"`
		Interval interval `json:"interval_ms"`
	} `json:"steady"`
}

// procSummary is the part of procmon's JSON the report uses.
type procSummary struct {
	SystemBusyAvg float64 `json:"system_busy_avg_pct"`
	Procs         []struct {
		Name       string  `json:"name"`
		CPUAvgPct  float64 `json:"cpu_avg_pct"`
		CPUMaxPct  float64 `json:"cpu_max_pct"`
		RSSPeakMiB float64 `json:"rss_peak_mib"`
	} `json:"procs"`
}

// callRecord is the part of the server's call record the report checks.
type callRecord struct {
	From       string     `json:"from"`
	StartedAt  time.Time  `json:"started_at"`
	AnsweredAt *time.Time `json:"answered_at"`
	EndReason  string     `json:"end_reason"`
	Digits     string     `json:"digits"`
	Media      *struct {
		PacketsIn uint64 `json:"packets_in"`
		Foreign   uint64 `json:"foreign"`
	} `json:"media"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// lastStatRow maps SIPp's -trace_stat header to its last row.
func lastStatRow(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s: no data row", path)
	}
	head := strings.Split(lines[0], ";")
	row := strings.Split(lines[len(lines)-1], ";")
	m := map[string]string{}
	for i, h := range head {
		if i < len(row) {
			m[h] = row[i]
		}
	}
	return m, nil
}

var okLine = regexp.MustCompile(`\bok (\d+)\b`)

// sippOK reads the -trace_logs file(s): the call numbers that completed.
func sippOK(dir string) (map[int]bool, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*_logs.log"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no *_logs.log in %s", dir)
	}
	ok := map[int]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range okLine.FindAllStringSubmatch(string(b), -1) {
			ok[atoi(m[1])] = true
		}
	}
	return ok, nil
}

// sippRTT reads the -trace_rtt file(s): Date_ms;response_time_ms;rtd_no.
func sippRTT(dir string) ([]float64, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no *_rtt.csv in %s", dir)
	}
	var v []float64
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			p := strings.Split(sc.Text(), ";")
			if len(p) < 2 {
				continue
			}
			if x, err := strconv.ParseFloat(p[1], 64); err == nil {
				v = append(v, x)
			}
		}
		fh.Close()
	}
	return v, nil
}

// udpRcvbufErrors is the change of the Udp RcvbufErrors counter between
// udp.before and udp.after (each the two "Udp:" lines of /proc/net/snmp).
func udpRcvbufErrors(dir string) (int64, error) {
	read := func(name string) (int64, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0, err
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) < 2 {
			return 0, fmt.Errorf("%s: want two Udp: lines", name)
		}
		head, vals := strings.Fields(lines[0]), strings.Fields(lines[1])
		i := slices.Index(head, "RcvbufErrors")
		if i < 0 || i >= len(vals) {
			return 0, fmt.Errorf("%s: no RcvbufErrors", name)
		}
		return strconv.ParseInt(vals[i], 10, 64)
	}
	a, err := read("udp.before")
	if err != nil {
		return 0, err
	}
	b, err := read("udp.after")
	if err != nil {
		return 0, err
	}
	return b - a, nil
}

// windowCPU averages a process's CPU % and the system's busy % over the
// timeline samples inside [from, to].
func windowCPU(path, name string, from, to float64) (proc, sys float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	col := slices.Index(strings.Split(lines[0], ","), name+"_cpu_pct")
	if col < 0 {
		return 0, 0, fmt.Errorf("no column %s_cpu_pct", name)
	}
	var sp, ss float64
	var k int
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		t, _ := strconv.ParseFloat(f[0], 64)
		// A sample covers the second before it: keep it if it ends inside.
		if t-1 < from || t > to || col >= len(f) {
			continue
		}
		p, _ := strconv.ParseFloat(f[col], 64)
		s, _ := strconv.ParseFloat(f[1], 64)
		sp, ss, k = sp+p, ss+s, k+1
	}
	if k == 0 {
		return 0, 0, nil
	}
	return math.Round(sp/float64(k)*10) / 10, math.Round(ss/float64(k)*10) / 10, nil
}

// dueKeys lists the keys of "4@5s,3@15s" whose offset is before limit.
func dueKeys(keys string, limit time.Duration) string {
	var b strings.Builder
	for f := range strings.SplitSeq(keys, ",") {
		k, at, ok := strings.Cut(strings.TrimSpace(f), "@")
		d, err := time.ParseDuration(at)
		if ok && err == nil && d < limit {
			b.WriteString(k)
		}
	}
	return b.String()
}

var fromNumber = regexp.MustCompile(`load(\d+)@`)

// callNumber is SIPp's call number from the caller's From URI.
func callNumber(from string) int {
	if m := fromNumber.FindStringSubmatch(from); m != nil {
		return atoi(m[1])
	}
	return 0
}

// percentiles are nearest-rank quantiles.
func percentiles(v []float64) quantiles {
	q := quantiles{Count: len(v)}
	if len(v) == 0 {
		return q
	}
	slices.Sort(v)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return math.Round(v[max(0, min(i, len(v)-1))]*1000) / 1000
	}
	q.P50, q.P99, q.Max = at(0.5), at(0.99), v[len(v)-1]
	return q
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

func printHuman(r report) {
	w := os.Stderr
	fmt.Fprintf(w, "calls: %d attempted, %d failed %v (sipp: %d ok, %d failed, %d retransmissions, rc %d)\n",
		r.Attempted, r.Failed, r.FailedBy, r.SippSuccessful, r.SippFailed, r.SippRetransmissions, r.SippRC)
	fmt.Fprintf(w, "setup (sipp, INVITE->200): p50 %.0f ms, p99 %.0f ms, max %.0f ms; server answer p50 %.2f ms, p99 %.2f ms\n",
		r.SetupMS.P50, r.SetupMS.P99, r.SetupMS.Max, r.ServerAnswerMS.P50, r.ServerAnswerMS.P99)
	iv := r.Interval
	fmt.Fprintf(w, "IVR->caller RTP interval (%d): p50 %.3f, p99 %.3f, p99.9 %.3f, max %.3f ms; >22 ms %d, >40 ms %d\n",
		iv.Count, iv.P50, iv.P99, iv.P999, iv.Max, iv.Over22, iv.Over40)
	if s := r.IntervalSteady; s != nil {
		fmt.Fprintf(w, "  while all calls up (%.1f s): p50 %.3f, p99 %.3f, max %.3f ms\n", r.SteadyS, s.P50, s.P99, s.Max)
	}
	fmt.Fprintf(w, "  missing 20 ms slots %d, max clock drift %.1f ms, seq gaps %d; packets rx %d tx %d\n",
		r.MissingPackets, r.ClockDriftMaxMS, r.SeqGaps, r.PacketsRx, r.PacketsTx)
	fmt.Fprintf(w, "server: CPU avg %.1f%% (steady %.1f%%, max %.1f%%) of one core, peak RSS %.1f MiB\n",
		r.ServerCPUAvgPct, r.ServerCPUSteadyPct, r.ServerCPUMaxPct, r.ServerRSSPeakMiB)
	fmt.Fprintf(w, "load generators: rtpsink %.1f%%, sipp %.1f%%; machine busy avg %.1f%% (steady %.1f%%), loadavg before %q, %s\n",
		r.PeerCPUAvgPct, r.SippCPUAvgPct, r.SystemBusyAvgPct, r.SystemBusySteadyPct, r.LoadAvgBefore, r.Sched)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: 0 failed calls and interval p99 within 20 +/- 2 ms\n", verdict)
}
