package vad

import (
	"math"
	"testing"
	"time"
)

// seq builds a probability sequence from runs: seq(0.9, 5, 0.1, 3) is five
// frames at 0.9 then three at 0.1.
func seq(runs ...float64) []float32 {
	var out []float32
	for i := 0; i+1 < len(runs); i += 2 {
		for n := 0; n < int(runs[i+1]); n++ {
			out = append(out, float32(runs[i]))
		}
	}
	return out
}

type firing struct {
	frame int
	ev    Event
}

func pushAll(e *Endpointer, probs []float32) []firing {
	var got []firing
	for i, p := range probs {
		if ev := e.Push(p); ev != None {
			got = append(got, firing{i, ev})
		}
	}
	return got
}

func TestEndpointerTable(t *testing.T) {
	base := EndpointConfig{ // 20 ms frames
		MinSpeech:       100 * time.Millisecond, // 5 frames
		TrailingSilence: 400 * time.Millisecond, // 20 frames
		MaxUtterance:    2 * time.Second,        // 100 frames
		NoInputTimeout:  time.Second,            // 50 frames
	}
	tests := []struct {
		name  string
		cfg   EndpointConfig
		probs []float32
		want  []firing
	}{
		{
			name:  "utterance start and end",
			cfg:   base,
			probs: seq(0.05, 10, 0.9, 30, 0.05, 25),
			want:  []firing{{14, SpeechStart}, {59, SpeechEnd}},
		},
		{
			name:  "cough shorter than min speech does not start",
			cfg:   base,
			probs: seq(0.05, 10, 0.95, 4, 0.05, 10),
			want:  nil,
		},
		{
			name:  "cough then no input",
			cfg:   base,
			probs: seq(0.05, 10, 0.95, 4, 0.05, 40),
			want:  []firing{{49, NoInput}},
		},
		{
			name:  "no input fires once per arming",
			cfg:   base,
			probs: seq(0.0, 200),
			want:  []firing{{49, NoInput}},
		},
		{
			name:  "hysteresis: mid probabilities neither start nor reset",
			cfg:   base,
			probs: seq(0.05, 5, 0.9, 3, 0.42, 4, 0.9, 2, 0.05, 30),
			want:  []firing{{13, SpeechStart}, {33, SpeechEnd}},
		},
		{
			name:  "dip below silence threshold resets the run",
			cfg:   base,
			probs: seq(0.05, 5, 0.9, 3, 0.1, 1, 0.9, 3, 0.05, 40),
			want:  []firing{{49, NoInput}},
		},
		{
			name:  "short pauses inside an utterance do not end it",
			cfg:   base,
			probs: seq(0.9, 10, 0.1, 15, 0.9, 10, 0.1, 19, 0.9, 10, 0.1, 20),
			want:  []firing{{4, SpeechStart}, {83, SpeechEnd}},
		},
		{
			name:  "max utterance cuts and waits for a pause",
			cfg:   base,
			probs: seq(0.9, 130, 0.1, 1, 0.9, 10),
			want:  []firing{{4, SpeechStart}, {99, MaxUtterance}, {135, SpeechStart}},
		},
		{
			name:  "no input disabled",
			cfg:   EndpointConfig{NoInputTimeout: -1},
			probs: seq(0.0, 1000),
			want:  nil,
		},
		{
			name:  "max utterance disabled",
			cfg:   EndpointConfig{MaxUtterance: -1, NoInputTimeout: -1},
			probs: seq(0.9, 2000),
			want:  []firing{{4, SpeechStart}},
		},
		{
			name:  "defaults: 500 ms trailing silence",
			cfg:   EndpointConfig{},
			probs: seq(0.9, 20, 0.0, 30),
			want:  []firing{{4, SpeechStart}, {44, SpeechEnd}},
		},
		{
			name:  "10 ms frames count time, not frames",
			cfg:   EndpointConfig{Frame: 10 * time.Millisecond, MinSpeech: 100 * time.Millisecond},
			probs: seq(0.9, 12, 0.0, 50),
			want:  []firing{{9, SpeechStart}, {61, SpeechEnd}},
		},
		{
			name:  "NaN and out-of-range probabilities are clamped",
			cfg:   base,
			probs: append(seq(5, 5), float32(math.NaN()), -3),
			want:  []firing{{4, SpeechStart}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pushAll(NewEndpointer(tc.cfg), tc.probs)
			if len(got) != len(tc.want) {
				t.Fatalf("events %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("events %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestEndpointerOnsetAndEndEarly(t *testing.T) {
	e := NewEndpointer(EndpointConfig{NoInputTimeout: -1})
	if ev := e.EndEarly(); ev != None {
		t.Fatalf("EndEarly before speech = %v, want none", ev)
	}
	got := pushAll(e, seq(0.0, 7, 0.8, 6))
	if len(got) != 1 || got[0].ev != SpeechStart {
		t.Fatalf("events %v, want one speech start", got)
	}
	if on := e.SpeechOnset(); on != 140*time.Millisecond {
		t.Fatalf("onset %v, want 140ms", on)
	}
	if !e.InSpeech() {
		t.Fatal("not in speech after start")
	}
	if ev := e.EndEarly(); ev != SpeechEnd {
		t.Fatalf("EndEarly in speech = %v, want speech-end", ev)
	}
	if e.InSpeech() {
		t.Fatal("still in speech after EndEarly")
	}
	// Re-armed: the next utterance starts again.
	got = pushAll(e, seq(0.8, 5))
	if len(got) != 1 || got[0].ev != SpeechStart {
		t.Fatalf("after EndEarly events %v, want speech start", got)
	}
	if e.Elapsed() != 360*time.Millisecond {
		t.Fatalf("elapsed %v", e.Elapsed())
	}
}

func TestEndpointerResetRestartsNoInput(t *testing.T) {
	e := NewEndpointer(EndpointConfig{NoInputTimeout: 200 * time.Millisecond})
	pushAll(e, seq(0, 8))
	e.Reset()
	got := pushAll(e, seq(0, 10))
	if len(got) != 1 || got[0] != (firing{9, NoInput}) {
		t.Fatalf("events %v, want no-input at frame 9 after reset", got)
	}
}

func TestEventString(t *testing.T) {
	for ev, want := range map[Event]string{None: "none", SpeechStart: "speech-start", SpeechEnd: "speech-end",
		MaxUtterance: "max-utterance", NoInput: "no-input", Event(42): "event(42)"} {
		if ev.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(ev), ev.String(), want)
		}
	}
}

func TestDefaultEndpointConfig(t *testing.T) {
	c := DefaultEndpointConfig()
	want := EndpointConfig{Frame: 20 * time.Millisecond, Threshold: 0.5, SilenceThreshold: 0.35,
		MinSpeech: 100 * time.Millisecond, TrailingSilence: 500 * time.Millisecond,
		MaxUtterance: 20 * time.Second, NoInputTimeout: 5 * time.Second}
	if math.Abs(float64(c.SilenceThreshold-want.SilenceThreshold)) > 1e-6 {
		t.Fatalf("silence threshold %v", c.SilenceThreshold)
	}
	c.SilenceThreshold = want.SilenceThreshold
	if c != want {
		t.Fatalf("defaults %+v, want %+v", c, want)
	}
}

// TestEndpointerQuiet: Quiet counts the silence inside an utterance,
// restarts when the caller speaks again, and is 0 outside one.
func TestEndpointerQuiet(t *testing.T) {
	e := NewEndpointer(EndpointConfig{NoInputTimeout: -1})
	if e.Quiet() != 0 {
		t.Fatal("quiet before any speech")
	}
	for range 20 {
		e.Push(0.9)
	}
	if !e.InSpeech() || e.Quiet() != 0 {
		t.Fatalf("in speech %v, quiet %v", e.InSpeech(), e.Quiet())
	}
	for range 10 {
		e.Push(0.05)
	}
	if e.Quiet() != 200*time.Millisecond {
		t.Errorf("after 10 quiet frames: %v", e.Quiet())
	}
	e.Push(0.9)
	if e.Quiet() != 0 {
		t.Errorf("after speech again: %v", e.Quiet())
	}
	for range 30 {
		e.Push(0.05)
	}
	if e.InSpeech() || e.Quiet() != 0 {
		t.Errorf("after the turn ended: in speech %v, quiet %v", e.InSpeech(), e.Quiet())
	}
}
