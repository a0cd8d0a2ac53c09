package asr

import (
	"context"
	"errors"
	"github.com/openivr/ivr/asr/bwe"
	"math"
	"math/cmplx"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"I lost my Card!", "i lost my card"},
		{"  What's   my balance? ", "what's my balance"},
		{"press 1, then 23", "press one then twenty three"},
		{"call 0800 4271 or 112", "call zero eight zero zero four two seven one or one hundred twelve"},
		{"24/7", "twenty four seven"},
		{"'quoted' words", "quoted words"},
		{"", ""},
		{"...", ""},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWordErrors(t *testing.T) {
	for _, c := range []struct {
		ref, hyp    string
		errs, words int
	}{
		{"check my balance", "check my balance", 0, 3},
		{"check my balance", "check balance", 1, 3},
		{"check my balance", "check my bank balance", 1, 3},
		{"check my balance", "chuck my balance", 1, 3},
		{"check my balance", "", 3, 3},
		{"", "noise", 1, 0},
		{"one two", "1 2", 0, 2},
	} {
		e, w := WordErrors(c.ref, c.hyp)
		if e != c.errs || w != c.words {
			t.Errorf("WordErrors(%q, %q) = %d, %d; want %d, %d", c.ref, c.hyp, e, w, c.errs, c.words)
		}
	}
}

// bandEnergy measures the energy of s (at rate) between lo and hi Hz by DFT.
func bandEnergy(s []int16, rate int, lo, hi float64) float64 {
	n := len(s)
	var e float64
	for k := 1; k < n/2; k++ {
		f := float64(k) * float64(rate) / float64(n)
		if f < lo || f >= hi {
			continue
		}
		var acc complex128
		for i, v := range s {
			acc += complex(float64(v), 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i)/float64(n)))
		}
		e += real(acc)*real(acc) + imag(acc)*imag(acc)
	}
	return e
}

