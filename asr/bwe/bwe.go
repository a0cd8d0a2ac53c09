// Package bwe is a learned bandwidth extension for telephone speech: it
// predicts the spectral envelope of the band a telephone line removed
// (about 3.5-8 kHz) from the band it kept, frame by frame, and synthesizes
// that band as noise shaped by the prediction. The acoustic model of the
// embedded recognizer was trained on wideband speech; fricatives (/s/,
// /f/) live mostly above 4 kHz, and their absence is what turns "six" into
// "eight" and "five" into "nine".
//
// A Model maps, per 10 ms frame, the narrowband band log energies
// relative to the frame's level (plus the level and the zero-crossing
// rate, with neighbouring frames as context) to the log energies of the
// high sub-bands relative to the same level. It is learned from wideband
// speech (cmd: go run ./asr/bwe/train) and stored as JSON; the built-in
// model is embedded (model.json).
package bwe

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"

	"github.com/openivr/ivr/internal/fft"
)

// Version is the model file format this package reads.
const Version = 1

// Model is a bandwidth extension model. Load or Parse it; the zero value
// is not usable.
type Model struct {
	Version int `json:"version"`
	// Rate is the sample rate the model works at (Hz), Frame the analysis
	// window and Hop the frame step (samples, Frame = 2 Hop), FFT the
	// transform size (a power of two >= Frame).
	Rate  int `json:"rate"`
	Frame int `json:"frame"`
	Hop   int `json:"hop"`
	FFT   int `json:"fft"`
	// InEdges are the edges (Hz) of the narrowband analysis bands,
	// OutEdges those of the predicted high bands.
	InEdges  []float64 `json:"in_edges"`
	OutEdges []float64 `json:"out_edges"`
	// Context is how many frames each side are part of a frame's input.
	Context int `json:"context"`
	// Mean and Scale normalize the input vector: (x - Mean) / Scale.
	Mean  []float64 `json:"mean"`
	Scale []float64 `json:"scale"`
	// W1, B1 are an optional tanh hidden layer; W2, B2 the output layer
	// (from the hidden layer, or from the normalized input when W1 is
	// empty). Outputs are dB relative to the frame's narrowband level.
	W1 [][]float64 `json:"w1,omitempty"`
	B1 []float64   `json:"b1,omitempty"`
	W2 [][]float64 `json:"w2"`
	B2 []float64   `json:"b2"`
	// Note says how the model was made.
	Note string `json:"note,omitempty"`

	inBins, outBins [][2]int // FFT bin ranges [lo, hi) per band
}

// NumFeatures is the length of one frame's feature vector: the band
// energies relative to the level, the level, the zero-crossing rate.
func (m *Model) NumFeatures() int { return len(m.InEdges) - 1 + 2 }

// NumInputs is the length of the model's input vector (with context).
func (m *Model) NumInputs() int { return (2*m.Context + 1) * m.NumFeatures() }

// NumOutputs is the number of predicted high bands.
func (m *Model) NumOutputs() int { return len(m.OutEdges) - 1 }

//go:embed model.json
var builtinJSON []byte

var (
	builtinOnce  sync.Once
	builtinModel *Model
	builtinErr   error
)

// Builtin returns the embedded model (parsed once per process).
func Builtin() (*Model, error) {
	builtinOnce.Do(func() {
		builtinModel, builtinErr = Parse(builtinJSON)
		if builtinErr != nil {
			builtinErr = fmt.Errorf("bwe: built-in model: %w", builtinErr)
		}
	})
	return builtinModel, builtinErr
}

// Load reads a model file.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bwe: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("bwe: %s: %w", path, err)
	}
	return m, nil
}

// ErrBadModel is wrapped by every error about a model's content.
var ErrBadModel = errors.New("bad bandwidth extension model")

// Parse decodes and checks a model.
func Parse(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModel, err)
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return &m, nil
}

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadModel, fmt.Sprintf(format, a...))
}

