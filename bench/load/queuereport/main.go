// Command queuereport reads what one run of the queue load benchmark
// (bench/load/queue.sh) left in its directory and prints a readable
// summary on stderr and one JSON line on stdout:
//
//   - from the server's call records (ivr calls --json): each caller's
//     queue outcome and the times the dialog asked for its position
//     announcements (the "prompt" events of the queue node), against the
//     schedule (2 s after joining, then every announce_every);
//   - how many distinct announcement texts there were and how many WAV
//     files the prompt cache wrote (each one synthesis);
//   - from bench/procmon's timeline: the server's CPU and RSS while the
//     callers were joining and hearing their first announcement (every
//     text synthesized), and afterwards, when all waited and later
//     announcements came from the cache.
//
// The dialog logs an announcement's event before it synthesizes the
// text and re-arms its ticker after, so the gap between a caller's first
// and second announcement, less announce_every, is the time the first
// (uncached) synthesis took, and later gaps show the ticker's lateness.
//
// The run passes when every call waited in the queue until the caller
// hung up (outcome "abandoned") and no announcement due at least one
// second before the hangup is missing.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// firstAnnouncement is dialog's delay before a caller's first
// announcement (dialog.firstAnnouncement).
const firstAnnouncement = 2 * time.Second

func main() {
	dir := flag.String("dir", ".", "the run's directory")
	every := flag.Duration("every", 30*time.Second, "the queue's announce_every")
	hold := flag.Duration("hold", 75*time.Second, "how long each caller stayed")
	announce := flag.Bool("announce", true, "the queue announced positions (false: queue.sh -music-only, none expected)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("queuereport: ")

	var recs []record
	if err := readJSON(filepath.Join(*dir, "calls.json"), &recs); err != nil {
		log.Fatal(err)
	}
	r := analyze(recs, *every)
	if !*announce {
		// Music alone: nothing is due, and any announcement is a fault.
		r.Missing = r.Announcements
	}
	r.HoldS = hold.Seconds()
	if b, err := os.ReadFile(filepath.Join(*dir, "tts-files")); err == nil {
		r.TTSFiles, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if b, err := os.ReadFile(filepath.Join(*dir, "loadavg.before")); err == nil {
		r.LoadAvgBefore = strings.TrimSpace(string(b))
	}
	if tl, err := readTimeline(filepath.Join(*dir, "timeline.csv")); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("timeline: %v", err))
	} else {
		r.windows(tl)
	}
	r.Pass = r.Calls > 0 && r.NotAbandoned == 0 && r.Missing == 0 && len(r.Problems) == 0
	printHuman(r)
	out, err := json.Marshal(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
}

// record is the part of the server's call record this report reads.
type record struct {
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	Queue     *struct {
		JoinedAt      time.Time `json:"joined_at"`
		Position      int       `json:"position"`
		WaitMS        int64     `json:"wait_ms"`
		Outcome       string    `json:"outcome"`
		Announcements int       `json:"announcements"`
	} `json:"queue"`
	Events []struct {
		At   time.Time `json:"at"`
		Kind string    `json:"kind"`
		Text string    `json:"text"`
	} `json:"events"`
}

type quantiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func percentiles(v []float64) quantiles {
	if len(v) == 0 {
		return quantiles{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return math.Round(s[max(i, 0)]*10) / 10
	}
	return quantiles{Count: len(s), P50: at(0.50), P99: at(0.99), Max: math.Round(s[len(s)-1]*10) / 10}
}

// window is the server's load over part of the run.
type window struct {
	FromS      float64 `json:"from_s"` // seconds after the first caller joined
	ToS        float64 `json:"to_s"`
	Samples    int     `json:"samples"`
	ServerCPU  float64 `json:"server_cpu_pct"`  // % of one core, mean
	PerCaller  float64 `json:"per_caller_pct"`  // ServerCPU / callers waiting
	SystemBusy float64 `json:"system_busy_pct"` // % of all cores, everyone's
	ServerRSS  float64 `json:"server_rss_mib"`  // at the end of the window
}

type report struct {
	HoldS         float64        `json:"hold_s"`
	EveryS        float64        `json:"announce_every_s"`
	LoadAvgBefore string         `json:"loadavg_before"`
	Calls         int            `json:"calls"`         // records with a queue
	Outcomes      map[string]int `json:"outcomes"`      // queue outcome -> calls
	NotAbandoned  int            `json:"not_abandoned"` // outcome other than the caller hanging up
	MaxPosition   int            `json:"max_position"`

	Announcements int `json:"announcements"` // asked for, all calls
	Texts         int `json:"texts"`         // distinct announcement texts
	TTSFiles      int `json:"tts_files"`     // WAVs the prompt cache wrote (one per synthesis)
	Missing       int `json:"missing"`       // due a second before the hangup, never asked for

	// FirstLateMS: first announcement's event after joining + 2 s.
	FirstLateMS quantiles `json:"first_late_ms"`
	// FirstSynthMS: second announcement's gap after the first, less
	// announce_every: the first (uncached) synthesis plus timer lateness.
	FirstSynthMS quantiles `json:"first_synth_ms"`
	// CadenceLateMS: the third and later announcements (cached texts)
	// against the first + k x announce_every: what the caller hears of
	// the cadence. It includes the first synthesis, as the dialog
	// re-arms its ticker after it.
	CadenceLateMS quantiles `json:"cadence_late_ms"`

	// Joining: from the first join to the last first announcement plus
	// 1 s (every text synthesized once). Waiting: from then (or the last
	// join, if later) to 1 s before the first caller left.
	// RSSStartMiB is the server's RSS at the first sample, as the calls
	// began (the music decoded, the voice loaded).
	RSSStartMiB float64 `json:"rss_start_mib"`
	Joining     *window `json:"joining,omitempty"`
	Waiting     *window `json:"waiting,omitempty"`

	Pass     bool     `json:"pass"`
	Problems []string `json:"problems,omitempty"`

	firstJoin, lastJoin, lastFirst, firstEnd time.Time
}

// analyze checks each caller's announcements against the schedule.
func analyze(recs []record, every time.Duration) report {
	r := report{EveryS: every.Seconds(), Outcomes: map[string]int{}}
	texts := map[string]bool{}
	var firstLate, firstSynth, cadenceLate []float64
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	for _, rec := range recs {
		q := rec.Queue
		if q == nil {
			continue
		}
		r.Calls++
		r.Outcomes[q.Outcome]++
		if q.Outcome != "abandoned" {
			r.NotAbandoned++
		}
		r.MaxPosition = max(r.MaxPosition, q.Position)
		end := q.JoinedAt.Add(time.Duration(q.WaitMS) * time.Millisecond)
		if rec.EndedAt != nil && rec.EndedAt.Before(end) {
			end = *rec.EndedAt
		}
		var at []time.Time
		for _, e := range rec.Events {
			if e.Kind == "prompt" && strings.Contains(e.Text, "in the queue") {
				at = append(at, e.At)
				texts[e.Text] = true
			}
		}
		r.Announcements += len(at)
		if r.firstJoin.IsZero() || q.JoinedAt.Before(r.firstJoin) {
			r.firstJoin = q.JoinedAt
		}
		if q.JoinedAt.After(r.lastJoin) {
			r.lastJoin = q.JoinedAt
		}
		if r.firstEnd.IsZero() || end.Before(r.firstEnd) {
			r.firstEnd = end
		}
		// The schedule: join + 2 s, then (after the first is handled)
		// every announce_every.
		due := q.JoinedAt.Add(firstAnnouncement)
		if len(at) == 0 {
			if due.Before(end.Add(-time.Second)) {
				r.Missing++
			}
			continue
		}
		firstLate = append(firstLate, ms(at[0].Sub(due)))
		if at[0].After(r.lastFirst) {
			r.lastFirst = at[0]
		}
		if len(at) == 1 {
			if at[0].Add(every).Before(end.Add(-time.Second)) {
				r.Missing++
			}
			continue
		}
		firstSynth = append(firstSynth, ms(at[1].Sub(at[0])-every))
		next := at[1]
		for k := 2; ; k++ {
			next = next.Add(every)
			if k < len(at) {
				cadenceLate = append(cadenceLate, ms(at[k].Sub(at[0])-time.Duration(k)*every))
				continue
			}
			if next.Before(end.Add(-time.Second)) {
				r.Missing++
				continue
			}
			break
		}
	}
	r.Texts = len(texts)
	r.FirstLateMS = percentiles(firstLate)
	r.FirstSynthMS = percentiles(firstSynth)
	r.CadenceLateMS = percentiles(cadenceLate)
	return r
}

// sample is one line of procmon's timeline.
type sample struct {
	t, sys, cpu, rss float64
}

func readTimeline(path string) ([]sample, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Split(lines[0], ",")
	cpu, rss := slices.Index(head, "server_cpu_pct"), slices.Index(head, "server_rss_mib")
	if cpu < 0 || rss < 0 {
		return nil, fmt.Errorf("no server columns in %s", path)
	}
	var out []sample
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) <= max(cpu, rss) {
			continue
		}
		var s sample
		s.t, _ = strconv.ParseFloat(f[0], 64)
		s.sys, _ = strconv.ParseFloat(f[1], 64)
		s.cpu, _ = strconv.ParseFloat(f[cpu], 64)
		s.rss, _ = strconv.ParseFloat(f[rss], 64)
		out = append(out, s)
	}
	return out, nil
}

