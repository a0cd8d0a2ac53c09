//go:build cgo && unix

package moonshine

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

// benchClip is a 2-3 s telephone utterance (an Asterisk prompt, 8 kHz).
func benchClip(b *testing.B) audio.Clip {
	c := readClip(b, filepath.Join(soundsDir, "cannot-complete-as-dialed.wav"))
	if d := c.Duration().Seconds(); d < 1.5 || d > 3.5 {
		b.Fatalf("clip of %.1f s, want 2-3 s", d)
	}
	return c
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchFinish measures one utterance through a stream; it reports the
// process's CPU time per second of audio (cpu-rtf; the model runs on the
// calling thread) and the wall-clock latency of Finish (ms/finish, which
// a loaded machine inflates).
func benchFinish(b *testing.B, h asr.Hints) { benchFinishWith(b, recognizer(b), h) }

func benchFinishWith(b *testing.B, r *Recognizer, h asr.Hints) {
	c := benchClip(b)
	ctx := context.Background()
	b.ReportAllocs()
	var finish float64
	cpu0 := cpuTime()
	for b.Loop() {
		s, err := r.NewStream(ctx, c.Rate, h)
		if err != nil {
			b.Fatal(err)
		}
		s.Write(c.Samples)
		res, err := s.Finish(ctx)
		if err != nil || res.Text == "" {
			b.Fatalf("%v %q", err, res.Text)
		}
		s.Close()
	}
	finish = b.Elapsed().Seconds() / float64(b.N)
	cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
	b.ReportMetric(cpu/c.Duration().Seconds(), "cpu-rtf")
	b.ReportMetric(finish*1000, "ms/finish")
}

func BenchmarkFinishFree(b *testing.B) { benchFinish(b, asr.Hints{}) }

// BenchmarkFinishGreedy is free speech without the beam search.
func BenchmarkFinishGreedy(b *testing.B) {
	recognizer(b)
	cfg := DefaultConfig()
	cfg.Beam = 1
	r, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	benchFinishWith(b, r, asr.Hints{})
}

func BenchmarkFinishDigit(b *testing.B) { benchFinish(b, asr.Hints{Grammar: asr.GrammarDigit}) }
func BenchmarkFinishYesNo(b *testing.B) { benchFinish(b, asr.Hints{Grammar: asr.GrammarYesNo}) }
func BenchmarkFinishPhrases(b *testing.B) {
	benchFinish(b, asr.Hints{Phrases: []string{
		"check my balance", "what is my balance", "how much money do I have", "I lost my card", "my card was stolen",
		"report a lost card", "block my card", "transfer money", "pay a bill", "speak to an agent", "opening hours",
		"where is the nearest branch", "reset my pin", "change my address", "close my account", "open an account",
	}, EscapeWords: []string{"agent", "operator"}})
}

// The parts of Finish.
func BenchmarkEncode(b *testing.B) {
	r := recognizer(b)
	x := prepare(audio.Resample(benchClip(b).Samples, 8000, modelRate), r.cfg.Condition)
	b.ReportAllocs()
	for b.Loop() {
		h, err := r.m.encode(x)
		if err != nil {
			b.Fatal(err)
		}
		h.destroy()
	}
}

func benchStart(b *testing.B) (*Recognizer, *hidden, *start) {
	r := recognizer(b)
	x := prepare(audio.Resample(benchClip(b).Samples, 8000, modelRate), r.cfg.Condition)
	h, err := r.m.encode(x)
	if err != nil {
		b.Fatal(err)
	}
	st, err := r.m.begin(h)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.destroy(); h.destroy() })
	return r, h, st
}

func BenchmarkBegin(b *testing.B) {
	r, h, _ := benchStart(b)
	b.ReportAllocs()
	for b.Loop() {
		st, err := r.m.begin(h)
		if err != nil {
			b.Fatal(err)
		}
		st.destroy()
	}
}

func BenchmarkGreedy(b *testing.B) {
	r, h, st := benchStart(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.m.greedy(context.Background(), h, st, 60); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBeam4(b *testing.B) {
	r, h, st := benchStart(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.m.beam(context.Background(), h, st, 60, 4, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScoreDigits(b *testing.B) {
	r, _, st := benchStart(b)
	var seqs [][]int
	for _, p := range digitWords {
		for _, f := range surfaceForms(p) {
			seqs = append(seqs, r.m.tok.Encode(f))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.m.score(context.Background(), st, seqs); err != nil {
			b.Fatal(err)
		}
	}
}
