// Command speechreport summarises a run of bench/load/speech.sh: it joins
// what each caller said and when (rtpsink's summary, sink.json) with the
// server's call records (calls.json, `ivr calls --json`) and procmon's
// samples (timeline.csv, procmon.json) in the run's directory.
//
// Per call: the intent the server recorded (vars.last_intent) against the
// clip's label, and two delays measured from the end of the caller's
// speech (when rtpsink sent the clip's last voiced frame):
//
//   - recognized: to the record's "speech" event, which the dialog writes
//     when the recognized turn reaches it (includes the endpointer's
//     end-of-turn silence);
//   - prompt: to the first "prompt" event after it (the flow starts its
//     next prompt);
//   - heard: to the first audible packet of the IVR after it went quiet
//     (rtpsink's reply_unix): when the caller starts hearing the reaction,
//     synthesis and pacing included.
//
// It writes DIR/turns.csv (one line per call) and prints a summary
// (stderr) and one JSON line (stdout).
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sinkSummary is the part of rtpsink's summary the report reads.
type sinkSummary struct {
	Calls          int `json:"calls"`
	CallsWithMedia int `json:"calls_with_media"`
	Interval       struct {
		P50  float64 `json:"p50"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p999"`
		Max  float64 `json:"max"`
	} `json:"interval_ms"`
	MissingPackets uint64 `json:"missing_packets"`
	SeqGaps        uint64 `json:"seq_gaps"`
	Speaking       *struct {
		FromUnix float64 `json:"from_unix"`
		ToUnix   float64 `json:"to_unix"`
		Interval struct {
			Count  int     `json:"count"`
			P50    float64 `json:"p50"`
			P99    float64 `json:"p99"`
			P999   float64 `json:"p999"`
			Max    float64 `json:"max"`
			Over22 int     `json:"over_22"`
		} `json:"interval_ms"`
	} `json:"speaking"`
	Utterances []utterance `json:"utterances"`
}

type utterance struct {
	Call          int     `json:"call"`
	File          string  `json:"file"`
	Intent        string  `json:"intent"`
	Text          string  `json:"text"`
	StartUnix     float64 `json:"start_unix"`
	VoicedEndUnix float64 `json:"voiced_end_unix"`
	ReplyUnix     float64 `json:"reply_unix"`
	Complete      bool    `json:"complete"`
}

// record is the part of a call record the report reads.
type record struct {
	From      string            `json:"from"`
	EndReason string            `json:"end_reason"`
	Path      []string          `json:"path"`
	Vars      map[string]string `json:"vars"`
	Events    []event           `json:"events"`
}

type event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	Node string    `json:"node"`
	Text string    `json:"text"`
}

// turn is one call's outcome.
type turn struct {
	Call        int
	File        string
	Want, Got   string
	Said        string // what the server recognized (last_utterance)
	Correct     bool
	Recognized  float64 // s from the end of speech to the speech event; NaN if none
	Prompt      float64 // s to the next prompt event; NaN if none
	Heard       float64 // s to the IVR's first audible packet after it went quiet; NaN if none
	Overlapping int     // other callers whose speech ended in the second before this one's
}

type quantiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	Max   float64 `json:"max"`
}