// windows fills Joining and Waiting from the timeline.
func (r *report) windows(tl []sample) {
	if len(tl) > 0 {
		r.RSSStartMiB = tl[0].rss
	}
	if r.firstJoin.IsZero() {
		return
	}
	unix := func(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
	t0 := unix(r.firstJoin)
	joinEnd := unix(r.lastJoin) + 1 // music alone: no announcement
	if !r.lastFirst.IsZero() {
		joinEnd = unix(r.lastFirst) + 1
	}
	waitFrom := math.Max(joinEnd, unix(r.lastJoin)+1)
	waitTo := unix(r.firstEnd) - 1
	r.Joining = over(tl, t0, joinEnd, t0, 0)
	if waitTo-waitFrom >= 3 {
		r.Waiting = over(tl, waitFrom, waitTo, t0, r.Calls)
	} else {
		r.Problems = append(r.Problems, "no window with every caller waiting after the first announcements: hold longer")
	}
}

// over averages the samples that cover a second inside [from, to];
// callers > 0 also gives the CPU per caller.
func over(tl []sample, from, to, t0 float64, callers int) *window {
	w := &window{FromS: math.Round((from-t0)*10) / 10, ToS: math.Round((to-t0)*10) / 10}
	var cpu, sys float64
	for _, s := range tl {
		if s.t-1 < from || s.t > to {
			continue
		}
		cpu, sys = cpu+s.cpu, sys+s.sys
		w.Samples++
		w.ServerRSS = s.rss
	}
	if w.Samples == 0 {
		return w
	}
	w.ServerCPU = math.Round(cpu/float64(w.Samples)*10) / 10
	w.SystemBusy = math.Round(sys/float64(w.Samples)*10) / 10
	if callers > 0 {
		w.PerCaller = math.Round(cpu/float64(w.Samples)/float64(callers)*1000) / 1000
	}
	return w
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func printHuman(r report) {
	p := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	p("queue: %d callers in the queue (outcomes %v; not abandoned %d), positions up to %d", r.Calls, r.Outcomes, r.NotAbandoned, r.MaxPosition)
	p("announcements: %d asked for (every %gs), %d distinct texts, %d WAVs synthesized into the prompt cache, %d missing",
		r.Announcements, r.EveryS, r.Texts, r.TTSFiles, r.Missing)
	q := func(name string, v quantiles) {
		p("  %-44s n=%d p50 %.1f  p99 %.1f  max %.1f ms", name, v.Count, v.P50, v.P99, v.Max)
	}
	q("first one late (after join + 2 s)", r.FirstLateMS)
	q("first synthesis + lateness (gap 1 - every)", r.FirstSynthMS)
	q("3rd and later late (first + k x every)", r.CadenceLateMS)
	w := func(name string, v *window) {
		if v == nil {
			return
		}
		p("  %-8s %5.1f-%5.1f s: server CPU %.1f %% of a core (%.3f %% per caller), RSS %.0f MiB, machine busy %.0f %% (%d samples)",
			name, v.FromS, v.ToS, v.ServerCPU, v.PerCaller, v.ServerRSS, v.SystemBusy, v.Samples)
	}
	p("  server RSS at the first sample: %.0f MiB", r.RSSStartMiB)
	w("joining", r.Joining)
	w("waiting", r.Waiting)
	p("load average before: %s", r.LoadAvgBefore)
	for _, s := range r.Problems {
		p("problem: %s", s)
	}
	p("pass: %v", r.Pass)
}
