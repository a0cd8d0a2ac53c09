package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestJoin(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	u := func(s float64) float64 { return unix(t0) + s }
	us := []utterance{
		{Call: 1, File: "/x/a.wav", Intent: "check_balance", StartUnix: u(1), VoicedEndUnix: u(3), ReplyUnix: u(4.2)},
		{Call: 2, File: "/x/b.wav", Intent: "oos", StartUnix: u(1), VoicedEndUnix: u(3.5)},
		{Call: 3, File: "/x/c.wav", Intent: "lost_card", StartUnix: u(1), VoicedEndUnix: u(3.2)},
		{Call: 4, File: "/x/d.wav", Intent: "lost_card"}, // never spoken
		{Call: 5, File: "/x/e.wav", Intent: "agent", StartUnix: u(1), VoicedEndUnix: u(2)},
	}
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	recs := []record{
		{From: "sip:load1@127.0.0.1:5060", Vars: map[string]string{"last_intent": "check_balance", "last_utterance": "my balance"},
			Events: []event{
				{At: at(0.5), Kind: "speech", Text: "an earlier turn"}, // before the utterance: not this turn
				{At: at(0.6), Kind: "prompt"},
				{At: at(4), Kind: "speech"}, {At: at(4), Kind: "option"}, {At: at(4.01), Kind: "prompt"},
			}},
		{From: "sip:load2@127.0.0.1:5060", Vars: map[string]string{"last_utterance": "play a song"},
			Events: []event{{At: at(5), Kind: "speech"}}},
		{From: "sip:load3@127.0.0.1:5060", Vars: map[string]string{"last_intent": "check_balance"},
			Events: []event{{At: at(4.2), Kind: "speech"}, {At: at(4.3), Kind: "prompt"}}},
		{From: "sip:load4@127.0.0.1:5060"},
		{From: "sip:load5@127.0.0.1:5060", Vars: map[string]string{"last_intent": "_escape"},
			Events: []event{{At: at(2.7), Kind: "speech"}}},
	}
	turns := join(us, recs)
	if len(turns) != 5 {
		t.Fatalf("%d turns", len(turns))
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-3 }
	if tt := turns[0]; !tt.Correct || !near(tt.Recognized, 1) || !near(tt.Prompt, 1.01) || !near(tt.Heard, 1.2) || tt.Overlapping != 1 {
		t.Errorf("call 1: %+v", tt)
	}
	if tt := turns[1]; !tt.Correct || !near(tt.Recognized, 1.5) || !math.IsNaN(tt.Prompt) || !math.IsNaN(tt.Heard) {
		t.Errorf("call 2 (out of scope, no intent): %+v", tt)
	}
	if tt := turns[2]; tt.Correct || tt.Got != "check_balance" {
		t.Errorf("call 3 (wrong intent): %+v", tt)
	}
	if tt := turns[3]; tt.Got != "(not spoken)" {
		t.Errorf("call 4: %+v", tt)
	}
	if tt := turns[4]; !tt.Correct {
		t.Errorf("call 5 (escape for agent): %+v", tt)
	}
	r := summarise(turns)
	if r.Spoken != 4 || r.Recognized != 4 || r.Correct != 3 || r.AccuracyPct != 75 || len(r.Wrong) != 1 {
		t.Errorf("summary %+v", r)
	}
	if r.RecognizedMS.Count != 4 || r.RecognizedMS.P50 != 1000 || r.RecognizedMS.Max != 1500 || r.HeardMS.Count != 1 {
		t.Errorf("delays %+v %+v", r.RecognizedMS, r.HeardMS)
	}
}

func TestCorrect(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		heard, ok bool
	}{
		{"oos", "", true, true},
		{"oos", "", false, false}, // nothing recognized is not a right rejection
		{"oos", "lost_card", true, false},
		{"agent", "_escape", true, true},
		{"lost_card", "lost_card", true, true},
		{"lost_card", "", true, false},
	} {
		if got := correct(tc.want, tc.got, tc.heard); got != tc.ok {
			t.Errorf("correct(%q, %q, %v) = %v", tc.want, tc.got, tc.heard, got)
		}
	}
}

func TestReadEval(t *testing.T) {
	p := filepath.Join(t.TempDir(), "eval.txt")
	os.WriteFile(p, []byte(`ok  /tmp/eval/a.wav want=oos got=oos conf=0.00 heard="x y"
BAD /tmp/eval/b.wav want=check_balance got=lost_card conf=0.07
# 2 files in 1s
{"n":2}
`), 0o644)
	ev, err := readEval(p)
	if err != nil || len(ev) != 2 || ev["a.wav"] != "oos" || ev["b.wav"] != "lost_card" {
		t.Errorf("readEval = %v, %v", ev, err)
	}
	os.WriteFile(p, []byte("{}\n"), 0o644)
	if _, err := readEval(p); err == nil {
		t.Error("a file without results accepted")
	}
}

func TestWindowCPU(t *testing.T) {
	p := filepath.Join(t.TempDir(), "timeline.csv")
	os.WriteFile(p, []byte("unix_s,system_busy_pct,server_cpu_pct\n100,50,10\n101,60,30\n102,70,50\n110,90,90\n"), 0o644)
	avg, peak, sys, sum, err := windowCPU(p, "server", 100.5, 101.5)
	if err != nil || avg != 40 || peak != 50 || sys != 65 || sum != 80 {
		t.Errorf("windowCPU = %v %v %v %v %v", avg, peak, sys, sum, err)
	}
	if _, _, _, _, err := windowCPU(p, "sink", 0, 1); err == nil {
		t.Error("missing column accepted")
	}
}

// FuzzReadEval: any text parses or errors; never a panic.
func FuzzReadEval(f *testing.F) {
	f.Add("ok  /a/b.wav want=x got=y\nBAD c.wav want=x got=\n")
	f.Add("ok\nBAD  \n{}")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(dir, "eval.txt")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Skip()
		}
		ev, err := readEval(p)
		if err == nil && len(ev) == 0 {
			t.Fatal("no results and no error")
		}
	})
}
