package vad

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBuiltinModelIsUsable(t *testing.T) {
	if err := builtin.check(); err != nil {
		t.Fatal(err)
	}
}

// TestBadModelIsRefused checks that a model with wrong shapes or values
// gives a clear error rather than a panic or garbage probabilities.
func TestBadModelIsRefused(t *testing.T) {
	var mean, scale [numFeatures]float32
	good := func() mlp {
		return mlp{mean: &mean, scale: &scale, w1: make([][numFeatures]float32, 4), b1: make([]float32, 4),
			w2: make([]float32, 8), b2: make([]float32, 2), wo: make([]float32, 2)}
	}
	m := good()
	if err := m.check(); err != nil {
		t.Fatalf("good model refused: %v", err)
	}
	nan := float32(math.NaN())
	for _, c := range []struct {
		name, want string
		edit       func(m *mlp)
	}{
		{"no standardisation", "standardisation", func(m *mlp) { m.scale = nil }},
		{"no hidden units", "first layer", func(m *mlp) { m.w1, m.b1 = nil, nil }},
		{"biases short", "first layer", func(m *mlp) { m.b1 = m.b1[:3] }},
		{"too wide", "first layer", func(m *mlp) {
			m.w1, m.b1 = make([][numFeatures]float32, maxHidden+1), make([]float32, maxHidden+1)
		}},
		{"second layer short", "second layer", func(m *mlp) { m.w2 = m.w2[:7] }},
		{"output short", "output weights", func(m *mlp) { m.wo = m.wo[:1] }},
		{"one layer, output for two", "output weights", func(m *mlp) { m.w2, m.b2 = nil, nil }},
		{"NaN weight", "w1[2]", func(m *mlp) { m.w1[2][5] = nan }},
		{"infinite bias", "bo", func(m *mlp) { m.bo = float32(math.Inf(1)) }},
	} {
		m := good()
		c.edit(&m)
		err := m.check()
		if !errors.Is(err, errModel) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want errModel naming %q", c.name, err, c.want)
		}
	}
}

// rawFeatures runs the extractor over s (8 kHz) and returns the features
// averaged over the last second.
func rawFeatures(s []float64) [numFeatures]float64 {
	e := newExtractor()
	var out, sum [numFeatures]float64
	hops := len(s) / hopLen
	for h := 0; h < hops; h++ {
		e.extract(s[h*hopLen:(h+1)*hopLen], &out)
		if h >= hops-50 {
			for i, v := range out {
				sum[i] += v / 50
			}
		}
	}
	return sum
}

func featureIndex(t *testing.T, name string) int {
	for i, n := range featureNames {
		if n == name {
			return i
		}
	}
	t.Fatalf("no feature %q", name)
	return -1
}

// TestMusicFeatures checks that the partial, fine-structure and beat
// features tell a held chord with a steady beat from noise and from a
// gliding voice-like tone.
func TestMusicFeatures(t *testing.T) {
	const n = 3 * analysisRate
	rng := rand.New(rand.NewPCG(3, 4))
	chord := make([]float64, n) // A major chord with harmonics, a click every 500 ms
	noise := make([]float64, n)
	glide := make([]float64, n) // 120-220 Hz harmonic tone gliding at 3 Hz
	var ph float64
	for i := range chord {
		tm := float64(i) / analysisRate
		for _, f := range []float64{220, 277.2, 329.6} {
			for h := 1.0; h <= 4; h++ {
				chord[i] += 0.02 / h * math.Sin(2*math.Pi*f*h*tm)
			}
		}
		if k := i % (analysisRate / 2); k < 80 {
			chord[i] += 0.3 * math.Exp(-float64(k)/15) * (rng.Float64()*2 - 1)
		}
		noise[i] = 0.05 * rng.NormFloat64()
		f0 := 170 + 50*math.Sin(2*math.Pi*3*tm)
		ph += 2 * math.Pi * f0 / analysisRate
		for h := 1.0; h <= 12; h++ {
			glide[i] += 0.02 / h * math.Sin(h*ph)
		}
	}
	fc, fg, fn := rawFeatures(chord), rawFeatures(glide), rawFeatures(noise)
	run, long, c300, beat := featureIndex(t, "partial_run"), featureIndex(t, "partial_long_frac"),
		featureIndex(t, "fine_corr_300ms"), featureIndex(t, "beat_strength")
	t.Logf("chord / glide / noise: partial_run %.2f %.2f %.2f, partial_long_frac %.2f %.2f %.2f, fine_corr_300ms %.2f %.2f %.2f, beat %.2f %.2f %.2f",
		fc[run], fg[run], fn[run], fc[long], fg[long], fn[long], fc[c300], fg[c300], fn[c300], fc[beat], fg[beat], fn[beat])
	if fc[run] < 0.5 || fg[run] > fc[run]/2 || fn[run] > 0.2 {
		t.Errorf("partial_run: chord %.2f, glide %.2f, noise %.2f", fc[run], fg[run], fn[run])
	}
	if fc[long] < 0.7 || fn[long] > 0.2 {
		t.Errorf("partial_long_frac: chord %.2f, noise %.2f", fc[long], fn[long])
	}
	if fc[c300] < 0.6 || fn[c300] > 0.3 || fg[c300] > fc[c300] {
		t.Errorf("fine_corr_300ms: chord %.2f, glide %.2f, noise %.2f", fc[c300], fg[c300], fn[c300])
	}
	if fc[beat] < 0.5 || fn[beat] > 0.4 {
		t.Errorf("beat_strength: chord %.2f, noise %.2f", fc[beat], fn[beat])
	}
}

// BenchmarkModel is the network's share of the cost per hop.
func BenchmarkModel(b *testing.B) {
	var x [numFeatures]float64
	for i := range x {
		x[i] = float64(builtin.mean[i]) + float64(i%7-3)/max(float64(builtin.scale[i]), 1e-3)
	}
	b.ReportAllocs()
	var s float64
	for i := 0; i < b.N; i++ {
		s += builtin.prob(&x)
	}
	if math.IsNaN(s) {
		b.Fatal("NaN")
	}
}

func TestFastDB(t *testing.T) {
	for _, p := range []float64{1e-10, 2e-10, 1e-7, 0.003, 0.5, 1, 1.999, 2, 3, 1234.5} {
		if got, want := fastDB(p), toDB(p); math.Abs(got-want) > 0.002 {
			t.Errorf("fastDB(%g) = %.5f, toDB %.5f", p, got, want)
		}
	}
	if fastDB(0) != floorDB || fastDB(-1) != floorDB {
		t.Error("fastDB of zero or negative power is not the floor")
	}
}
