package bwe

import (
	"math"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/internal/fft"
)

// Extender adds a synthesized high band to a stream of narrowband speech
// already resampled to the model's rate. Per hop it analyses the last
// Frame samples, predicts the high-band envelope of the frame Context
// hops back, shapes random-phase noise with it (only the energy the
// input does not already have in each band) and overlap-adds it with a
// square-root Hann window. The output is the input delayed by
// (Context+1)*Hop samples plus the synthesized band; Flush drains the
// delay, so Process and Flush together return exactly as many samples as
// went in. An Extender is used by one goroutine; after the buffers have
// grown once it allocates nothing.
type Extender struct {
	m      *Model
	gain   float64 // linear gain on the synthesized energy
	an     *analyzer
	synWin []float64 // sqrt periodic Hann
	binMag []float64 // per out band: sqrt(M / (nbins * sum win^2)), energy -> bin magnitude
	inv    *fft.FFT

	hist   []float64   // last Frame input samples
	pend   []float64   // samples of the hop being filled
	dry    []float64   // delayed input, from the start of the next output hop
	feats  [][]float64 // ring of 2*Context+1 frames' features
	levels []float64
	highs  [][]float64
	nfr    int // frames analysed
	x      []float64
	y      []float64
	scr    []float64
	ola    []float64 // Frame samples from the start of the next output hop
	re, im []float64
	rng    uint64
	nin    int64 // samples in
	nout   int64 // samples out
	zero   []float64
}

// NewExtender returns an Extender for m; gainDB scales the synthesized
// band's energy (0 as predicted), seed makes its noise deterministic.
func NewExtender(m *Model, gainDB float64, seed uint64) *Extender {
	c := 2*m.Context + 1
	e := &Extender{
		m:      m,
		gain:   math.Pow(10, gainDB/10),
		an:     newAnalyzer(m),
		synWin: make([]float64, m.Frame),
		inv:    fft.New(m.FFT),
		hist:   make([]float64, m.Frame),
		pend:   make([]float64, 0, m.Hop),
		dry:    make([]float64, m.Hop, (m.Context+3)*m.Hop),
		feats:  make([][]float64, c),
		levels: make([]float64, c),
		highs:  make([][]float64, c),
		x:      make([]float64, 0, m.NumInputs()),
		y:      make([]float64, m.NumOutputs()),
		scr:    make([]float64, m.NumInputs()+len(m.W1)),
		ola:    make([]float64, m.Frame),
		re:     make([]float64, m.FFT),
		im:     make([]float64, m.FFT),
		rng:    seed*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D,
		zero:   make([]float64, m.Hop),
	}
	for i := range c {
		e.feats[i] = make([]float64, m.NumFeatures())
		e.highs[i] = make([]float64, m.NumOutputs())
	}
	for i := range e.synWin {
		e.synWin[i] = math.Sqrt(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(m.Frame)))
	}
	for _, r := range m.outBins {
		e.binMag = append(e.binMag, math.Sqrt(float64(m.FFT)/(float64(r[1]-r[0])*e.an.winPow)))
	}
	return e
}

// Delay is the extender's latency in samples.
func (e *Extender) Delay() int { return (e.m.Context + 1) * e.m.Hop }

// Process appends the extended form of in to out; the first Delay()
// samples of the stream come out only later (or from Flush).
func (e *Extender) Process(out []int16, in []int16) []int16 {
	e.nin += int64(len(in))
	for _, v := range in {
		e.pend = append(e.pend, float64(v))
		if len(e.pend) == e.m.Hop {
			out = e.hop(out, e.pend)
			e.pend = e.pend[:0]
		}
	}
	return out
}

// Flush appends the samples still delayed (the stream's end is padded
// with silence to complete the last frames).
func (e *Extender) Flush(out []int16) []int16 {
	for len(e.pend) > 0 && len(e.pend) < e.m.Hop {
		e.pend = append(e.pend, 0)
	}
	if len(e.pend) > 0 {
		out = e.hop(out, e.pend)
		e.pend = e.pend[:0]
	}
	for e.nout < e.nin {
		out = e.hop(out, e.zero)
	}
	return out
}

// hop takes one hop of input, analyses its frame and, once the context
// is there, synthesizes and emits one hop of output.
func (e *Extender) hop(out []int16, in []float64) []int16 {
	m := e.m
	h := m.Hop
	copy(e.hist, e.hist[h:])
	copy(e.hist[m.Frame-h:], in)
	e.dry = append(e.dry, in...)
	c := 2*m.Context + 1
	slot := e.nfr % c
	e.levels[slot] = e.an.analyze(e.hist, e.feats[slot], e.highs[slot])
	if e.nfr == 0 {
		// Context before the first frame repeats it.
		for i := 1; i < c; i++ {
			copy(e.feats[i], e.feats[0])
			copy(e.highs[i], e.highs[0])
			e.levels[i] = e.levels[0]
		}
	}
	e.nfr++
	t := e.nfr - 1 - m.Context
	if t < 0 {
		return out
	}
	// Input of frame t: frames t-C..t+C, clamped at the start.
	e.x = e.x[:0]
	for d := -m.Context; d <= m.Context; d++ {
		i := max(t+d, 0)
		e.x = append(e.x, e.feats[i%c]...)
	}
	m.Predict(e.y, e.x, e.scr)
	ts := t % c
	e.synth(e.levels[ts], e.highs[ts])
	if t > 0 {
		// The first frame starts a hop before the stream: its first half
		// is not output.
		for i := 0; i < h && e.nout < e.nin; i++ {
			out = append(out, audio.Round16(e.dry[i]+e.ola[i]))
			e.nout++
		}
	}
	copy(e.dry, e.dry[h:])
	e.dry = e.dry[:len(e.dry)-h]
	copy(e.ola, e.ola[h:])
	clear(e.ola[m.Frame-h:])
	return out
}

// synth overlap-adds one frame of noise shaped by the prediction in e.y
// (dB relative to level) less the energy the frame already has (high).
func (e *Extender) synth(level float64, high []float64) {
	m := e.m
	clear(e.re)
	clear(e.im)
	any := false
	for b, r := range m.outBins {
		want := e.gain * math.Pow(10, (e.y[b]+level)/10)
		add := want - high[b]
		if !(add > 0) {
			continue
		}
		any = true
		mag := math.Sqrt(add) * e.binMag[b]
		for k := r[0]; k < r[1]; k++ {
			ph := e.next() & (phasors - 1)
			re, im := mag*phasorRe[ph], mag*phasorIm[ph]
			e.re[k], e.im[k] = re, im
			if k > 0 && k < m.FFT/2 {
				e.re[m.FFT-k], e.im[m.FFT-k] = re, -im
			}
		}
	}
	if !any {
		return
	}
	e.inv.Inverse(e.re, e.im)
	s := 1 / float64(m.FFT)
	for i := range e.ola {
		e.ola[i] += e.re[i] * s * e.synWin[i]
	}
}

// next returns 64 random bits (xorshift64*).
func (e *Extender) next() uint64 {
	e.rng ^= e.rng >> 12
	e.rng ^= e.rng << 25
	e.rng ^= e.rng >> 27
	return (e.rng * 0x2545F4914F6CDD1D) >> 11
}

// phasors unit phasors spread evenly around the circle: the random
// phases of the synthesized noise (a table instead of a sine and a cosine
// per bin).
const phasors = 1024

var phasorRe, phasorIm = func() (re, im [phasors]float64) {
	for i := range re {
		a := 2 * math.Pi * float64(i) / phasors
		re[i], im[i] = math.Cos(a), math.Sin(a)
	}
	return
}()
