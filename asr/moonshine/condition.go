package moonshine

import (
	"math"
	"time"

	"github.com/openivr/ivr/asr"
)

// Conditioning prepares 16 kHz audio for the encoder.
type Conditioning struct {
	// PeakTarget scales the clip so that its loudest sample reaches this
	// fraction of full scale (0 leaves the level alone). Gain is capped
	// by MaxGainDB.
	PeakTarget float64
	// TargetDB, when non-zero, scales the clip so that its speech level
	// (asr.SpeechLevel) is this many dBFS instead; it takes precedence
	// over PeakTarget. The peak is still kept under full scale.
	TargetDB float64
	// MaxGainDB caps the normalisation gain (0: 30 dB).
	MaxGainDB float64
	// TrimBelowDB, when positive, cuts leading and trailing 20 ms frames
	// whose energy is more than this many dB under the loudest frame,
	// keeping TrimPad of audio on each side of what remains.
	TrimBelowDB float64
	TrimPad     time.Duration
	// PadLead and PadTrail add silence before and after the audio.
	PadLead, PadTrail time.Duration
	// Band, when not nil, conditions narrowband input with the
	// project's conditioner (band-fill noise, mirror image, bandwidth
	// extension) instead of plain resampling.
	Band *asr.ConditionConfig
}

// DefaultConditioning is the conditioning tuned on the dev splits.
var DefaultConditioning = Conditioning{PeakTarget: 0.9}

// modelRate is the encoder's sample rate.
const modelRate = 16000

// prepare returns the encoder input for 16 kHz samples: trimmed, scaled
// to [-1, 1] and normalised per c.
func prepare(s []int16, c Conditioning) []float32 {
	if c.TrimBelowDB > 0 {
		s = trim(s, c.TrimBelowDB, c.TrimPad)
	}
	out := make([]float32, len(s))
	peak := 0
	for _, v := range s {
		a := int(v)
		if a < 0 {
			a = -a
		}
		peak = max(peak, a)
	}
	g := 1.0 / 32768
	maxGain := c.MaxGainDB
	if maxGain <= 0 {
		maxGain = 30
	}
	switch {
	case peak == 0:
	case c.TargetDB != 0:
		lvl := asr.SpeechLevel(s, modelRate)
		g = math.Pow(10, min(maxGain, c.TargetDB-lvl)/20) / 32768
		g = min(g, 1/float64(peak))
	case c.PeakTarget > 0:
		g = min(c.PeakTarget/float64(peak), math.Pow(10, maxGain/20)/32768)
	}
	lead := int(c.PadLead.Seconds() * modelRate)
	trail := int(c.PadTrail.Seconds() * modelRate)
	if lead > 0 || trail > 0 {
		out = make([]float32, lead+len(s)+trail)
	}
	for i, v := range s {
		out[lead+i] = float32(float64(v) * g)
	}
	return out
}

// trim drops leading and trailing 20 ms frames more than belowDB under
// the loudest frame, keeping pad on each side.
func trim(s []int16, belowDB float64, pad time.Duration) []int16 {
	const n = modelRate / 50
	nf := len(s) / n
	if nf < 3 {
		return s
	}
	e := make([]float64, nf)
	top := 0.0
	for f := range nf {
		var sum float64
		for _, v := range s[f*n : (f+1)*n] {
			sum += float64(v) * float64(v)
		}
		e[f] = sum / n
		top = max(top, e[f])
	}
	if top == 0 {
		return s
	}
	thr := top * math.Pow(10, -belowDB/10)
	first, last := -1, -1
	for f, v := range e {
		if v >= thr {
			if first < 0 {
				first = f
			}
			last = f
		}
	}
	p := int(pad.Seconds() * modelRate)
	from := max(0, first*n-p)
	to := min(len(s), (last+1)*n+p)
	return s[from:to]
}
