package evalset

import (
	"math"
	"math/rand/v2"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// Channel is a simulated telephone line.
type Channel struct {
	LevelDBFS float64 // RMS level of the speech part, dB full scale
	SNRDB     float64 // speech RMS over line-noise RMS, dB
	Codec     codec.Codec
	LeadSec   float64 // silence (line noise) before the speech
	TrailSec  float64 // silence (line noise) after the speech
	HumHz     float64 // mains hum frequency, 0 for none
}

// RandomChannel draws a channel: speech at -36..-20 dBFS, line noise
// 20..40 dB below it, G.711 mu-law or A-law, 0.3..0.8 s before the speech
// and 1.2 s after it (enough for the endpointer to close the turn).
func RandomChannel(rng *rand.Rand) Channel {
	c := Channel{
		LevelDBFS: -36 + 16*rng.Float64(),
		SNRDB:     20 + 20*rng.Float64(),
		Codec:     codec.PCMU{},
		LeadSec:   0.3 + 0.5*rng.Float64(),
		TrailSec:  1.2,
	}
	if rng.IntN(2) == 1 {
		c.Codec = codec.PCMA{}
	}
	if rng.IntN(3) == 0 {
		c.HumHz = 50 + 10*float64(rng.IntN(2))
	}
	return c
}

// Apply sends clip through the channel and returns 8 kHz PCM.
func (c Channel) Apply(clip audio.Clip, rng *rand.Rand) audio.Clip {
	s := audio.Resample(clip.Samples, clip.Rate, audio.Rate8k)
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v)
	}
	x = trimSilence(x)
	BandPass(x)
	// Level: scale the speech so its active RMS hits LevelDBFS.
	rms := ActiveRMS(x, 160)
	if rms > 0 {
		g := 32768 * math.Pow(10, c.LevelDBFS/20) / rms
		for i := range x {
			x[i] *= g
		}
	}
	lead := int(c.LeadSec * audio.Rate8k)
	trail := int(c.TrailSec * audio.Rate8k)
	out := make([]float64, lead+len(x)+trail)
	copy(out[lead:], x)
	// Line noise: band-limited white noise plus optional hum.
	nrms := 32768 * math.Pow(10, (c.LevelDBFS-c.SNRDB)/20)
	noise := make([]float64, len(out))
	for i := range noise {
		noise[i] = rng.NormFloat64()
	}
	BandPass(noise)
	nr := math.Sqrt(MeanSquare(noise))
	for i := range out {
		out[i] += noise[i] * nrms / nr
		if c.HumHz > 0 {
			out[i] += 0.5 * nrms * math.Sin(2*math.Pi*c.HumHz*float64(i)/audio.Rate8k)
		}
	}
	pcm := make([]int16, len(out))
	for i, v := range out {
		pcm[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	if c.Codec != nil {
		enc := c.Codec.Encode(nil, pcm)
		pcm = c.Codec.Decode(pcm[:0], enc)
	}
	return audio.Clip{Rate: audio.Rate8k, Samples: pcm}
}

// trimSilence drops leading and trailing samples below -50 dB of the peak,
// so every item's silence comes from the channel, not the synthesizer.
func trimSilence(x []float64) []float64 {
	peak := 0.0
	for _, v := range x {
		peak = max(peak, math.Abs(v))
	}
	th := peak * 0.003
	a, b := 0, len(x)
	for a < b && math.Abs(x[a]) < th {
		a++
	}
	for b > a && math.Abs(x[b-1]) < th {
		b--
	}
	return x[a:b]
}

// ActiveRMS is the RMS over frames of n samples within 30 dB of the
// loudest (the level of the speech, not of the pauses).
func ActiveRMS(x []float64, n int) float64 {
	var frames []float64
	top := 0.0
	for i := 0; i+n <= len(x); i += n {
		e := MeanSquare(x[i : i+n])
		frames = append(frames, e)
		top = max(top, e)
	}
	var sum float64
	var k int
	for _, e := range frames {
		if e >= top/1000 {
			sum += e
			k++
		}
	}
	if k == 0 {
		return math.Sqrt(MeanSquare(x))
	}
	return math.Sqrt(sum / float64(k))
}

// MeanSquare is the mean of the squared samples (0 for none).
func MeanSquare(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s / float64(len(x))
}

// BandPass applies a telephone 300-3400 Hz band-pass at 8 kHz in place
// (second-order high-pass and low-pass biquads, RBJ cookbook).
func BandPass(x []float64) {
	biquad(x, 300, true)
	biquad(x, 3400, false)
}

func biquad(x []float64, f0 float64, high bool) {
	w := 2 * math.Pi * f0 / audio.Rate8k
	alpha := math.Sin(w) / (2 * math.Sqrt2 / 2 * 2) // Q = 1/sqrt(2)
	cw := math.Cos(w)
	var b0, b1, b2 float64
	if high {
		b0, b1, b2 = (1+cw)/2, -(1 + cw), (1+cw)/2
	} else {
		b0, b1, b2 = (1-cw)/2, 1-cw, (1-cw)/2
	}
	a0, a1, a2 := 1+alpha, -2*cw, 1-alpha
	var x1, x2, y1, y2 float64
	for i, v := range x {
		y := (b0*v + b1*x1 + b2*x2 - a1*y1 - a2*y2) / a0
		x2, x1 = x1, v
		y2, y1 = y1, y
		x[i] = y
	}
}
