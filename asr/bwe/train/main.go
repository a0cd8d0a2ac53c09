// Command train learns the bandwidth extension model (asr/bwe/model.json)
// from wideband (16 kHz) speech: each clip is sent through a simulated
// telephone line (8 kHz, 300-3400 Hz, G.711, line noise at 20-45 dB SNR,
// random level) and upsampled as the recognizer upsamples it; the model
// learns to predict the clip's own 3.5-7.6 kHz band energies from the
// narrowband frames. Clips of every tenth speaker are held out and the
// held-out error and correlation are printed.
//
// Sources (never the evaluation sets' voices or recordings): the Google
// Speech Commands v0.02 test clips (CC BY 4.0; many speakers), the
// micro_speech clips and Debian's pocketsphinx-testdata recordings.
//
//	go run ./asr/bwe/train -out asr/bwe/model.json
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/openivr/ivr/asr/bwe"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
	"github.com/openivr/ivr/speech/evalset"
)

type clip struct {
	name    string
	speaker string
	x       []int16 // 16 kHz
}

func main() {
	sc := flag.String("clips", "/work/shared/data/speech/speech_commands", "Speech Commands directory (labels.csv)")
	micro := flag.String("micro", "/work/shared/data/speech/micro_speech", "micro_speech directory ('' to skip)")
	psdata := flag.String("psdata", "/usr/share/pocketsphinx/test/data", "pocketsphinx-testdata directory ('' to skip)")
	out := flag.String("out", "", "model file to write")
	reps := flag.Int("reps", 2, "channel renderings per clip")
	ctx := flag.Int("context", 1, "context frames each side")
	hidden := flag.Int("hidden", 0, "hidden units (0: linear ridge regression)")
	lambda := flag.Float64("lambda", 1, "ridge penalty (normalized inputs)")
	epochs := flag.Int("epochs", 30, "MLP epochs")
	seed := flag.Uint64("seed", 1, "random seed")
	minHF := flag.Float64("min-hf", -100, "skip clips whose 4.5-7.6 kHz energy over their loudest frames is below this, dB relative to 0.3-3.4 kHz (band-limited recordings)")
	within := flag.Float64("within", 50, "train on frames within this many dB of the clip's loudest")
	flag.Parse()
	clips, err := loadClips(*sc, *micro, *psdata)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
	m := &bwe.Model{
		Version: bwe.Version, Rate: 16000, Frame: 320, Hop: 160, FFT: 512,
		InEdges:  []float64{300, 450, 600, 750, 900, 1100, 1300, 1550, 1800, 2100, 2450, 2850, 3400},
		OutEdges: []float64{3500, 4000, 4500, 5000, 5500, 6000, 6500, 7000, 7600},
		Context:  *ctx,
	}
	// A placeholder model so that Frames and Input work before the fit.
	nin := m.NumInputs()
	m.Mean, m.Scale = make([]float64, nin), ones(nin)
	m.W2, m.B2 = make([][]float64, m.NumOutputs()), make([]float64, m.NumOutputs())
	for i := range m.W2 {
		m.W2[i] = make([]float64, nin)
	}
	b, _ := json.Marshal(m)
	if m, err = bwe.Parse(b); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(*seed, 11))
	var trX, trY, teX, teY [][]float64
	nTr, nTe := 0, 0
	var hfs []float64
	skipped := 0
	for _, c := range clips {
		hf := highRatio(m, c.x)
		hfs = append(hfs, hf)
		if hf < *minHF {
			skipped++
			continue
		}
		held := heldOut(c.speaker)
		for range *reps {
			X, Y := examples(m, c.x, rng, *within)
			if held {
				teX, teY = append(teX, X...), append(teY, Y...)
			} else {
				trX, trY = append(trX, X...), append(trY, Y...)
			}
		}
		if held {
			nTe++
		} else {
			nTr++
		}
	}
	sort.Float64s(hfs)
	fmt.Printf("clip high-band ratio dB: p10 %.1f p25 %.1f p50 %.1f p75 %.1f; %d skipped\n", hfs[len(hfs)/10], hfs[len(hfs)/4], hfs[len(hfs)/2], hfs[3*len(hfs)/4], skipped)
	fmt.Printf("clips: %d train, %d held out; frames: %d / %d\n", nTr, nTe, len(trX), len(teX))
	mean, scale := moments(trX)
	m.Mean, m.Scale = mean, scale
	if *hidden == 0 {
		m.W2, m.B2 = ridge(trX, trY, mean, scale, *lambda)
		m.W1, m.B1 = nil, nil
	} else {
		m.W1, m.B1, m.W2, m.B2 = mlp(trX, trY, mean, scale, *hidden, *epochs, rng, teX, teY, m)
	}
	m.Note = fmt.Sprintf("go run ./asr/bwe/train -reps %d -context %d -hidden %d -lambda %g -epochs %d -seed %d -min-hf %g -within %g; %d clips (Speech Commands v0.02 test, micro_speech, pocketsphinx-testdata), %d frames",
		*reps, *ctx, *hidden, *lambda, *epochs, *seed, *minHF, *within, nTr, len(trX))
	report("train", m, trX, trY)
	report("held-out", m, teX, teY)
	if *out != "" {
		b, err := json.MarshalIndent(m, "", " ")
		if err == nil {
			err = os.WriteFile(*out, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "train:", err)
			os.Exit(1)
		}
		if _, err := bwe.Load(*out); err != nil {
			fmt.Fprintln(os.Stderr, "train:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", *out)
	}
}

