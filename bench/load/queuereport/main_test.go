package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// call builds a record: joined at join, hung up after wait, announcements
// asked at the given offsets from the join.
func call(t *testing.T, join time.Time, wait time.Duration, outcome string, offsets ...time.Duration) record {
	t.Helper()
	type ev struct {
		At   time.Time `json:"at"`
		Kind string    `json:"kind"`
		Text string    `json:"text"`
	}
	evs := []ev{{join, "queue_join", "support position 1"}}
	for i, o := range offsets {
		evs = append(evs, ev{join.Add(o), "prompt", fmt.Sprintf("You are number %d in the queue.", 2+i%2)})
	}
	end := join.Add(wait)
	raw, err := json.Marshal(map[string]any{
		"started_at": join, "ended_at": end,
		"queue":  map[string]any{"joined_at": join, "position": 2, "wait_ms": wait.Milliseconds(), "outcome": outcome},
		"events": evs,
	})
	if err != nil {
		t.Fatal(err)
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAnalyze(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC)
	s := time.Second
	ms := time.Millisecond
	every := 10 * s
	recs := []record{
		// On time: 2 s, then the first synthesis took 100 ms, then the ticker.
		call(t, t0, 35*s, "abandoned", 2*s, 12*s+100*ms, 22*s+100*ms, 32*s+100*ms),
		// The third and fourth announcements are missing (due at 22.1 and 32.1 s, hung up at 35 s).
		call(t, t0.Add(s), 35*s, "abandoned", 2*s, 12*s+100*ms),
		// Answered: not a waiting caller to the end.
		call(t, t0.Add(2*s), 10*s, "answered", 2*s+50*ms),
		// A record without a queue is not counted.
		{},
	}
	r := analyze(recs, every)
	if r.Calls != 3 || r.NotAbandoned != 1 || r.Outcomes["abandoned"] != 2 {
		t.Errorf("calls %d, not abandoned %d, outcomes %v", r.Calls, r.NotAbandoned, r.Outcomes)
	}
	if r.Announcements != 7 || r.Texts != 2 {
		t.Errorf("announcements %d, texts %d; want 7, 2", r.Announcements, r.Texts)
	}
	if r.Missing != 2 {
		t.Errorf("missing %d, want 2 (the second caller's third and fourth)", r.Missing)
	}
	if r.FirstLateMS.Count != 3 || r.FirstLateMS.Max != 50 {
		t.Errorf("first late %+v, want 3 with max 50 ms", r.FirstLateMS)
	}
	if r.FirstSynthMS.Count != 2 || r.FirstSynthMS.P50 != 100 {
		t.Errorf("first synthesis %+v, want 2 at 100 ms", r.FirstSynthMS)
	}
	if r.CadenceLateMS.Count != 2 || r.CadenceLateMS.Max != 100 {
		t.Errorf("cadence %+v, want 2 at 100 ms", r.CadenceLateMS)
	}
	tl := []sample{{t: unixS(t0) + 1, cpu: 40, rss: 90}, {t: unixS(t0) + 2, cpu: 40, rss: 91},
		{t: unixS(t0) + 3, cpu: 60, rss: 92}, {t: unixS(t0) + 10, cpu: 30, rss: 95}, {t: unixS(t0) + 11, cpu: 30, rss: 96}}
	r.windows(tl)
	if r.RSSStartMiB != 90 || r.Joining == nil || r.Waiting == nil {
		t.Fatalf("windows: rss %v joining %+v waiting %+v", r.RSSStartMiB, r.Joining, r.Waiting)
	}
	// The last first announcement was at 4.05 s: joining is 0-5.05 s.
	if r.Joining.Samples != 3 || r.Joining.ServerCPU != 46.7 {
		t.Errorf("joining %+v, want 3 samples at 46.7 %%", r.Joining)
	}
	if r.Waiting.Samples != 2 || r.Waiting.ServerCPU != 30 || r.Waiting.PerCaller != 10 || r.Waiting.ServerRSS != 96 {
		t.Errorf("waiting %+v, want 2 samples at 30 %% (10 per caller), 96 MiB", r.Waiting)
	}
}

func unixS(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

func TestPercentiles(t *testing.T) {
	if q := percentiles(nil); q.Count != 0 {
		t.Errorf("empty: %+v", q)
	}
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(100 - i)
	}
	if q := percentiles(v); q.P50 != 50 || q.P99 != 99 || q.Max != 100 {
		t.Errorf("1..100: %+v", q)
	}
}
