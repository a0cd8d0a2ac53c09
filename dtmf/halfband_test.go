package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// halfGain passes a 16 kHz sine of f Hz through the detector's half-band
// decimator and returns the amplitude at fout Hz of the 8 kHz output (as
// the weak path's history keeps it, less its scale) over the input
// amplitude.
func halfGain(t *testing.T, f, fout float64) float64 {
	t.Helper()
	d, err := NewDetector(16000, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	const a = 10000
	in := make([]int16, 3200)
	for i := range in {
		in[i] = int16(math.Round(a * math.Sin(2*math.Pi*f*float64(i)/16000)))
	}
	d.Process(in, nil)
	n := int(d.samples)
	var re, im float64
	m := 0
	for i := max(n/4, n-len(d.hist)); i < n; i++ { // past the filter's start
		v := float64(d.hist[i&(len(d.hist)-1)])
		ph := 2 * math.Pi * fout * float64(i) / 8000
		re += v * math.Cos(ph)
		im += v * math.Sin(ph)
		m++
	}
	return 2 * math.Hypot(re, im) / float64(m) / a / histScale
}

func TestHalfBandResponse(t *testing.T) {
	for _, f := range []float64{697, 770, 852, 941, 1209, 1336, 1477, 1633} {
		g := 20 * math.Log10(halfGain(t, f, f))
		t.Logf("%.0f Hz: %.2f dB", f, g)
		if g < -0.35 || g > 0.1 {
			t.Errorf("%.0f Hz: gain %.2f dB, want within -0.35..0.1 dB", f, g)
		}
	}
	// What would fold onto the DTMF band: 8000 - f.
	for _, f := range []float64{6367, 6700, 7303} {
		g := 20 * math.Log10(halfGain(t, f, 8000-f))
		t.Logf("%.0f Hz onto %.0f Hz: %.1f dB", f, 8000-f, g)
		if g > -30 {
			t.Errorf("%.0f Hz folds onto %.0f Hz at %.1f dB, want below -30 dB", f, 8000-f, g)
		}
	}
}

// TestHalfBandFraming: 16 kHz audio fed in pieces of any size, odd ones
// included, gives the same digits at the same times as whole frames.
func TestHalfBandFraming(t *testing.T) {
	g := newSig(16000, 9).silence(30 * time.Millisecond)
	for i := 0; i < len(keys); i++ {
		g.key(keys[i], 45*time.Millisecond, -20).silence(45 * time.Millisecond)
	}
	g.noise(300)
	pcm := g.pcm()
	run := func(sizes func() int) []Detection {
		d, _ := NewDetector(16000, DefaultParams())
		var out []Detection
		for p := pcm; len(p) > 0; {
			n := min(sizes(), len(p))
			out = d.Process(p[:n], out)
			p = p[n:]
		}
		return out
	}
	want := run(func() int { return 320 })
	if len(want) != len(keys) {
		t.Fatalf("whole frames: %d digits, want %d", len(want), len(keys))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for name, sizes := range map[string]func() int{
		"1":      func() int { return 1 },
		"7":      func() int { return 7 },
		"333":    func() int { return 333 },
		"random": func() int { return 1 + rng.IntN(500) },
	} {
		got := run(sizes)
		if len(got) != len(want) {
			t.Errorf("pieces of %s: %d digits, want %d", name, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("pieces of %s: digit %d is %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	// Times are in input (16 kHz) samples: the first tone starts at 480.
	if s := want[0].Start; s < 480-160 || s > 480+160 {
		t.Errorf("first digit starts at sample %d, want about 480", s)
	}
}

// TestHalfBandFullScale: full-scale input (the filter can reach 36/32 of
// full scale) keeps the weak path's history exact and unwrapped.
func TestHalfBandFullScale(t *testing.T) {
	d, _ := NewDetector(16000, DefaultParams())
	rng := rand.New(rand.NewPCG(2, 2))
	in := make([]int16, 2*len(d.hist))
	for i := range in {
		in[i] = []int16{-32768, 32767}[rng.IntN(2)]
	}
	d.Process(in, nil)
	x := func(j int) float64 {
		if j < 0 {
			return 0
		}
		return float64(in[j])
	}
	n := int(d.samples)
	peak := 0.0
	for i := n - len(d.hist); i < n; i++ {
		y := (16*x(2*i-2) + 9*(x(2*i-3)+x(2*i-1)) - (x(2*i-5) + x(2*i+1))) / 32
		peak = max(peak, math.Abs(y))
		got := d.hist[i&(len(d.hist)-1)]
		if want := y * histScale; math.Abs(float64(got)-want) >= 1 {
			t.Fatalf("output %d: history %d, want %.1f (filtered %.0f)", i, got, want, y)
		}
	}
	if peak < 36000 {
		t.Errorf("the input reached only %.0f after the filter: the test does not probe the overflow", peak)
	}
}
