package bwe

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/internal/fft"
)

// heldOutClip is a wideband recording the built-in model never saw
// (asr/bwe/train leaves it out): Debian's pocketsphinx-testdata
// "go forward ten meters", 16 kHz raw PCM.
const heldOutClip = "/usr/share/pocketsphinx/test/data/goforward.raw"

func builtin(t testing.TB) *Model {
	t.Helper()
	m, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func loadHeldOut(t testing.TB) []int16 {
	t.Helper()
	b, err := os.ReadFile(heldOutClip)
	if err != nil {
		t.Skipf("%v (apt-get install pocketsphinx-testdata)", err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return s
}

// narrowband is s (16 kHz) as a telephone line leaves it, upsampled back
// to 16 kHz the way the recognizer's conditioner does.
func narrowband(s []int16) []int16 {
	n8 := audio.Resample(s, 16000, 8000)
	rs := audio.NewResampler(8000, 16000)
	return rs.Flush(rs.Process(nil, n8))
}

func floats(s []int16) []float64 {
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v)
	}
	return x
}

func corr(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb+1e-12)
}

// TestPredictionOnHeldOutClip: over the speech frames of a clip the model
// never saw, the predicted high-band energy follows the clip's real one
// (the narrowband level alone would not: it is the same for /s/ and a
// vowel of the same loudness).
func TestPredictionOnHeldOutClip(t *testing.T) {
	m := builtin(t)
	wide := loadHeldOut(t)
	feats, levels, _ := m.Frames(floats(narrowband(wide)))
	_, wl, whigh := m.Frames(floats(wide))
	n := min(len(feats), len(whigh))
	top := math.Inf(-1)
	for _, l := range wl[:n] {
		top = max(top, l)
	}
	x := make([]float64, 0, m.NumInputs())
	scr := make([]float64, m.NumInputs()+len(m.W1))
	y := make([]float64, m.NumOutputs())
	var pred, truth, level []float64
	var se, bias float64
	for j := 0; j < n; j++ {
		if wl[j] < top-30 {
			continue
		}
		x = m.Input(x, feats[:n], j)
		m.Predict(y, x, scr)
		var ep, et float64
		for b := range y {
			ep += math.Pow(10, (y[b]+levels[j])/10)
			et += math.Pow(10, whigh[j][b]/10)
		}
		p, tr := 10*math.Log10(ep), 10*math.Log10(et)
		pred, truth, level = append(pred, p), append(truth, tr), append(level, levels[j])
		se += (p - tr) * (p - tr)
		bias += p - tr
	}
	r := corr(pred, truth)
	rl := corr(level, truth)
	rel := make([]float64, len(pred))
	relT := make([]float64, len(pred))
	for i := range pred {
		rel[i], relT[i] = pred[i]-level[i], truth[i]-level[i]
	}
	rr := corr(rel, relT)
	t.Logf("%d speech frames: r(pred, truth) %.2f, r(level, truth) %.2f, r(pred-level, truth-level) %.2f, rmse %.1f dB, mean error %.1f dB", len(pred), r, rl, rr, math.Sqrt(se/float64(len(pred))), bias/float64(len(pred)))
	if len(pred) < 50 {
		t.Fatalf("only %d speech frames", len(pred))
	}
	if r < 0.6 {
		t.Errorf("predicted high-band energy correlates %.2f with the truth, want >= 0.6", r)
	}
	// The part the level does not explain (fricative or vowel) must be
	// predicted too.
	if rr < 0.6 {
		t.Errorf("predicted high band relative to the level correlates %.2f with the truth, want >= 0.6", rr)
	}
}

// TestExtenderKeepsTheNarrowband: the output is the input plus energy
// above ~3.5 kHz only, sample for sample (the extender holds Delay()
// samples back, it does not shift them), and as many samples come out as
// went in, whatever the chunking.
func TestExtenderKeepsTheNarrowband(t *testing.T) {
	m := builtin(t)
	in := narrowband(loadHeldOut(t))
	rng := rand.New(rand.NewPCG(1, 2))
	e := NewExtender(m, 0, 1)
	var out []int16
	for off := 0; off < len(in); {
		n := min(len(in)-off, 1+rng.IntN(700))
		out = e.Process(out, in[off:off+n])
		off += n
	}
	out = e.Flush(out)
	if len(out) != len(in) {
		t.Fatalf("%d samples out, %d in", len(out), len(in))
	}
	diff := make([]float64, len(in))
	for i := range in {
		diff[i] = float64(out[i]) - float64(in[i])
	}
	// Energy of the difference (the synthesized band) below 3 kHz and
	// above 4 kHz, against the input's energy below 3 kHz.
	lo, hi := bandEnergy(diff, 300, 3000), bandEnergy(diff, 4000, 7600)
	ref := bandEnergy(floats(in), 300, 3000)
	t.Logf("added below 3 kHz %.1f dB, above 4 kHz %.1f dB (re input below 3 kHz)", 10*math.Log10(lo/ref), 10*math.Log10(hi/ref))
	if lo > ref*1e-3 {
		t.Errorf("the extension changed the narrowband: %.1f dB", 10*math.Log10(lo/ref))
	}
	if hi < ref*1e-4 {
		t.Errorf("no high band synthesized: %.1f dB", 10*math.Log10(hi/ref))
	}
	// Same input, same seed, any chunking: the same output.
	e2 := NewExtender(m, 0, 1)
	out2 := e2.Flush(e2.Process(nil, in))
	for i := range out {
		if out[i] != out2[i] {
			t.Fatalf("sample %d differs between chunkings: %d vs %d", i, out[i], out2[i])
		}
	}
}