type report struct {
	Calls       int     `json:"calls"`
	Rate        int     `json:"rate"`
	Second      string  `json:"second_engine"`
	Sync        bool    `json:"speak_together"`
	UtterAt     string  `json:"utter_at"`
	Sched       string  `json:"sched"`
	Commit      string  `json:"commit"`
	LoadavgPre  string  `json:"loadavg_before"`
	SippRC      int     `json:"sipp_rc"`
	Records     int     `json:"records"`
	Spoken      int     `json:"spoken"`       // utterances sent to the end
	Recognized  int     `json:"recognized"`   // calls with a speech event after the utterance
	Correct     int     `json:"correct"`      // last_intent is the clip's intent ("oos": none)
	AccuracyPct float64 `json:"accuracy_pct"` // Correct of Spoken
	// Delays in ms from the end of the caller's speech.
	RecognizedMS quantiles `json:"recognized_ms"`
	PromptMS     quantiles `json:"prompt_ms"`
	HeardMS      quantiles `json:"heard_ms"`
	// RecognizedMS by how many other callers' speech ended in the second
	// before this caller's.
	RecognizedByOverlap map[string]quantiles `json:"recognized_ms_by_overlap"`
	ServerCPU           struct {
		SpeakingAvgPct float64 `json:"speaking_avg_pct"` // % of one core, over the Speaking window
		SpeakingMaxPct float64 `json:"speaking_max_pct"`
		SystemBusyPct  float64 `json:"system_busy_pct"` // both cores, over the window
		SpeakingCPUS   float64 `json:"speaking_cpu_s"`  // CPU seconds the server used in the window
		PerTurnCPUMS   float64 `json:"per_turn_cpu_ms"` // SpeakingCPUS / recognized turns (media included)
		RunAvgPct      float64 `json:"run_avg_pct"`
	} `json:"server_cpu"`
	ServerRSSPeakMiB float64  `json:"server_rss_peak_mib"`
	IntervalMS       any      `json:"interval_ms"`          // whole run
	SpeakingInterval any      `json:"speaking_interval_ms"` // first utterance to 3 s after the last speech
	MissingPackets   uint64   `json:"missing_packets"`
	SeqGaps          uint64   `json:"seq_gaps"`
	Wrong            []string `json:"wrong,omitempty"` // file: want -> got ("heard")
	// With -eval (the text output of `ivr eval speech` on the same
	// clips): how many of the spoken calls' clips that single-file run
	// got right, and how many calls got the same intent as it did.
	Eval *struct {
		File        string  `json:"file"`
		Correct     int     `json:"correct"`
		AccuracyPct float64 `json:"accuracy_pct"`
		Agree       int     `json:"agree"`
	} `json:"single_file_eval,omitempty"`
}

func main() {
	dir := flag.String("dir", ".", "the run's output directory")
	calls := flag.Int("calls", 0, "calls made")
	rate := flag.Int("rate", 0, "call rate")
	second := flag.String("second", "auto", "speech.second_engine of the run")
	sync := flag.Bool("sync", true, "callers spoke together")
	utterAt := flag.String("utter-at", "", "rtpsink -utter-at")
	sched := flag.String("sched", "", "scheduling of the run")
	commit := flag.String("commit", "", "the server's commit")
	loadavg := flag.String("loadavg", "", "load average before the run")
	sippRC := flag.Int("sipp-rc", 0, "SIPp's exit code")
	evalPath := flag.String("eval", "", "text output of `ivr eval speech` on the same clips, to compare with")
	flag.Parse()

	var sink sinkSummary
	if err := readJSON(filepath.Join(*dir, "sink.json"), &sink); err != nil {
		fatal(err)
	}
	var recs []record
	if err := readJSON(filepath.Join(*dir, "calls.json"), &recs); err != nil {
		fatal(err)
	}
	turns := join(sink.Utterances, recs)
	r := summarise(turns)
	r.Calls, r.Rate, r.Second, r.Sync, r.UtterAt = *calls, *rate, *second, *sync, *utterAt
	r.Sched, r.Commit, r.LoadavgPre, r.SippRC, r.Records = *sched, *commit, strings.TrimSpace(*loadavg), *sippRC, len(recs)
	r.IntervalMS, r.MissingPackets, r.SeqGaps = sink.Interval, sink.MissingPackets, sink.SeqGaps
	if sink.Speaking != nil {
		r.SpeakingInterval = sink.Speaking.Interval
		avg, mx, sys, sum, err := windowCPU(filepath.Join(*dir, "timeline.csv"), "server", sink.Speaking.FromUnix, sink.Speaking.ToUnix)
		if err != nil {
			fatal(err)
		}
		r.ServerCPU.SpeakingAvgPct, r.ServerCPU.SpeakingMaxPct, r.ServerCPU.SystemBusyPct = avg, mx, sys
		r.ServerCPU.SpeakingCPUS = math.Round(sum) / 100 // % of a core for 1 s samples
		if r.Recognized > 0 {
			r.ServerCPU.PerTurnCPUMS = math.Round(sum * 10 / float64(r.Recognized))
		}
	}
	var pm struct {
		Procs []struct {
			Name       string  `json:"name"`
			CPUAvgPct  float64 `json:"cpu_avg_pct"`
			RSSPeakMiB float64 `json:"rss_peak_mib"`
		} `json:"procs"`
	}
	if err := readJSON(filepath.Join(*dir, "procmon.json"), &pm); err == nil {
		for _, p := range pm.Procs {
			if p.Name == "server" {
				r.ServerCPU.RunAvgPct, r.ServerRSSPeakMiB = p.CPUAvgPct, p.RSSPeakMiB
			}
		}
	}
	if *evalPath != "" {
		ev, err := readEval(*evalPath)
		if err != nil {
			fatal(err)
		}
		r.Eval = &struct {
			File        string  `json:"file"`
			Correct     int     `json:"correct"`
			AccuracyPct float64 `json:"accuracy_pct"`
			Agree       int     `json:"agree"`
		}{File: *evalPath}
		for _, t := range turns {
			got, ok := ev[t.File]
			if !ok || t.Got == "(no record)" || t.Got == "(not spoken)" {
				continue
			}
			if got == "oos" {
				got = ""
			}
			if correct(t.Want, got, true) {
				r.Eval.Correct++
			}
			if got == t.Got {
				r.Eval.Agree++
			}
		}
		if r.Spoken > 0 {
			r.Eval.AccuracyPct = math.Round(float64(r.Eval.Correct)/float64(r.Spoken)*1000) / 10
		}
	}
	if err := writeTurns(filepath.Join(*dir, "turns.csv"), turns); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "speechreport: %d calls, %d spoke, %d recognized, %d right (%.1f %%); end of speech -> turn p50/p95/max %.0f/%.0f/%.0f ms, -> reply heard %.0f/%.0f/%.0f ms; server CPU %.0f %% (max %.0f %%) while recognizing, peak RSS %.0f MiB\n",
		r.Calls, r.Spoken, r.Recognized, r.Correct, r.AccuracyPct,
		r.RecognizedMS.P50, r.RecognizedMS.P95, r.RecognizedMS.Max, r.HeardMS.P50, r.HeardMS.P95, r.HeardMS.Max,
		r.ServerCPU.SpeakingAvgPct, r.ServerCPU.SpeakingMaxPct, r.ServerRSSPeakMiB)
	out, err := json.Marshal(r)
	if err != nil {
		fatal(err)
	}
	fmt.Println(string(out))
}

