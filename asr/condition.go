package asr

import (
	"fmt"
	"math"
	"sync"

	"github.com/openivr/ivr/asr/bwe"
	"github.com/openivr/ivr/audio"
)

// ConditionConfig describes how telephone audio is prepared for a
// wideband (16 kHz) acoustic model. The zero value is not useful; start
// from DefaultCondition.
type ConditionConfig struct {
	// OutRate is the rate the model expects, in Hz (16000).
	OutRate int
	// FillDBFS is the RMS level of the noise written into the empty band
	// of upsampled narrowband audio; 0 disables band-fill. Input already at
	// OutRate is never filled.
	FillDBFS float64
	// FillFromHz is the lower edge of the fill noise band, in Hz.
	FillFromHz float64
	// FoldDB, when not 0, adds the spectral mirror image of the
	// narrowband speech (0-4 kHz reflected into 4-8 kHz) at this gain in
	// dB, a crude bandwidth extension that follows the speech envelope.
	FoldDB float64
	// Seed makes the fill noise deterministic.
	Seed uint64
	// BWE, when not nil, synthesizes the missing high band of upsampled
	// narrowband audio from the band it has (a learned bandwidth
	// extension, package bwe), after the mirror image and before the
	// fill noise; it only adds the energy a band still lacks. It delays
	// the output by BWE's latency (20 ms with one frame of context).
	BWE *bwe.Model
	// BWEGainDB scales the synthesized band's energy, dB.
	BWEGainDB float64
}

// DefaultCondition is the conditioning tuned on the dev split of the
// project's evaluation sets (see BENCHMARKS.md, "Speech recognition").
var DefaultCondition = ConditionConfig{
	OutRate:    audio.Rate16k,
	FillDBFS:   -60,
	FillFromHz: 4200,
	Seed:       1,
}

// Conditioner turns a stream of PCM at one rate into model-ready PCM at
// OutRate: resampling, automatic gain toward a target speech level, and,
// for narrowband input, a low noise floor in the band the telephone line
// removed (the acoustic model never saw an empty 4-8 kHz band in
// training, and it is the dominant cause of errors on telephone speech).
// Level normalization is separate (SpeechLevel, Scale): a streaming gain
// that starts high amplifies the line noise before the first syllable,
// which measured worse than no gain at all. A Conditioner is used by one
// goroutine.
type Conditioner struct {
	cfg   ConditionConfig
	in    int
	rs    *audio.Resampler // nil when in == OutRate
	fill  bool
	fillA float32 // noise amplitude (RMS) in sample units
	noise []float32
	npos  int
	foldG float64 // linear gain of the mirror image; 0 for none
	odd   bool    // parity of the next output sample, for the mirror
	ext   *bwe.Extender
	tmp   []int16 // resampled input before the extension
}

// NewConditioner returns a Conditioner from rate in (Hz) to cfg.OutRate.
// Rates above OutRate are resampled down and never filled.
func NewConditioner(in int, cfg ConditionConfig) (*Conditioner, error) {
	if in < 4000 || in > 192000 || cfg.OutRate < 8000 {
		return nil, ErrBadRate
	}
	c := &Conditioner{cfg: cfg, in: in}
	if in != cfg.OutRate {
		c.rs = audio.NewResampler(in, cfg.OutRate)
	}
	if cfg.FillDBFS != 0 && in < cfg.OutRate {
		c.fill = true
		c.fillA = float32(32768 * math.Pow(10, cfg.FillDBFS/20))
		c.noise = fillNoise(cfg.OutRate, cfg.FillFromHz, cfg.Seed)
		c.npos = int(cfg.Seed % uint64(len(c.noise)))
	}
	if cfg.FoldDB != 0 && in < cfg.OutRate {
		c.foldG = math.Pow(10, cfg.FoldDB/20)
	}
	if cfg.BWE != nil && in < cfg.OutRate {
		if cfg.BWE.Rate != cfg.OutRate {
			return nil, fmt.Errorf("asr: bandwidth extension model works at %d Hz, not %d", cfg.BWE.Rate, cfg.OutRate)
		}
		c.ext = bwe.NewExtender(cfg.BWE, cfg.BWEGainDB, cfg.Seed)
	}
	return c, nil
}

// Process appends the conditioned form of in to out and returns it. With
// a bandwidth extension the output lags the input (see Flush).
func (c *Conditioner) Process(out []int16, in []int16) []int16 {
	if c.ext == nil {
		start := len(out)
		if c.rs != nil {
			out = c.rs.Process(out, in)
		} else {
			out = append(out, in...)
		}
		c.finish(out[start:], true)
		return out
	}
	c.tmp = c.rs.Process(c.tmp[:0], in)
	c.finish(c.tmp, false)
	start := len(out)
	out = c.ext.Process(out, c.tmp)
	c.addFill(out[start:])
	return out
}