// bandEnergy is the energy of x (16 kHz) between lo and hi Hz, from a
// plain DFT of 512-sample blocks.
func bandEnergy(x []float64, lo, hi float64) float64 {
	const n = 512
	f := fft.New(n)
	re, im := make([]float64, n), make([]float64, n)
	var e float64
	for off := 0; off+n <= len(x); off += n {
		copy(re, x[off:off+n])
		clear(im)
		f.Transform(re, im)
		for k := int(lo * n / 16000); k < int(hi*n/16000); k++ {
			e += re[k]*re[k] + im[k]*im[k]
		}
	}
	return e
}

// TestExtenderSynthesizesThePredictedLevel: where the model asks for more
// than the input has, the output's band energy is what it asked for
// (within a few dB: the noise is random).
func TestExtenderSynthesizesThePredictedLevel(t *testing.T) {
	m := builtin(t)
	in := narrowband(loadHeldOut(t))
	e := NewExtender(m, 0, 7)
	out := e.Flush(e.Process(nil, in))
	feats, levels, highIn := m.Frames(floats(in))
	_, _, highOut := m.Frames(floats(out))
	x := make([]float64, 0, m.NumInputs())
	scr := make([]float64, m.NumInputs()+len(m.W1))
	y := make([]float64, m.NumOutputs())
	var sum float64
	var k int
	for j := 1; j < len(highOut)-1; j++ {
		if levels[j] < 60 { // line silence
			continue
		}
		x = m.Input(x, feats, j)
		m.Predict(y, x, scr)
		for b := range y {
			want := y[b] + levels[j]
			if want < highIn[j][b]+10 {
				continue
			}
			sum += highOut[j][b] - want
			k++
		}
	}
	if k < 20 {
		t.Fatalf("only %d bands to check", k)
	}
	bias := sum / float64(k)
	t.Logf("%d frame-bands: output minus predicted %.1f dB on average", k, bias)
	if math.Abs(bias) > 3 {
		t.Errorf("synthesized band is %.1f dB off the prediction", bias)
	}
}

func TestExtenderAllocatesNothing(t *testing.T) {
	m := builtin(t)
	e := NewExtender(m, 0, 1)
	in := make([]int16, 320)
	for i := range in {
		in[i] = int16(3000 * math.Sin(float64(i)*0.3))
	}
	out := make([]int16, 0, 1024)
	out = e.Process(out[:0], in)
	if a := testing.AllocsPerRun(100, func() { out = e.Process(out[:0], in) }); a != 0 {
		t.Errorf("%v allocations per 20 ms", a)
	}
}

func BenchmarkExtender20ms(b *testing.B) {
	m := builtin(b)
	e := NewExtender(m, 0, 1)
	in := make([]int16, 320) // 20 ms at 16 kHz
	for i := range in {
		in[i] = int16(3000 * math.Sin(float64(i)*0.3))
	}
	out := make([]int16, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out = e.Process(out[:0], in)
	}
}

func TestBadModels(t *testing.T) {
	m := builtin(t)
	good, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("re-encoded built-in model: %v", err)
	}
	edit := func(f func(*Model)) []byte {
		var c Model
		if err := json.Unmarshal(good, &c); err != nil {
			t.Fatal(err)
		}
		f(&c)
		b, _ := json.Marshal(&c)
		return b
	}
	for name, b := range map[string][]byte{
		"not json":      []byte("mean: 1"),
		"empty":         nil,
		"empty object":  []byte("{}"),
		"version":       edit(func(c *Model) { c.Version = 2 }),
		"frame/hop":     edit(func(c *Model) { c.Frame = 3 * c.Hop }),
		"fft":           edit(func(c *Model) { c.FFT = 500 }),
		"edges":         edit(func(c *Model) { c.OutEdges = []float64{5000, 4000} }),
		"edge too high": edit(func(c *Model) { c.OutEdges[len(c.OutEdges)-1] = 9000 }),
		"mean length":   edit(func(c *Model) { c.Mean = c.Mean[1:] }),
		"zero scale":    edit(func(c *Model) { c.Scale[0] = 0 }),
		"w2 rows":       edit(func(c *Model) { c.W2 = c.W2[1:]; c.B2 = c.B2[1:] }),
		"w2 row length": edit(func(c *Model) { c.W2[0] = c.W2[0][1:] }),
		"bias length":   edit(func(c *Model) { c.B2 = c.B2[1:] }),
		"w1 row length": edit(func(c *Model) {
			c.W1 = [][]float64{{1}}
			c.B1 = []float64{0}
		}),
		"context": edit(func(c *Model) { c.Context = -1 }),
	} {
		_, err := Parse(b)
		if !errors.Is(err, ErrBadModel) {
			t.Errorf("%s: got %v, want ErrBadModel", name, err)
		}
	}
	// Not-a-number weights cannot be written as JSON; a file holding them
	// as text fails to parse.
	bad := strings.Replace(string(good), `"b2":[`, `"b2":[NaN,`, 1)
	if _, err := Parse([]byte(bad)); !errors.Is(err, ErrBadModel) {
		t.Errorf("NaN: %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "m.json")
	os.WriteFile(p, []byte(`{"version":1}`), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) || !errors.Is(err, ErrBadModel) {
		t.Errorf("load of a bad file: %v (want the path and ErrBadModel)", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(builtinJSON)
	f.Add([]byte(`{"version":1,"rate":16000,"frame":320,"hop":160,"fft":512}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		// A model that parses must run without panicking.
		e := NewExtender(m, 0, 1)
		in := make([]int16, 3*m.Frame)
		for i := range in {
			in[i] = int16(i * 37)
		}
		out := e.Flush(e.Process(nil, in))
		if len(out) != len(in) {
			t.Fatalf("%d out, %d in", len(out), len(in))
		}
	})
}