var fromNumber = regexp.MustCompile(`load(\d+)@`)

// join pairs each utterance with its call's record (by SIPp's call number
// in the From URI) and measures the turn.
func join(us []utterance, recs []record) []turn {
	byCall := map[int]*record{}
	for i := range recs {
		if m := fromNumber.FindStringSubmatch(recs[i].From); m != nil {
			k, _ := strconv.Atoi(m[1])
			byCall[k] = &recs[i]
		}
	}
	ends := make([]float64, 0, len(us))
	for _, u := range us {
		if u.VoicedEndUnix > 0 {
			ends = append(ends, u.VoicedEndUnix)
		}
	}
	slices.Sort(ends)
	var out []turn
	for _, u := range us {
		t := turn{Call: u.Call, File: filepath.Base(u.File), Want: u.Intent, Recognized: math.NaN(), Prompt: math.NaN(), Heard: math.NaN()}
		rec := byCall[u.Call]
		if rec == nil || u.VoicedEndUnix == 0 {
			t.Got = "(no record)"
			if rec != nil {
				t.Got = "(not spoken)"
			}
			out = append(out, t)
			continue
		}
		t.Overlapping = countIn(ends, u.VoicedEndUnix-1, u.VoicedEndUnix) - 1
		t.Got = rec.Vars["last_intent"]
		t.Said = rec.Vars["last_utterance"]
		if u.ReplyUnix > 0 {
			t.Heard = u.ReplyUnix - u.VoicedEndUnix
		}
		for i, e := range rec.Events {
			at := unix(e.At)
			if e.Kind != "speech" || at < u.StartUnix {
				continue
			}
			t.Recognized = at - u.VoicedEndUnix
			for _, n := range rec.Events[i+1:] {
				if n.Kind == "prompt" {
					t.Prompt = unix(n.At) - u.VoicedEndUnix
					break
				}
			}
			break
		}
		t.Correct = correct(t.Want, t.Got, !math.IsNaN(t.Recognized))
		out = append(out, t)
	}
	return out
}

// correct: the record's intent is the label's. The line's escape intent
// counts as "agent"; "oos" means no intent, after a recognized turn.
func correct(want, got string, heard bool) bool {
	switch {
	case want == "oos":
		return heard && got == ""
	case want == "agent":
		return got == "_escape" || got == "agent"
	}
	return got == want
}