func ones(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func heldOut(speaker string) bool {
	h := fnv.New32a()
	h.Write([]byte(speaker))
	return h.Sum32()%10 == 0
}

func loadClips(sc, micro, psdata string) ([]clip, error) {
	var out []clip
	f, err := os.Open(filepath.Join(sc, "labels.csv"))
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return nil, err
	}
	for _, r := range recs[1:] {
		if len(r) < 2 || r[1] == "_silence_" {
			continue
		}
		c, err := audio.ReadWAVFile(filepath.Join(sc, r[0]))
		if err != nil {
			return nil, err
		}
		if c.Rate != 16000 {
			continue
		}
		spk, _, _ := strings.Cut(filepath.Base(r[0]), "_nohash")
		if i := strings.LastIndexByte(spk, '_'); i >= 0 { // _unknown_/word_speaker
			spk = spk[i+1:]
		}
		out = append(out, clip{r[0], spk, c.Samples})
	}
	if micro != "" {
		for _, n := range []string{"yes_1000ms.wav", "no_1000ms.wav"} {
			if c, err := audio.ReadWAVFile(filepath.Join(micro, n)); err == nil && c.Rate == 16000 {
				out = append(out, clip{n, "micro", c.Samples})
			}
		}
	}
	if psdata != "" {
		wavs, _ := filepath.Glob(filepath.Join(psdata, "librivox", "*.wav"))
		cards, _ := filepath.Glob(filepath.Join(psdata, "cards", "*.wav"))
		for _, p := range append(wavs, cards...) {
			if c, err := audio.ReadWAVFile(p); err == nil && c.Rate == 16000 {
				out = append(out, clip{p, filepath.Base(filepath.Dir(p)), c.Samples})
			}
		}
		// goforward.raw is held out entirely: the package's tests check
		// the prediction on it.
		for _, n := range []string{"numbers.raw", "something.raw"} {
			b, err := os.ReadFile(filepath.Join(psdata, n))
			if err != nil {
				continue
			}
			s := make([]int16, len(b)/2)
			for i := range s {
				s[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
			}
			out = append(out, clip{n, "ps-" + n, s})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no clips")
	}
	return out, nil
}

// examples renders x through a random telephone channel and returns the
// model inputs and targets of its frames with speech in the wideband clip.
func examples(m *bwe.Model, x []int16, rng *rand.Rand, within float64) (X, Y [][]float64) {
	w := make([]float64, len(x))
	for i, v := range x {
		w[i] = float64(v)
	}
	// Random speech level, -38..-16 dBFS (the evaluation channel draws
	// -36..-20).
	rms := evalset.ActiveRMS(w, 320)
	if rms == 0 {
		return nil, nil
	}
	g := 32768 * math.Pow(10, (-38+22*rng.Float64())/20) / rms
	for i := range w {
		w[i] *= g
	}
	wide := toInt16(w)
	n8 := audio.Resample(wide, 16000, 8000)
	y := make([]float64, len(n8))
	for i, v := range n8 {
		y[i] = float64(v)
	}
	evalset.BandPass(y)
	nr := evalset.ActiveRMS(y, 320) * math.Pow(10, -(20+25*rng.Float64())/20)
	noise := make([]float64, len(y))
	for i := range noise {
		noise[i] = rng.NormFloat64()
	}
	evalset.BandPass(noise)
	ns := math.Sqrt(evalset.MeanSquare(noise))
	for i := range y {
		y[i] += noise[i] * nr / ns
	}
	pcm := toInt16(y)
	var cd codec.Codec = codec.PCMU{}
	if rng.IntN(2) == 1 {
		cd = codec.PCMA{}
	}
	pcm = cd.Decode(nil, cd.Encode(nil, pcm))
	rs := audio.NewResampler(8000, 16000)
	up := rs.Flush(rs.Process(nil, pcm))
	u := make([]float64, len(up))
	for i, v := range up {
		u[i] = float64(v)
	}
	feats, levels, _ := m.Frames(u)
	_, wl, whigh := m.Frames(w)
	n := min(len(feats), len(whigh))
	top := math.Inf(-1)
	for j := 0; j < n; j++ {
		top = max(top, wl[j])
	}
	for j := 0; j < n; j++ {
		if wl[j] < top-within { // silence in the clip
			continue
		}
		X = append(X, m.Input(nil, feats[:n], j))
		t := make([]float64, m.NumOutputs())
		for b := range t {
			t[b] = whigh[j][b] - levels[j]
		}
		Y = append(Y, t)
	}
	return X, Y
}

// highRatio is the energy of the top out bands (4.5 kHz up) over the
// energy of 0.3-3.4 kHz, summed over the clip's frames within 20 dB of its
// loudest, in dB: very low for recordings that are band-limited already.
func highRatio(m *bwe.Model, x []int16) float64 {
	w := make([]float64, len(x))
	for i, v := range x {
		w[i] = float64(v)
	}
	_, lv, hi := m.Frames(w)
	top := math.Inf(-1)
	for _, l := range lv {
		top = max(top, l)
	}
	var el, eh float64
	for j, l := range lv {
		if l < top-20 {
			continue
		}
		el += math.Pow(10, l/10)
		for b := 2; b < len(hi[j]); b++ {
			eh += math.Pow(10, hi[j][b]/10)
		}
	}
	return 10 * math.Log10((eh+1)/(el+1))
}

func toInt16(x []float64) []int16 {
	s := make([]int16, len(x))
	for i, v := range x {
		s[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return s
}

func moments(X [][]float64) (mean, scale []float64) {
	d := len(X[0])
	mean, scale = make([]float64, d), make([]float64, d)
	for _, x := range X {
		for i, v := range x {
			mean[i] += v
		}
	}
	for i := range mean {
		mean[i] /= float64(len(X))
	}
	for _, x := range X {
		for i, v := range x {
			scale[i] += (v - mean[i]) * (v - mean[i])
		}
	}
	for i := range scale {
		scale[i] = math.Sqrt(scale[i]/float64(len(X))) + 1e-6
	}
	return mean, scale
}

// ridge solves the regularized least squares for every output.
func ridge(X, Y [][]float64, mean, scale []float64, lambda float64) ([][]float64, []float64) {
	d := len(X[0]) + 1
	A := make([][]float64, d)
	for i := range A {
		A[i] = make([]float64, d)
	}
	no := len(Y[0])
	B := make([][]float64, d)
	for i := range B {
		B[i] = make([]float64, no)
	}
	z := make([]float64, d)
	for n, x := range X {
		for i, v := range x {
			z[i] = (v - mean[i]) / scale[i]
		}
		z[d-1] = 1
		for i := range d {
			for j := range d {
				A[i][j] += z[i] * z[j]
			}
			for o := range no {
				B[i][o] += z[i] * Y[n][o]
			}
		}
	}
	for i := 0; i < d-1; i++ {
		A[i][i] += lambda
	}
	W := solve(A, B)
	w2 := make([][]float64, no)
	b2 := make([]float64, no)
	for o := range no {
		w2[o] = make([]float64, d-1)
		for i := 0; i < d-1; i++ {
			w2[o][i] = W[i][o]
		}
		b2[o] = W[d-1][o]
	}
	return w2, b2
}

// solve returns A^-1 B by Gaussian elimination with partial pivoting.
func solve(A, B [][]float64) [][]float64 {
	n := len(A)
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(A[r][c]) > math.Abs(A[p][c]) {
				p = r
			}
		}
		A[c], A[p] = A[p], A[c]
		B[c], B[p] = B[p], B[c]
		for r := range n {
			if r == c || A[r][c] == 0 {
				continue
			}
			f := A[r][c] / A[c][c]
			for k := c; k < n; k++ {
				A[r][k] -= f * A[c][k]
			}
			for k := range B[r] {
				B[r][k] -= f * B[c][k]
			}
		}
	}
	for r := range n {
		for k := range B[r] {
			B[r][k] /= A[r][r]
		}
	}
	return B
}

// mlp trains one tanh hidden layer with Adam on squared error.
func mlp(X, Y [][]float64, mean, scale []float64, hidden, epochs int, rng *rand.Rand, teX, teY [][]float64, m *bwe.Model) ([][]float64, []float64, [][]float64, []float64) {
	d, no := len(X[0]), len(Y[0])
	w1 := make([][]float64, hidden)
	for j := range w1 {
		w1[j] = make([]float64, d)
		for i := range w1[j] {
			w1[j][i] = rng.NormFloat64() / math.Sqrt(float64(d))
		}
	}
	b1 := make([]float64, hidden)
	w2 := make([][]float64, no)
	b2 := make([]float64, no)
	for o := range w2 {
		w2[o] = make([]float64, hidden)
		for j := range w2[o] {
			w2[o][j] = rng.NormFloat64() / math.Sqrt(float64(hidden))
		}
	}
	// Output bias starts at the mean target.
	for _, y := range Y {
		for o, v := range y {
			b2[o] += v / float64(len(Y))
		}
	}
	params := [][]float64{b1, b2}
	params = append(params, w1...)
	params = append(params, w2...)
	grads := make([][]float64, len(params))
	m1 := make([][]float64, len(params))
	m2 := make([][]float64, len(params))
	for i, p := range params {
		grads[i] = make([]float64, len(p))
		m1[i] = make([]float64, len(p))
		m2[i] = make([]float64, len(p))
	}
	gb1, gb2 := grads[0], grads[1]
	gw1 := grads[2 : 2+hidden]
	gw2 := grads[2+hidden:]
	z := make([]float64, d)
	h := make([]float64, hidden)
	dh := make([]float64, hidden)
	e := make([]float64, no)
	idx := make([]int, len(X))
	for i := range idx {
		idx[i] = i
	}
	const batch, lr0 = 64, 2e-3
	step := 0
	for ep := range epochs {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		lr := lr0 * (1 - float64(ep)/float64(epochs+1))
		for s := 0; s < len(idx); s += batch {
			for _, g := range grads {
				clear(g)
			}
			end := min(s+batch, len(idx))
			for _, n := range idx[s:end] {
				x := X[n]
				for i, v := range x {
					z[i] = (v - mean[i]) / scale[i]
				}
				for j := range hidden {
					a := b1[j]
					for i, w := range w1[j] {
						a += w * z[i]
					}
					h[j] = math.Tanh(a)
				}
				for o := range no {
					a := b2[o]
					for j, w := range w2[o] {
						a += w * h[j]
					}
					e[o] = a - Y[n][o]
				}
				clear(dh)
				for o := range no {
					gb2[o] += e[o]
					for j := range hidden {
						gw2[o][j] += e[o] * h[j]
						dh[j] += e[o] * w2[o][j]
					}
				}
				for j := range hidden {
					g := dh[j] * (1 - h[j]*h[j])
					gb1[j] += g
					for i := range d {
						gw1[j][i] += g * z[i]
					}
				}
			}
			step++
			inv := 1 / float64(end-s)
			c1 := 1 - math.Pow(0.9, float64(step))
			c2 := 1 - math.Pow(0.999, float64(step))
			for pi, p := range params {
				for i := range p {
					g := grads[pi][i] * inv
					m1[pi][i] = 0.9*m1[pi][i] + 0.1*g
					m2[pi][i] = 0.999*m2[pi][i] + 0.001*g*g
					p[i] -= lr * (m1[pi][i] / c1) / (math.Sqrt(m2[pi][i]/c2) + 1e-8)
				}
			}
		}
		if ep%5 == 4 || ep == epochs-1 {
			m.W1, m.B1, m.W2, m.B2 = w1, b1, w2, b2
			report(fmt.Sprintf("epoch %d held-out", ep+1), m, teX, teY)
		}
	}
	return w1, b1, w2, b2
}

// report prints the RMS error (dB) per band against predicting the
// training mean, and the correlation of prediction and truth.
func report(name string, m *bwe.Model, X, Y [][]float64) {
	if len(X) == 0 {
		return
	}
	no := len(Y[0])
	scr := make([]float64, m.NumInputs()+len(m.W1))
	p := make([]float64, no)
	se := make([]float64, no)
	var sy, syy, sp, spp, spy = make([]float64, no), make([]float64, no), make([]float64, no), make([]float64, no), make([]float64, no)
	for n, x := range X {
		m.Predict(p, x, scr)
		for o := range no {
			y := Y[n][o]
			se[o] += (p[o] - y) * (p[o] - y)
			sy[o] += y
			syy[o] += y * y
			sp[o] += p[o]
			spp[o] += p[o] * p[o]
			spy[o] += p[o] * y
		}
	}
	N := float64(len(X))
	fmt.Printf("%s (%d frames):", name, len(X))
	for o := range no {
		vy := syy[o]/N - (sy[o]/N)*(sy[o]/N)
		vp := spp[o]/N - (sp[o]/N)*(sp[o]/N)
		cov := spy[o]/N - (sy[o]/N)*(sp[o]/N)
		fmt.Printf(" [%.0f rmse %.1f sd %.1f r %.2f]", m.OutEdges[o], math.Sqrt(se[o]/N), math.Sqrt(vy), cov/math.Sqrt(vy*vp+1e-12))
	}
	fmt.Println()
}
