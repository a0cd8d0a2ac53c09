package dtmf

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// detectorDigits runs a Detector built with p over pcm in 20 ms frames
// and returns the keys it declared.
func detectorDigits(t *testing.T, rate int, p Params, pcm []int16) string {
	t.Helper()
	d, err := NewDetector(rate, p)
	if err != nil {
		t.Fatal(err)
	}
	var out []Detection
	for len(pcm) > 0 {
		n := min(rate/50, len(pcm))
		out = d.Process(pcm[:n], out)
		pcm = pcm[n:]
	}
	var b strings.Builder
	for _, o := range out {
		b.WriteByte(o.Key)
	}
	return b.String()
}

// TestHarmonicPairRejected: a held note whose fundamental and second
// harmonic fall within the detector's tolerance of a key's row and column
// (the false C of held-out game music: 832 and 1664 Hz) is not a key;
// without the check it is taken as one.
func TestHarmonicPairRejected(t *testing.T) {
	for _, rate := range testRates {
		for _, c := range []struct {
			key byte
			f0  float64
		}{{'C', 832}, {'C', 835}, {'6', 754}, {'2', 682}} {
			rng := rand.New(rand.NewPCG(uint64(c.f0), 1))
			for _, h2DB := range []float64{0, -3} {
				parts := [][3]float64{
					{c.f0, 32767 * math.Pow(10, -14.0/20), rng.Float64() * 6.3},
					{2 * c.f0, 32767 * math.Pow(10, (-14+h2DB)/20), rng.Float64() * 6.3},
					{3 * c.f0, 32767 * math.Pow(10, -24.0/20), rng.Float64() * 6.3},
				}
				x := sines(rate, rate*3/10, 30, rng, parts...)
				pcm := make([]int16, len(x)+rate/10)
				for i, v := range x {
					pcm[rate/20+i] = int16(math.Round(v))
				}
				if got := detectorDigits(t, rate, DefaultParams(), pcm); got != "" {
					t.Errorf("%d Hz: note at %.0f Hz with its 2nd harmonic %+.0f dB: got %q, want none", rate, c.f0, h2DB, got)
				}
				p := DefaultParams()
				p.HarmonicTolerance = 0
				if got := detectorDigits(t, rate, p, pcm); got != string(c.key) {
					t.Errorf("%d Hz: note at %.0f Hz without the harmonic check: got %q, want %q (the case the check is for)", rate, c.f0, got, string(c.key))
				}
			}
		}
	}
}

// TestHarmonicMarginKeys: the keys whose column is closest to twice the
// row (2, 6 and C, 1.917:1) with both tones at Q.24's +-1.5 % limits in
// the direction that brings them nearest 2:1 (1.26 % away), under white
// noise at 15 dB S/N as in TestQ24NoiseSNR15, are all detected; with 8 dB
// normal or 4 dB reverse twist as well (where the weaker tone's frequency
// is measured less well, and not every press is found even without the
// check), the check costs no digit.
func TestHarmonicMarginKeys(t *testing.T) {
	const presses = 90
	for _, rate := range testRates {
		for _, tw := range [][2]float64{{-16, -16}, {-20, -12}, {-16, -20}} {
			a := 32767 * math.Pow(10, tw[0]/20)
			b := 32767 * math.Pow(10, tw[1]/20)
			rms := math.Sqrt((a*a/2 + b*b/2) / math.Pow(10, 15.0/10))
			var want strings.Builder
			g := newSig(rate, 12).silence(50 * time.Millisecond)
			for i := 0; i < presses; i++ {
				k := "26C"[i%3]
				want.WriteByte(k)
				g.dual(k, 50*time.Millisecond, -0.015, +0.015, tw[0], tw[1]).silence(50 * time.Millisecond)
			}
			g.noise(rms)
			pcm := g.pcm()
			if tw[0] == tw[1] {
				if got := detect(t, rate, pcm); got != want.String() {
					t.Errorf("%d Hz: %d of %d digits right\n got %q\nwant %q", rate, common(got, want.String()), presses, got, want.String())
				}
				continue
			}
			off := DefaultParams()
			off.HarmonicTolerance = 0
			with, without := detectorDigits(t, rate, DefaultParams(), pcm), detectorDigits(t, rate, off, pcm)
			if with != without {
				t.Errorf("%d Hz, row %.0f / column %.0f dBFS: %d digits with the check, %d without", rate, tw[0], tw[1], len(with), len(without))
			}
		}
	}
}