func summarise(turns []turn) report {
	var r report
	var rec, prompt, heard []float64
	byOverlap := map[string][]float64{}
	for _, t := range turns {
		if t.Got == "(no record)" || t.Got == "(not spoken)" {
			continue
		}
		r.Spoken++
		if !math.IsNaN(t.Recognized) {
			r.Recognized++
			rec = append(rec, t.Recognized*1000)
			b := overlapBucket(t.Overlapping)
			byOverlap[b] = append(byOverlap[b], t.Recognized*1000)
		}
		if !math.IsNaN(t.Prompt) {
			prompt = append(prompt, t.Prompt*1000)
		}
		if !math.IsNaN(t.Heard) {
			heard = append(heard, t.Heard*1000)
		}
		if t.Correct {
			r.Correct++
		} else {
			got := t.Got
			if got == "" {
				got = "(none)"
			}
			r.Wrong = append(r.Wrong, fmt.Sprintf("%s: %s -> %s (%q)", t.File, t.Want, got, t.Said))
		}
	}
	if r.Spoken > 0 {
		r.AccuracyPct = math.Round(float64(r.Correct)/float64(r.Spoken)*1000) / 10
	}
	r.RecognizedMS, r.PromptMS, r.HeardMS = percentiles(rec), percentiles(prompt), percentiles(heard)
	r.RecognizedByOverlap = map[string]quantiles{}
	for k, v := range byOverlap {
		r.RecognizedByOverlap[k] = percentiles(v)
	}
	return r
}

func overlapBucket(n int) string {
	switch {
	case n < 5:
		return "0-4"
	case n < 20:
		return "5-19"
	case n < 50:
		return "20-49"
	}
	return "50+"
}

// countIn counts sorted values in [from, to].
func countIn(sorted []float64, from, to float64) int {
	i, _ := slices.BinarySearch(sorted, from)
	n := 0
	for ; i < len(sorted) && sorted[i] <= to; i++ {
		n++
	}
	return n
}

// percentiles are nearest-rank quantiles, rounded to 1 ms.
func percentiles(v []float64) quantiles {
	q := quantiles{Count: len(v)}
	if len(v) == 0 {
		return q
	}
	slices.Sort(v)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return math.Round(v[max(0, min(i, len(v)-1))])
	}
	q.P50, q.P95, q.Max = at(0.50), at(0.95), math.Round(v[len(v)-1])
	return q
}

// windowCPU averages a process's CPU samples (and the machine's) that
// overlap [from, to] (Unix s), and gives the highest sample and the sum
// (% of a core times samples: CPU centiseconds with 1 s samples).
func windowCPU(path, name string, from, to float64) (avg, peak, sys, sum float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	col := slices.Index(strings.Split(lines[0], ","), name+"_cpu_pct")
	if col < 0 {
		return 0, 0, 0, 0, fmt.Errorf("%s: no column %s_cpu_pct", path, name)
	}
	var sp, ss float64
	var k int
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		t, _ := strconv.ParseFloat(f[0], 64)
		// A sample covers the second before it: keep those that overlap.
		if t <= from || t-1 >= to || col >= len(f) || len(f) < 2 {
			continue
		}
		p, _ := strconv.ParseFloat(f[col], 64)
		s, _ := strconv.ParseFloat(f[1], 64)
		sp, ss, k = sp+p, ss+s, k+1
		peak = max(peak, p)
	}
	if k == 0 {
		return 0, 0, 0, 0, nil
	}
	return math.Round(sp/float64(k)*10) / 10, peak, math.Round(ss/float64(k)*10) / 10, sp, nil
}

func writeTurns(path string, turns []turn) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"call", "file", "want", "got", "correct", "said", "recognized_ms", "prompt_ms", "heard_ms", "overlapping"})
	ms := func(s float64) string {
		if math.IsNaN(s) {
			return ""
		}
		return strconv.FormatFloat(s*1000, 'f', 0, 64)
	}
	for _, t := range turns {
		w.Write([]string{strconv.Itoa(t.Call), t.File, t.Want, t.Got, strconv.FormatBool(t.Correct), t.Said,
			ms(t.Recognized), ms(t.Prompt), ms(t.Heard), strconv.Itoa(t.Overlapping)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readEval reads the per-file lines of `ivr eval speech` ("ok  PATH
// want=X got=Y ..." or "BAD PATH ...") into base name -> got.
func readEval(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || (f[0] != "ok" && f[0] != "BAD") {
			continue
		}
		for _, kv := range f[2:] {
			if g, ok := strings.CutPrefix(kv, "got="); ok {
				out[filepath.Base(f[1])] = g
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no per-file results (ok/BAD lines)", path)
	}
	return out, nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "speechreport:", err)
	os.Exit(1)
}