func TestConditionerFillsOnlyTheUpperBand(t *testing.T) {
	c, err := NewConditioner(8000, DefaultCondition)
	if err != nil {
		t.Fatal(err)
	}
	// 400 ms of a 1 kHz tone at 8 kHz, fed in 20 ms frames.
	in := make([]int16, 3200)
	for i := range in {
		in[i] = int16(3000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	var out []int16
	for off := 0; off < len(in); off += 160 {
		out = c.Process(out, in[off:off+160])
	}
	out = c.Flush(out)
	if len(out) < 6300 || len(out) > 6500 {
		t.Fatalf("got %d samples at 16 kHz for 3200 at 8 kHz", len(out))
	}
	seg := out[2000:3024]
	tone := bandEnergy(seg, 16000, 900, 1100)
	gap := bandEnergy(seg, 16000, 3800, 4100)
	fill := bandEnergy(seg, 16000, 4400, 7800)
	if fill <= 10*gap {
		t.Errorf("fill band energy %.3g not above the gap %.3g", fill, gap)
	}
	// The fill sits about 30 dB under a -23 dBFS tone: far below it.
	if r := 10 * math.Log10(tone/fill); r < 20 || r > 45 {
		t.Errorf("tone/fill = %.1f dB, want 20..45", r)
	}
}

func TestConditionerWidebandPassesThrough(t *testing.T) {
	c, err := NewConditioner(16000, DefaultCondition)
	if err != nil {
		t.Fatal(err)
	}
	in := []int16{1, -2, 3, 400, -500}
	out := c.Flush(c.Process(nil, in))
	if len(out) != len(in) {
		t.Fatalf("got %v", out)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Fatalf("16 kHz input changed: %v -> %v", in, out)
		}
	}
}

// withBWE is the default conditioning with the built-in bandwidth
// extension and the mirror image.
func withBWE(t testing.TB) ConditionConfig {
	t.Helper()
	m, err := bwe.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	cc := DefaultCondition
	cc.FoldDB = -8
	cc.BWE = m
	cc.BWEGainDB = 6
	return cc
}

// TestConditionerWithBWE: the extension delays the output (a 20 ms frame
// gives nothing yet) but Process and Flush together return every sample,
// and the narrowband itself is unchanged by it.
func TestConditionerWithBWE(t *testing.T) {
	cc := withBWE(t)
	c, err := NewConditioner(8000, cc)
	if err != nil {
		t.Fatal(err)
	}
	plainCC := cc
	plainCC.BWE = nil
	plain, _ := NewConditioner(8000, plainCC)
	in := make([]int16, 3200)
	for i := range in {
		in[i] = int16(3000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	var out, ref []int16
	for off := 0; off < len(in); off += 160 {
		out = c.Process(out, in[off:off+160])
		ref = plain.Process(ref, in[off:off+160])
		if off == 0 && len(out) >= len(ref) {
			t.Errorf("first frame: %d samples with the extension, %d without: no delay?", len(out), len(ref))
		}
	}
	out, ref = c.Flush(out), plain.Flush(ref)
	if len(out) != len(ref) {
		t.Fatalf("%d samples with the extension, %d without", len(out), len(ref))
	}
	seg, rseg := out[2000:3024], ref[2000:3024]
	if a, b := bandEnergy(seg, 16000, 900, 1100), bandEnergy(rseg, 16000, 900, 1100); math.Abs(10*math.Log10(a/b)) > 0.1 {
		t.Errorf("tone energy changed by the extension: %.3g vs %.3g", a, b)
	}
	// A wideband stream never goes through it.
	w, err := NewConditioner(16000, cc)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Flush(w.Process(nil, []int16{1, 2, 3})); len(got) != 3 || got[2] != 3 {
		t.Errorf("16 kHz input changed: %v", got)
	}
	// A model for another rate is refused.
	bad := *cc.BWE
	bad.Rate = 8000
	cc.BWE = &bad
	if _, err := NewConditioner(8000, cc); err == nil {
		t.Error("a model for 8 kHz accepted for 16 kHz output")
	}
}

func BenchmarkConditioner8kBWE(b *testing.B) {
	c, _ := NewConditioner(8000, withBWE(b))
	in := make([]int16, 160)
	for i := range in {
		in[i] = int16(i * 50)
	}
	out := make([]int16, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		out = c.Process(out[:0], in)
	}
}

func TestConditionerRejectsBadRates(t *testing.T) {
	for _, r := range []int{0, -8000, 1000, 1 << 30} {
		if _, err := NewConditioner(r, DefaultCondition); !errors.Is(err, ErrBadRate) {
			t.Errorf("rate %d: err %v", r, err)
		}
	}
}

func TestSpeechLevelAndScale(t *testing.T) {
	s := make([]int16, 16000)
	for i := 4000; i < 12000; i++ {
		s[i] = int16(1000 * math.Sin(float64(i)))
	}
	lvl := SpeechLevel(s, 8000)
	want := 20 * math.Log10(1000/math.Sqrt2/32768)
	if math.Abs(lvl-want) > 0.5 {
		t.Errorf("level %.2f dBFS, want %.2f (silence must not count)", lvl, want)
	}
	Scale(s, 6)
	if l2 := SpeechLevel(s, 8000); math.Abs(l2-lvl-6) > 0.1 {
		t.Errorf("after +6 dB: %.2f, want %.2f", l2, lvl+6)
	}
	if l := SpeechLevel(make([]int16, 800), 8000); l != -120 {
		t.Errorf("silence level %v", l)
	}
	big := []int16{30000, -30000}
	Scale(big, 20)
	if big[0] != 32767 || big[1] != -32768 {
		t.Errorf("scale did not saturate: %v", big)
	}
}

type nopRec struct{}

func (nopRec) Name() string { return "nop-test" }
func (nopRec) NewStream(context.Context, int, Hints) (Stream, error) {
	return nil, ErrUnavailable
}

func TestRegistry(t *testing.T) {
	Register("nop-test", func(Options) (Recognizer, error) { return nopRec{}, nil })
	found := false
	for _, n := range Available() {
		found = found || n == "nop-test"
	}
	if !found {
		t.Fatalf("Available() = %v", Available())
	}
	r, err := Open("nop-test", Options{})
	if err != nil || r.Name() != "nop-test" {
		t.Fatalf("Open: %v %v", r, err)
	}
	if _, err := Open("no-such-engine", Options{}); !errors.Is(err, ErrUnknownEngine) {
		t.Errorf("err %v", err)
	}
}

func BenchmarkConditioner8k(b *testing.B) {
	c, _ := NewConditioner(8000, DefaultCondition)
	in := make([]int16, 160)
	for i := range in {
		in[i] = int16(i * 50)
	}
	out := make([]int16, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		out = c.Process(out[:0], in)
	}
}