// Flush appends what the resampler (and the extension) still hold.
func (c *Conditioner) Flush(out []int16) []int16 {
	if c.rs == nil {
		return out
	}
	if c.ext == nil {
		start := len(out)
		out = c.rs.Flush(out)
		c.finish(out[start:], true)
		return out
	}
	c.tmp = c.rs.Flush(c.tmp[:0])
	c.finish(c.tmp, false)
	start := len(out)
	out = c.ext.Process(out, c.tmp)
	out = c.ext.Flush(out)
	c.addFill(out[start:])
	return out
}

// finish adds the mirror image and, with fill, the band-fill noise in
// place (one rounding for both).
func (c *Conditioner) finish(s []int16, fill bool) {
	fill = fill && c.fill
	if !fill && c.foldG == 0 {
		return
	}
	for i, v := range s {
		x := float64(v)
		if c.foldG != 0 {
			// Multiplying by (-1)^n at 16 kHz maps f to 8 kHz - f.
			if c.odd {
				x -= c.foldG * float64(v)
			} else {
				x += c.foldG * float64(v)
			}
			c.odd = !c.odd
		}
		if fill {
			x += float64(c.noise[c.npos] * c.fillA)
			c.npos++
			if c.npos == len(c.noise) {
				c.npos = 0
			}
		}
		s[i] = audio.Round16(x)
	}
}

// addFill adds the band-fill noise in place.
func (c *Conditioner) addFill(s []int16) {
	if !c.fill {
		return
	}
	for i, v := range s {
		x := float64(v) + float64(c.noise[c.npos]*c.fillA)
		c.npos++
		if c.npos == len(c.noise) {
			c.npos = 0
		}
		s[i] = audio.Round16(x)
	}
}

// SpeechLevel is the level of the speech in s, in dBFS: the RMS over the
// 20 ms frames (at rate Hz) within 30 dB of the loudest frame, so leading
// and trailing line noise do not count. It returns -120 for silence.
func SpeechLevel(s []int16, rate int) float64 {
	n := max(1, rate/50)
	var energies []float64
	top := 0.0
	for i := 0; i+n <= len(s); i += n {
		var e float64
		for _, v := range s[i : i+n] {
			e += float64(v) * float64(v)
		}
		e /= float64(n)
		energies = append(energies, e)
		top = max(top, e)
	}
	var sum float64
	var k int
	for _, e := range energies {
		if e >= top/1000 {
			sum += e
			k++
		}
	}
	if k == 0 || sum == 0 {
		return -120
	}
	return 10 * math.Log10(sum/float64(k)/(32768*32768))
}

// Scale multiplies s in place by gainDB decibels, saturating.
func Scale(s []int16, gainDB float64) {
	g := math.Pow(10, gainDB/20)
	for i, v := range s {
		s[i] = audio.Round16(float64(v) * g)
	}
}

type noiseKey struct {
	rate int
	from float64
	seed uint64
}

var (
	noiseMu    sync.Mutex
	noiseCache = map[noiseKey][]float32{}
)

// fillNoise returns one second of unit-RMS white noise high-passed above
// from Hz, shared read-only between conditioners.
func fillNoise(rate int, from float64, seed uint64) []float32 {
	k := noiseKey{rate, from, seed}
	noiseMu.Lock()
	defer noiseMu.Unlock()
	if n, ok := noiseCache[k]; ok {
		return n
	}
	const taps = 101
	h := make([]float64, taps)
	fc := from / float64(rate)
	mid := taps / 2
	for i := range h {
		x := float64(i - mid)
		var lp float64
		if x == 0 {
			lp = 2 * fc
		} else {
			lp = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/(taps-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/(taps-1))
		h[i] = -lp * w
	}
	h[mid] += 1 // spectral inversion: high-pass = delta - low-pass
	n := rate + taps
	white := make([]float64, n)
	st := seed*0x9E3779B97F4A7C15 + 1
	for i := range white {
		// xorshift64*: deterministic, allocation-free, good enough for noise.
		st ^= st >> 12
		st ^= st << 25
		st ^= st >> 27
		u := float64((st*0x2545F4914F6CDD1D)>>11) / (1 << 53)
		white[i] = u*2 - 1
	}
	out := make([]float32, rate)
	var ss float64
	for i := range out {
		var acc float64
		for t := 0; t < taps; t++ {
			acc += h[t] * white[i+t]
		}
		out[i] = float32(acc)
		ss += acc * acc
	}
	norm := float32(1 / math.Sqrt(ss/float64(len(out))))
	for i := range out {
		out[i] *= norm
	}
	noiseCache[k] = out
	return out
}
