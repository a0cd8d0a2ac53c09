//go:build cgo

package moonshine

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

const (
	soundsDir     = "/usr/share/asterisk/sounds/en"
	soundsCatalog = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
)

var (
	testRecOnce sync.Once
	testRec     *Recognizer
	testRecErr  error
)

// recognizer returns the process's engine, skipping the test when the
// model directory is not installed.
func recognizer(t testing.TB) *Recognizer {
	t.Helper()
	dir := ResolveModelDir("")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		t.Skipf("model directory %s absent: run scripts/fetch-speech-model.sh to test the engine", dir)
	}
	testRecOnce.Do(func() { testRec, testRecErr = New(DefaultConfig()) })
	if testRecErr != nil {
		t.Fatal(testRecErr)
	}
	return testRec
}

func readClip(t testing.TB, path string) audio.Clip {
	t.Helper()
	c, err := audio.ReadWAVFile(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	return c
}

// transcribe runs one clip through a stream in 20 ms frames.
func transcribe(t testing.TB, r asr.Recognizer, c audio.Clip, h asr.Hints) asr.Result {
	t.Helper()
	ctx := context.Background()
	s, err := r.NewStream(ctx, c.Rate, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := audio.SamplesPer(c.Rate, audio.FrameDuration)
	for off := 0; off < len(c.Samples); off += n {
		if err := s.Write(c.Samples[off:min(off+n, len(c.Samples))]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRegistered(t *testing.T) {
	found := false
	for _, n := range asr.Available() {
		found = found || n == Name
	}
	if !found {
		t.Fatalf("%q not in asr.Available() = %v", Name, asr.Available())
	}
}

func TestMissingModelDir(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Config{ModelDir: dir})
	if !errors.Is(err, asr.ErrUnavailable) {
		t.Fatalf("err = %v, want asr.ErrUnavailable", err)
	}
	for _, want := range []string{RuntimeFile, "scripts/fetch-speech-model.sh"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	_, err = asr.Open(Name, asr.Options{ModelDir: dir})
	if !errors.Is(err, asr.ErrUnavailable) {
		t.Fatalf("asr.Open: err = %v, want asr.ErrUnavailable", err)
	}
}

func TestBadRateAndGrammar(t *testing.T) {
	r := recognizer(t)
	if _, err := r.NewStream(context.Background(), 11025, asr.Hints{}); !errors.Is(err, asr.ErrBadRate) {
		t.Errorf("11025 Hz: err = %v, want ErrBadRate", err)
	}
	if _, err := r.NewStream(context.Background(), 8000, asr.Hints{Grammar: "colors"}); err == nil {
		t.Error("unknown grammar accepted")
	}
}

// TestDigitGrammar: Asterisk's recorded digits, one per file, with the
// single-digit grammar.
func TestDigitGrammar(t *testing.T) {
	r := recognizer(t)
	for d := range 10 {
		c := readClip(t, filepath.Join(soundsDir, "digits", fmt.Sprintf("%d.wav", d)))
		res := transcribe(t, r, c, asr.Hints{Grammar: asr.GrammarDigit})
		want := asr.DigitWords[d]
		got := res.Text
		if got == "oh" {
			got = "zero"
		}
		if got != want {
			t.Errorf("%d.wav: got %q (conf %.2f, alts %v), want %q", d, res.Text, res.Confidence, res.Alternatives, want)
		}
		if res.Confidence <= 0 || res.Confidence > 1 || !res.Final {
			t.Errorf("%d.wav: confidence %v final %v", d, res.Confidence, res.Final)
		}
	}
}

// catalog reads the transcripts of Asterisk's core sounds.
func catalog(t testing.TB) map[string]string {
	f, err := os.Open(soundsCatalog)
	if err != nil {
		t.Skipf("%s: %v", soundsCatalog, err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if ok && !strings.HasPrefix(k, ";") {
			m[k] = v
		}
	}
	return m
}

// TestFreeDecode transcribes a few Asterisk prompts without hints and
// checks the word error rate against their catalogued transcripts.
func TestFreeDecode(t *testing.T) {
	r := recognizer(t)
	cat := catalog(t)
	var errs, words int
	for _, name := range []string{"auth-thankyou", "all-circuits-busy-now", "cannot-complete-as-dialed", "check-number-dial-again", "agent-pass", "call-waiting"} {
		ref, ok := cat[name]
		if !ok {
			t.Fatalf("%s not in the catalog", name)
		}
		c := readClip(t, filepath.Join(soundsDir, name+".wav"))
		res := transcribe(t, r, c, asr.Hints{})
		e, n := asr.WordErrors(ref, res.Text)
		t.Logf("%s: %q (conf %.2f) ref %q: %d/%d errors", name, res.Text, res.Confidence, asr.Normalize(ref), e, n)
		errs += e
		words += n
		if res.Text != asr.Normalize(res.Text) {
			t.Errorf("%s: text %q not normalized", name, res.Text)
		}
	}
	if wer := float64(errs) / float64(words); wer > 0.15 {
		t.Errorf("WER %.2f over %d words, want <= 0.15", wer, words)
	}
}

func TestYesNoAndDigits(t *testing.T) {
	r := recognizer(t)
	// "one" and "nine" from the digit prompts, through the digit-string
	// grammar; "yes" and "no" through the yes/no grammar.
	for _, c := range []struct {
		file, grammar, want string
	}{
		{"digits/1.wav", asr.GrammarDigits, "one"},
		{"digits/9.wav", asr.GrammarDigits, "nine"},
		{"digits/20.wav", asr.GrammarDigits, "two zero"},
	} {
		clip := readClip(t, filepath.Join(soundsDir, c.file))
		res := transcribe(t, r, clip, asr.Hints{Grammar: c.grammar})
		t.Logf("%s %s: %q %.2f", c.file, c.grammar, res.Text, res.Confidence)
		if res.Text != c.want {
			t.Errorf("%s with %s: got %q, want %q", c.file, c.grammar, res.Text, c.want)
		}
	}
	// A digit string: three recorded digits in a row.
	var seq audio.Clip
	for _, d := range []string{"4", "0", "7"} {
		c := readClip(t, filepath.Join(soundsDir, "digits", d+".wav"))
		seq.Rate = c.Rate
		seq.Samples = append(seq.Samples, c.Samples...)
	}
	res := transcribe(t, r, seq, asr.Hints{Grammar: asr.GrammarDigits, EscapeWords: []string{"agent"}})
	if res.Text != "four zero seven" {
		t.Errorf("4, 0, 7 with the digits grammar: got %q", res.Text)
	}
	for _, a := range res.Alternatives {
		for _, w := range strings.Fields(a.Text) {
			if !slices.Contains(asr.DigitWords[:], w) {
				t.Errorf("alternative %q is not a digit string", a.Text)
			}
		}
	}
	// Asterisk's "No." (vm-no) through the yes/no grammar.
	clip := readClip(t, filepath.Join(soundsDir, "vm-no.wav"))
	res = transcribe(t, r, clip, asr.Hints{Grammar: asr.GrammarYesNo, EscapeWords: []string{"agent"}})
	if res.Text != "no" {
		t.Errorf("vm-no.wav with the yes/no grammar: got %q (%v)", res.Text, res.Alternatives)
	}
}

func TestContextCancelled(t *testing.T) {
	r := recognizer(t)
	c := readClip(t, filepath.Join(soundsDir, "auth-thankyou.wav"))
	s, err := r.NewStream(context.Background(), c.Rate, asr.Hints{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write(c.Samples)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Finish(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := s.Write(c.Samples); !errors.Is(err, asr.ErrClosed) {
		t.Fatalf("write after finish: %v", err)
	}
	if _, err := s.Finish(context.Background()); !errors.Is(err, asr.ErrClosed) {
		t.Fatalf("second finish: %v", err)
	}
}

func TestShortAndSilent(t *testing.T) {
	r := recognizer(t)
	for _, n := range []int{0, 1, 400, 8000, 24000} {
		for _, h := range []asr.Hints{{Grammar: asr.GrammarDigit}, {}} {
			res := transcribe(t, r, audio.Clip{Rate: 8000, Samples: make([]int16, n)}, h)
			if res.Text != "" || len(res.Alternatives) > 0 || !res.Final {
				t.Errorf("%d samples of silence, grammar %q: %+v", n, h.Grammar, res)
			}
		}
	}
	// A short click is decoded, and gives no panic.
	s := make([]int16, 2000)
	s[1000] = 20000
	transcribe(t, r, audio.Clip{Rate: 8000, Samples: s}, asr.Hints{})
}

func TestConcurrent(t *testing.T) {
	r := recognizer(t)
	c := readClip(t, filepath.Join(soundsDir, "digits", "7.wav"))
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := transcribe(t, r, c, asr.Hints{Grammar: asr.GrammarDigit})
			if res.Text != "seven" {
				errs <- res.Text
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent decode: %q, want seven", e)
	}
}

// TestScoreMatchesGreedy: teacher-forced scoring of the greedy decode's
// own tokens (batched with other sequences, through the cache) gives the
// log-probabilities the step-by-step decode saw.
func TestScoreMatchesGreedy(t *testing.T) {
	r := recognizer(t)
	c := readClip(t, filepath.Join(soundsDir, "cannot-complete-as-dialed.wav"))
	hid, st := encodeClip(t, r, c)
	d, err := r.m.greedy(context.Background(), hid, st, 60)
	if err != nil {
		t.Fatal(err)
	}
	if !d.eos || len(d.ids) < 5 {
		t.Fatalf("greedy: %v eos %v", d.ids, d.eos)
	}
	other := r.m.tok.Encode("Five.")
	lps, err := r.m.score(context.Background(), st, [][]int{other, d.ids, d.ids[:2]})
	if err != nil {
		t.Fatal(err)
	}
	if len(lps[1]) != len(d.lps) {
		t.Fatalf("scored %d tokens, greedy %d", len(lps[1]), len(d.lps))
	}
	// The quantized decoder quantizes activations per pass (dynamic
	// scales over the whole batch), so batched and single-token passes
	// differ slightly.
	for i := range d.lps {
		if diff := lps[1][i] - d.lps[i]; diff > 0.05 || diff < -0.05 {
			t.Errorf("token %d (%d): scored %.4f, greedy %.4f", i, d.ids[min(i, len(d.ids)-1)], lps[1][i], d.lps[i])
		}
	}
	if lps[2][0] != lps[1][0] || math.Abs(lps[2][1]-lps[1][1]) > 0.05 {
		t.Errorf("prefix scores differ: %v vs %v", lps[2][:2], lps[1][:2])
	}
	if sum(lps[0]) > sum(lps[1])-5 {
		t.Errorf("a wrong text scores %.2f, the transcript %.2f", sum(lps[0]), sum(lps[1]))
	}
}

// TestPhraseAlternatives: with AltMargin, a hint phrase close to the
// transcript comes back as an alternative, one far from it does not, and
// no alternative is more confident than the text.
func TestPhraseAlternatives(t *testing.T) {
	recognizer(t)
	cfg := DefaultConfig()
	cfg.AltMargin = 8
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := readClip(t, filepath.Join(soundsDir, "cannot-complete-as-dialed.wav"))
	res := transcribe(t, r, c, asr.Hints{Phrases: []string{
		"your call cannot be completed as dialled", "your call can't be completed as dialed", "call waiting", "I lost my card",
	}})
	if res.Text != "your call cannot be completed as dialed" {
		t.Fatalf("text %q", res.Text)
	}
	var texts []string
	for _, a := range res.Alternatives {
		texts = append(texts, a.Text)
		if a.Confidence <= 0 || a.Confidence > res.Confidence || a.Text == res.Text {
			t.Errorf("alternative %+v against text confidence %.2f", a, res.Confidence)
		}
	}
	if len(texts) == 0 || strings.Contains(strings.Join(texts, "|"), "card") || strings.Contains(strings.Join(texts, "|"), "waiting") {
		t.Errorf("alternatives %v: want the near paraphrases only", res.Alternatives)
	}
}

// TestBeam: the beam search finds the prompt's transcript, its
// alternatives are other texts, best first, none more confident than the
// text; a width of 1 is the greedy decode.
func TestBeam(t *testing.T) {
	r := recognizer(t)
	c := readClip(t, filepath.Join(soundsDir, "check-number-dial-again.wav"))
	hid, st := encodeClip(t, r, c)
	g, err := r.m.greedy(context.Background(), hid, st, 60)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := r.m.beam(context.Background(), hid, st, 60, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b1[0].ids, g.ids) {
		t.Errorf("beam of 1: %v, greedy %v", b1[0].ids, g.ids)
	}
	hs, err := r.m.beam(context.Background(), hid, st, 60, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) < 2 {
		t.Fatalf("%d hypotheses from a beam of 4", len(hs))
	}
	if got := asr.Normalize(r.m.tok.Decode(hs[0].ids)); got != "please check the number and dial again" {
		t.Errorf("best hypothesis %q", got)
	}
	res := transcribe(t, r, c, asr.Hints{})
	for i, a := range res.Alternatives {
		if a.Text == res.Text || a.Confidence > res.Confidence || (i > 0 && a.Confidence > res.Alternatives[i-1].Confidence) {
			t.Errorf("alternatives %v for %q (%.2f)", res.Alternatives, res.Text, res.Confidence)
		}
	}
}

// TestRates: the same recording written at 16 and 48 kHz gives the same
// digit.
func TestRates(t *testing.T) {
	r := recognizer(t)
	c := readClip(t, filepath.Join(soundsDir, "digits", "3.wav"))
	for _, rate := range []int{audio.Rate16k, audio.Rate48k} {
		up := audio.Clip{Rate: rate, Samples: audio.Resample(c.Samples, c.Rate, rate)}
		if res := transcribe(t, r, up, asr.Hints{Grammar: asr.GrammarDigit}); res.Text != "three" {
			t.Errorf("%d Hz: %q", rate, res.Text)
		}
		if res := transcribe(t, r, up, asr.Hints{}); res.Text != "three" {
			t.Errorf("%d Hz free: %q", rate, res.Text)
		}
	}
}

// TestBandCondition: narrowband input through the project's conditioner
// (mirror image) still decodes.
func TestBandCondition(t *testing.T) {
	recognizer(t)
	cfg := DefaultConfig()
	cc := asr.DefaultCondition
	cc.FoldDB = -20
	cfg.Condition.Band = &cc
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := readClip(t, filepath.Join(soundsDir, "digits", "3.wav"))
	if res := transcribe(t, r, c, asr.Hints{Grammar: asr.GrammarDigit}); res.Text != "three" {
		t.Errorf("got %q", res.Text)
	}
}

// encodeClip runs the encoder and the first decoder step on c; both are
// freed when the test ends.
func encodeClip(t *testing.T, r *Recognizer, c audio.Clip) (*hidden, *start) {
	t.Helper()
	x := prepare(audio.Resample(c.Samples, c.Rate, modelRate), r.cfg.Condition)
	hid, err := r.m.encode(x)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hid.destroy)
	st, err := r.m.begin(hid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.destroy)
	return hid, st
}

// TestPrefetch: an early pass started during the caller's pause stands
// when only quiet follows, and is dropped (the turn decoded again) when
// the caller speaks after it; Close stops a pass still running.
func TestPrefetch(t *testing.T) {
	r := recognizer(t)
	c := readClip(t, filepath.Join(soundsDir, "digits", "7.wav"))
	open := func() *stream {
		t.Helper()
		st, err := r.NewStream(context.Background(), c.Rate, asr.Hints{Grammar: asr.GrammarDigit})
		if err != nil {
			t.Fatal(err)
		}
		return st.(*stream)
	}
	// Quiet after the prefetch: Finish returns the early pass.
	s := open()
	s.Write(c.Samples)
	s.Prefetch()
	pre := s.pre
	s.Write(make([]int16, 2000))
	res, err := s.Finish(context.Background())
	if err != nil || res.Text != "seven" {
		t.Fatalf("quiet tail: %+v, %v", res, err)
	}
	if pre == nil || pre.res.Text != "seven" {
		t.Errorf("the early pass did not run or heard %+v", pre)
	}
	// Speech after the prefetch: early() refuses the pass.
	s = open()
	s.Write(c.Samples[:len(c.Samples)/3])
	s.Prefetch()
	s.Write(c.Samples[len(c.Samples)/3:])
	pcm := slices.Clone(s.pcm)
	if _, ok := s.early(context.Background(), s.pre, pcm); ok {
		t.Error("an early pass stood although the caller spoke after it")
	}
	s.pre = nil
	if res, err := s.Finish(context.Background()); err != nil || res.Text != "seven" {
		t.Errorf("loud tail: %+v, %v", res, err)
	}
	// Close with a pass in flight (goleak checks it ends).
	s = open()
	s.Write(c.Samples)
	s.Prefetch()
	s.Close()
	if s.pre != nil {
		t.Error("Close left the early pass")
	}
}
