//go:build cgo

package sphinx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

const digitsDir = "/usr/share/asterisk/sounds/en/digits"

func newTestRecognizer(t testing.TB, mod func(*Config)) *Recognizer {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("%v (apt-get install libpocketsphinx-dev pocketsphinx-en-us)", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// loadDigit reads a human digit recording with 300 ms of silence before
// it, as the speech pipeline's pre-roll gives the recognizer (the files
// start abruptly, and a streaming decode then tends to insert a digit).
func loadDigit(t testing.TB, d int) audio.Clip {
	t.Helper()
	c, err := audio.ReadWAVFile(fmt.Sprintf("%s/%d.wav", digitsDir, d))
	if err != nil {
		t.Fatalf("%v (apt-get install asterisk-core-sounds-en-wav)", err)
	}
	c.Samples = append(make([]int16, audio.SamplesPer(c.Rate, 300*time.Millisecond)), c.Samples...)
	return c
}

func decode(t testing.TB, r asr.Recognizer, c audio.Clip, h asr.Hints) asr.Result {
	t.Helper()
	st, err := r.NewStream(context.Background(), c.Rate, h)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := c.Rate / 50
	for off := 0; off < len(c.Samples); off += n {
		if err := st.Write(c.Samples[off:min(off+n, len(c.Samples))]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestHumanDigits decodes the ten human 8 kHz recordings of Debian's
// asterisk-core-sounds-en-wav with the digits grammar. It is a smoke
// test of the whole engine (conditioning, grammar, decoding), not the
// evaluation: see BENCHMARKS.md for the measured accuracy on larger sets.
func TestHumanDigits(t *testing.T) {
	r := newTestRecognizer(t, nil)
	ok := 0
	for d := 0; d < 10; d++ {
		res := decode(t, r, loadDigit(t, d), asr.Hints{Grammar: asr.GrammarDigits})
		if !res.Final {
			t.Errorf("digit %d: result not final", d)
		}
		if res.Text == asr.DigitWords[d] {
			ok++
		} else {
			t.Logf("digit %d heard as %q", d, res.Text)
		}
	}
	if ok < 7 {
		t.Errorf("%d/10 digits right, want at least 7", ok)
	}
}

func TestPhraseHintsSteerRecognition(t *testing.T) {
	r := newTestRecognizer(t, nil)
	// "nine" said by a human; hints that only allow yes/no must not
	// produce a digit, and the digits grammar must.
	c := loadDigit(t, 9)
	if res := decode(t, r, c, asr.Hints{Grammar: asr.GrammarYesNo}); res.Text == "nine" {
		t.Errorf("yes/no grammar produced %q", res.Text)
	}
	if res := decode(t, r, c, asr.Hints{Phrases: []string{"nine", "check my balance", "lost card"}}); res.Text != "nine" {
		t.Errorf("phrase LM heard %q, want nine", res.Text)
	}
}

// TestConcurrentStreamsMatchSequential decodes the same clips on several
// goroutines at once (one pooled decoder each) and wants the results of
// one-at-a-time decoding: decoders share nothing mutable.
func TestConcurrentStreamsMatchSequential(t *testing.T) {
	r := newTestRecognizer(t, func(c *Config) { c.Decoders = 3 })
	h := asr.Hints{Grammar: asr.GrammarDigits}
	want := make([]string, 6)
	clips := make([]audio.Clip, 6)
	for i := range clips {
		clips[i] = loadDigit(t, i)
		want[i] = decode(t, r, clips[i], h).Text
	}
	var wg sync.WaitGroup
	got := make([]string, len(clips))
	for i := range clips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = decode(t, r, clips[i], h).Text
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("clip %d: concurrent %q, sequential %q", i, got[i], want[i])
		}
	}
}

func TestPoolWaitsAndHonoursContext(t *testing.T) {
	r := newTestRecognizer(t, func(c *Config) { c.Decoders = 1 })
	h := asr.Hints{Grammar: asr.GrammarYesNo}
	st, err := r.NewStream(context.Background(), 8000, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.NewStream(ctx, 8000, h); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second stream with the only decoder busy: %v", err)
	}
	// Closing an unfinished stream returns its decoder.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := r.NewStream(context.Background(), 8000, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := st2.Close(); err != nil || st2.Close() != nil {
		t.Error("Close twice should succeed")
	}
	if err := st2.Write([]int16{1}); !errors.Is(err, asr.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := st2.Finish(context.Background()); !errors.Is(err, asr.ErrClosed) {
		t.Errorf("Finish after Close: %v", err)
	}
}

func TestNewStreamRejectsBadInput(t *testing.T) {
	r := newTestRecognizer(t, nil)
	if _, err := r.NewStream(context.Background(), 0, asr.Hints{Grammar: asr.GrammarDigits}); !errors.Is(err, asr.ErrBadRate) {
		t.Errorf("rate 0: %v", err)
	}
	if _, err := r.NewStream(context.Background(), 8000, asr.Hints{}); err == nil {
		t.Error("no hints: want an error")
	}
	if _, err := r.NewStream(context.Background(), 8000, asr.Hints{Phrases: []string{"qqqzx vvvzt"}}); err == nil {
		t.Error("only unknown words: want an error")
	}
	// The decoder must have gone back to the pool after each failure.
	res := decode(t, r, loadDigit(t, 1), asr.Hints{Grammar: asr.GrammarDigits})
	if !res.Final {
		t.Error("decoder unusable after failed streams")
	}
}

func TestSilenceAndGarbageDoNotCrash(t *testing.T) {
	r := newTestRecognizer(t, nil)
	for name, c := range map[string]audio.Clip{
		"empty":   {Rate: 8000},
		"silence": {Rate: 8000, Samples: make([]int16, 8000)},
		"clipped": {Rate: 16000, Samples: func() []int16 {
			s := make([]int16, 16000)
			for i := range s {
				s[i] = int16(32767 * (1 - 2*(i/7%2)))
			}
			return s
		}()},
	} {
		t.Run(name, func(t *testing.T) {
			res := decode(t, r, c, asr.Hints{Grammar: asr.GrammarDigits})
			if !res.Final {
				t.Errorf("%+v", res)
			}
		})
	}
}

func TestRegisteredAndAvailable(t *testing.T) {
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(DefaultModelDir); err != nil {
		t.Fatalf("%v (apt-get install pocketsphinx-en-us)", err)
	}
	r, err := asr.Open(Name, asr.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.(asr.Closer).Close()
}

// BenchmarkDecodeDigit measures one stream (open, 20 ms writes, finish)
// on a human digit; the custom metric rtf is CPU-bound wall seconds per
// audio second on an idle core.
func BenchmarkDecodeDigit(b *testing.B) {
	r := newTestRecognizer(b, nil)
	c := loadDigit(b, 7)
	h := asr.Hints{Grammar: asr.GrammarDigits}
	b.ReportAllocs()
	t0 := time.Now()
	for b.Loop() {
		decode(b, r, c, h)
	}
	b.ReportMetric(time.Since(t0).Seconds()/float64(b.N)/c.Duration().Seconds(), "rtf")
}

// TestResultsDoNotDependOnHistory decodes the same clip on a fresh decoder
// and again after the decoder has streamed other utterances through other
// searches: cepstral mean, noise estimate and loaded searches must not
// carry over between utterances.
func TestResultsDoNotDependOnHistory(t *testing.T) {
	phrases := asr.Hints{Phrases: []string{"check my balance", "lost card", "three", "speak to an agent"}}
	for _, h := range []asr.Hints{{Grammar: asr.GrammarDigits}, phrases} {
		r := newTestRecognizer(t, func(c *Config) { c.Decoders = 1 })
		c := loadDigit(t, 3)
		first := decode(t, r, c, h)
		for _, d := range []int{8, 1, 6} {
			decode(t, r, loadDigit(t, d), phrases)
			decode(t, r, loadDigit(t, d), asr.Hints{Grammar: asr.GrammarYesNo, Phrases: []string{"zorbcard"}})
		}
		again := decode(t, r, c, h)
		// Texts only: Gaussian selection carries over (see decoder.start).
		if first.Text != again.Text || math.Abs(first.Confidence-again.Confidence) > 0.1 {
			t.Errorf("%v: fresh decoder %q (%.3f), after other utterances %q (%.3f)", h, first.Text, first.Confidence, again.Text, again.Confidence)
		}
	}
}

// TestWidebandAndNarrowbandInterleave switches one decoder between 8 kHz
// input (telephone MLLR transform) and 16 kHz input (the model as it is):
// each result must equal that of a fresh decoder.
func TestWidebandAndNarrowbandInterleave(t *testing.T) {
	h := asr.Hints{Grammar: asr.GrammarDigits}
	c8 := loadDigit(t, 4)
	c16 := audio.Clip{Rate: 16000, Samples: audio.Resample(c8.Samples, 8000, 16000)}
	fresh := func(c audio.Clip) asr.Result {
		r := newTestRecognizer(t, func(c *Config) { c.Decoders = 1 })
		return decode(t, r, c, h)
	}
	want8, want16 := fresh(c8), fresh(c16)
	r := newTestRecognizer(t, func(c *Config) { c.Decoders = 1 })
	for i := 0; i < 2; i++ {
		// Texts only: Gaussian selection carries over (see decoder.start).
		if got := decode(t, r, c16, h); got.Text != want16.Text {
			t.Errorf("16 kHz after 8 kHz: %+v, fresh %+v", got, want16)
		}
		if got := decode(t, r, c8, h); got.Text != want8.Text {
			t.Errorf("8 kHz after 16 kHz: %+v, fresh %+v", got, want8)
		}
	}
}

// TestExactPhrasePass: with a free decoder, open requests also go
// through a grammar of the exact phrases, whose whole-phrase result wins;
// with none free, the stream still decodes with the language model alone.
func TestExactPhrasePass(t *testing.T) {
	c, err := audio.ReadWAVFile("/usr/share/asterisk/sounds/en/auth-thankyou.wav")
	if err != nil {
		t.Fatalf("%v (apt-get install asterisk-core-sounds-en-wav)", err)
	}
	c.Samples = append(make([]int16, audio.SamplesPer(c.Rate, 300*time.Millisecond)), c.Samples...)
	h := asr.Hints{Phrases: []string{"thank you", "check my balance", "lost card", "speak to an agent"}}
	for _, pool := range []int{2, 1} {
		r := newTestRecognizer(t, func(cfg *Config) { cfg.Decoders = pool })
		st, err := r.NewStream(context.Background(), c.Rate, h)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.(*stream).exact != nil; got != (pool > 1) {
			t.Errorf("pool %d: exact-phrase pass %v", pool, got)
		}
		st.Close()
		res := decode(t, r, c, h)
		if pool > 1 && (res.Text != "thank you" || res.Confidence < 0.5) {
			t.Errorf("pool %d: heard %q (%.2f), want thank you", pool, res.Text, res.Confidence)
		}
		if res.Text == "" {
			t.Errorf("pool %d: nothing heard", pool)
		}
		// Both decoders went back to the pool.
		if pool > 1 && len(r.idle) != pool {
			t.Errorf("pool %d: %d decoders idle after the stream", pool, len(r.idle))
		}
	}
}

func TestMergeResults(t *testing.T) {
	g := asr.Result{Text: "send money to someone", Confidence: 1}
	l := asr.Result{Text: "talk to someone", Confidence: 0.6, Alternatives: []asr.Alternative{
		{Text: "send money to someone", Confidence: 0.3}, {Text: "can you talk to someone", Confidence: 0.1},
	}}
	m := mergeResults(g, l, 0.5)
	if m.Text != "send money to someone" || math.Abs(m.Confidence-0.65) > 1e-9 || !m.Final {
		t.Fatalf("merged %+v", m)
	}
	if len(m.Alternatives) != 2 || m.Alternatives[0].Text != "talk to someone" || math.Abs(m.Alternatives[0].Confidence-0.3) > 1e-9 ||
		math.Abs(m.Alternatives[1].Confidence-0.05) > 1e-9 {
		t.Errorf("alternatives %+v", m.Alternatives)
	}
}

// TestBandwidthExtension: the built-in extension decodes the human
// digits; a bad model file is a clear error at New.
func TestBandwidthExtension(t *testing.T) {
	r := newTestRecognizer(t, func(c *Config) { c.BWE = "builtin"; c.BWEGainDB = 6 })
	ok := 0
	for d := 0; d < 10; d++ {
		if decode(t, r, loadDigit(t, d), asr.Hints{Grammar: asr.GrammarDigit}).Text == asr.DigitWords[d] {
			ok++
		}
	}
	if ok < 7 {
		t.Errorf("%d/10 digits right with the extension, want at least 7", ok)
	}
	if !r.bweFor(asr.Hints{Grammar: asr.GrammarDigit}) || r.bweFor(asr.Hints{Grammar: asr.GrammarDigits}) || r.bweFor(asr.Hints{Phrases: []string{"lost card"}}) {
		t.Error("by default only the single-digit grammar gets the extension")
	}
	dir := t.TempDir()
	bad := dir + "/bwe.json"
	if err := os.WriteFile(bad, []byte(`{"version": 1, "rate": 16000}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bad, dir + "/missing.json"} {
		cfg := DefaultConfig()
		cfg.BWE = p
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("BWE %s: err %v, want one naming the file", p, err)
		}
	}
}

// TestBandwidthExtensionCombined decodes single digits with and without
// the extension on two pooled decoders: answers stay consistent and both
// decoders go back to the pool.
func TestBandwidthExtensionCombined(t *testing.T) {
	r := newTestRecognizer(t, func(c *Config) { c.Decoders = 2; c.BWECombine = true })
	ok := 0
	for d := 0; d < 10; d++ {
		res := decode(t, r, loadDigit(t, d), asr.Hints{Grammar: asr.GrammarDigit})
		if res.Text == asr.DigitWords[d] {
			ok++
		}
		for _, a := range res.Alternatives {
			if a.Confidence > res.Confidence {
				t.Errorf("digit %d: alternative %q %.2f above %q %.2f", d, a.Text, a.Confidence, res.Text, res.Confidence)
			}
		}
	}
	if ok < 7 {
		t.Errorf("%d/10 digits right, want at least 7", ok)
	}
	r.mu.Lock()
	created := r.created
	r.mu.Unlock()
	if created != 2 || len(r.idle) != 2 {
		t.Errorf("%d decoders created, %d idle: want 2 and 2", created, len(r.idle))
	}
}