// init checks the model and derives the bin ranges.
func (m *Model) init() error {
	if m.Version != Version {
		return bad("version %d, want %d", m.Version, Version)
	}
	if m.Rate < 8000 || m.Rate > 96000 {
		return bad("rate %d", m.Rate)
	}
	if m.Hop <= 0 || m.Frame != 2*m.Hop {
		return bad("frame %d must be twice the hop %d", m.Frame, m.Hop)
	}
	if m.FFT < m.Frame || m.FFT&(m.FFT-1) != 0 || m.FFT > 1<<16 {
		return bad("fft %d: want a power of two >= frame", m.FFT)
	}
	if m.Context < 0 || m.Context > 8 {
		return bad("context %d", m.Context)
	}
	var err error
	if m.inBins, err = bins(m.InEdges, m.Rate, m.FFT); err != nil {
		return bad("in_edges: %v", err)
	}
	if m.outBins, err = bins(m.OutEdges, m.Rate, m.FFT); err != nil {
		return bad("out_edges: %v", err)
	}
	n := m.NumInputs()
	if len(m.Mean) != n || len(m.Scale) != n {
		return bad("mean/scale have %d/%d values, want %d", len(m.Mean), len(m.Scale), n)
	}
	for i, s := range m.Scale {
		if !(s > 0) || math.IsInf(s, 0) || !finite(m.Mean[i]) {
			return bad("scale %d is %g", i, s)
		}
	}
	in := n
	if len(m.W1) > 0 {
		if err := checkLayer(m.W1, m.B1, n, "w1"); err != nil {
			return err
		}
		in = len(m.W1)
	}
	if len(m.W2) != m.NumOutputs() {
		return bad("w2 has %d rows, want %d", len(m.W2), m.NumOutputs())
	}
	return checkLayer(m.W2, m.B2, in, "w2")
}

