package main

import (
	"math"
	"math/rand/v2"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// telephone passes 8 kHz speech through a G.711 mu-law round trip and
// returns it at 16 kHz, the rate of the recognizer's acoustic model, with
// white noise at fill dBFS (RMS) in the 4.2-8 kHz band the telephone left
// empty (0 adds none). The band mismatch, not the codec, is what hurts a
// wideband model most (FIELD-NOTES.md).
func telephone(pcm8k []int16, fill float64) []int16 {
	var c codec.PCMU
	dec := c.Decode(nil, c.Encode(nil, pcm8k))
	up := audio.Resample(dec, audio.Rate8k, audio.Rate16k)
	if fill == 0 {
		return up
	}
	return addHighBand(up, fill, 1)
}

// addHighBand adds noise at level dBFS confined to the top half of the
// band: low-passed white noise shifted up by half the sample rate (every
// other sample negated mirrors the spectrum).
func addHighBand(pcm []int16, level float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	n := len(pcm)
	white := make([]int16, n/2+64)
	for i := range white {
		white[i] = int16(rng.NormFloat64() * 8000)
	}
	// White noise at 8 kHz upsampled to 16 kHz occupies 0-3.7 kHz;
	// mirrored, it occupies 4.3-8 kHz.
	low := audio.Resample(white, audio.Rate8k, audio.Rate16k)
	var sum float64
	for i := 0; i < n && i < len(low); i++ {
		sum += float64(low[i]) * float64(low[i])
	}
	rms := math.Sqrt(sum / float64(min(n, len(low))))
	gain := 32768 * math.Pow(10, level/20) / rms
	out := make([]int16, n)
	for i := range pcm {
		v := float64(pcm[i])
		if i < len(low) {
			s := float64(low[i]) * gain
			if i%2 == 1 {
				s = -s
			}
			v += s
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}