func checkLayer(w [][]float64, b []float64, in int, name string) error {
	if len(b) != len(w) {
		return bad("%s: %d rows but %d biases", name, len(w), len(b))
	}
	for i, row := range w {
		if len(row) != in {
			return bad("%s row %d has %d weights, want %d", name, i, len(row), in)
		}
		for _, v := range row {
			if !finite(v) {
				return bad("%s row %d: %g", name, i, v)
			}
		}
		if !finite(b[i]) {
			return bad("%s bias %d: %g", name, i, b[i])
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func bins(edges []float64, rate, n int) ([][2]int, error) {
	if len(edges) < 2 {
		return nil, errors.New("need at least two edges")
	}
	var out [][2]int
	for i := 0; i+1 < len(edges); i++ {
		lo, hi := edges[i], edges[i+1]
		if !(lo >= 0) || !(hi > lo) || hi > float64(rate)/2 {
			return nil, fmt.Errorf("band %g-%g Hz", lo, hi)
		}
		a := int(math.Round(lo * float64(n) / float64(rate)))
		b := int(math.Round(hi * float64(n) / float64(rate)))
		if b <= a {
			return nil, fmt.Errorf("band %g-%g Hz is narrower than one bin", lo, hi)
		}
		out = append(out, [2]int{a, b})
	}
	return out, nil
}

// energyFloor keeps log energies finite on digital silence (sample units
// squared, summed over bins).
const energyFloor = 1.0

// analyzer computes one frame's features; it allocates nothing per frame.
type analyzer struct {
	m      *Model
	win    []float64 // periodic Hann, Frame samples
	winPow float64   // sum of win^2
	f      *fft.FFT
	re, im []float64
}

func newAnalyzer(m *Model) *analyzer {
	a := &analyzer{m: m, win: make([]float64, m.Frame), f: fft.New(m.FFT), re: make([]float64, m.FFT), im: make([]float64, m.FFT)}
	for i := range a.win {
		a.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(m.Frame))
		a.winPow += a.win[i] * a.win[i]
	}
	return a
}

// analyze fills feat (NumFeatures) and high (NumOutputs, the energies
// already present in the high bands) from frame (Frame samples) and
// returns the frame's narrowband level L in dB (band energy summed over
// InEdges).
func (a *analyzer) analyze(frame, feat, high []float64) float64 {
	m := a.m
	zc := 0
	for i, v := range frame {
		a.re[i] = v * a.win[i]
		a.im[i] = 0
		if i > 0 && (v >= 0) != (frame[i-1] >= 0) {
			zc++
		}
	}
	for i := len(frame); i < len(a.re); i++ {
		a.re[i], a.im[i] = 0, 0
	}
	a.f.Transform(a.re, a.im)
	var total float64
	for b, r := range m.inBins {
		var e float64
		for k := r[0]; k < r[1]; k++ {
			e += a.re[k]*a.re[k] + a.im[k]*a.im[k]
		}
		feat[b] = e
		total += e
	}
	level := 10 * math.Log10(total+energyFloor)
	nb := len(m.inBins)
	for b := 0; b < nb; b++ {
		feat[b] = 10*math.Log10(feat[b]+energyFloor) - level
	}
	feat[nb] = level
	feat[nb+1] = float64(zc) / float64(len(frame)-1)
	for b, r := range m.outBins {
		var e float64
		for k := r[0]; k < r[1]; k++ {
			e += a.re[k]*a.re[k] + a.im[k]*a.im[k]
		}
		high[b] = e
	}
	return level
}

// Frames analyses a whole signal (at Rate) the way an Extender does:
// frame j covers samples [(j+1)Hop - Frame, (j+1)Hop) (zeros before the
// start). It returns per frame the features, the level (dB) and the
// high-band energies in dB (not relative). It is for training and tests.
func (m *Model) Frames(x []float64) (feats [][]float64, levels []float64, highDB [][]float64) {
	a := newAnalyzer(m)
	frame := make([]float64, m.Frame)
	for j := 0; (j+1)*m.Hop <= len(x); j++ {
		end := (j + 1) * m.Hop
		for i := range frame {
			p := end - m.Frame + i
			if p >= 0 {
				frame[i] = x[p]
			} else {
				frame[i] = 0
			}
		}
		f := make([]float64, m.NumFeatures())
		h := make([]float64, m.NumOutputs())
		levels = append(levels, a.analyze(frame, f, h))
		for b := range h {
			h[b] = 10 * math.Log10(h[b]+energyFloor)
		}
		feats = append(feats, f)
		highDB = append(highDB, h)
	}
	return feats, levels, highDB
}

// Input builds the model input of frame t from per-frame features
// (context frames beyond either end repeat the end frame) into dst
// (NumInputs), not normalized.
func (m *Model) Input(dst []float64, feats [][]float64, t int) []float64 {
	dst = dst[:0]
	for d := -m.Context; d <= m.Context; d++ {
		i := min(max(t+d, 0), len(feats)-1)
		dst = append(dst, feats[i]...)
	}
	return dst
}

// Predict writes the predicted high-band energies (dB relative to the
// frame's level) for the raw input x (NumInputs) into out (NumOutputs);
// scratch must hold NumInputs + len(W1) values. It allocates nothing.
func (m *Model) Predict(out, x, scratch []float64) {
	n := len(x)
	z := scratch[:n]
	for i, v := range x {
		z[i] = (v - m.Mean[i]) / m.Scale[i]
	}
	if len(m.W1) > 0 {
		h := scratch[n : n+len(m.W1)]
		for j, row := range m.W1 {
			s := m.B1[j]
			for i, w := range row {
				s += w * z[i]
			}
			h[j] = math.Tanh(s)
		}
		z = h
	}
	for j, row := range m.W2 {
		s := m.B2[j]
		for i, w := range row {
			s += w * z[i]
		}
		out[j] = s
	}
}
