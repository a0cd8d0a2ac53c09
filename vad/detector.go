// Package vad detects voice activity in telephone audio and turns the
// per-frame speech probability into turn-taking events (speech start for
// barge-in, speech end, maximum utterance, no input).
//
// The Detector is pure Go and allocation-free per frame (its cost per
// 20 ms frame is measured in BENCHMARKS.md). It analyses 8 kHz audio (16
// and 48 kHz input is decimated first, so wideband content above 4 kHz is
// not used) with spectral, pitch, modulation, partial-persistence and beat
// features, each also averaged over about 200 ms, 1 s and 3 s, an adaptive
// minimum-statistics noise floor, and a small two-layer neural network
// trained on a labelled mix of real speech, silence, line noise, tones and
// music (see package vad/vadeval and train_test.go).
package vad

import (
	"errors"
	"fmt"

	"github.com/openivr/ivr/audio"
)

// ErrRate reports a sample rate the detector does not accept.
var ErrRate = errors.New("vad: unsupported sample rate")

// HopDuration is the analysis step: the detector produces one probability
// per 20 ms of input, whatever the rate.
const HopDuration = audio.FrameDuration

// Config tunes a Detector. The zero value is the default.
type Config struct {
	// Smoothing is the weight in [0, 1) of the previous output in a
	// first-order smoothing of the probability; 0 reports each hop's raw
	// probability.
	Smoothing float32
}

// Detector estimates, for each 20 ms of audio, the probability that it
// holds speech. One Detector serves one stream and is not safe for
// concurrent use.
type Detector struct {
	rate  int
	cfg   Config
	rs    *audio.Resampler // to 8 kHz; nil at 8 kHz
	rsOut []int16          // scratch for resampled audio, reused
	hop   [hopLen]float64  // 8 kHz samples waiting for a full hop
	hopN  int
	ext   *extractor
	feats [numFeatures]float64
	prob  float32
	hops  int
	model *mlp
}

// New returns a detector for mono 16-bit PCM at rate Hz (8000, 16000 or
// 48000).
func New(rate int, cfg Config) (*Detector, error) {
	switch rate {
	case 8000, 16000, 48000:
	default:
		return nil, fmt.Errorf("%w: %d Hz", ErrRate, rate)
	}
	if cfg.Smoothing < 0 || cfg.Smoothing >= 1 {
		return nil, fmt.Errorf("vad: smoothing %v outside [0, 1)", cfg.Smoothing)
	}
	if builtinErr != nil {
		return nil, builtinErr
	}
	d := &Detector{rate: rate, cfg: cfg, model: &builtin}
	d.ext = newExtractor()
	if rate != analysisRate {
		d.rs = audio.NewResampler(rate, analysisRate)
		d.rsOut = make([]int16, 0, 2*hopLen)
	}
	return d, nil
}

// Rate is the input sample rate in Hz.
func (d *Detector) Rate() int { return d.rate }

// FrameSize is the number of input samples in one 20 ms frame.
func (d *Detector) FrameSize() int { return d.rate / 50 }

// Process feeds samples (normally one 20 ms frame, FrameSize samples) and
// returns the speech probability of the most recent complete 20 ms hop, in
// [0, 1]. Any length is accepted: 10 ms frames work (the probability then
// changes every other call), and so do odd chunk sizes. Before the first
// complete hop it returns 0.
func (d *Detector) Process(samples []int16) float32 {
	if d.rs == nil {
		d.feed(samples)
		return d.prob
	}
	// Resample in pieces of at most one input frame so the scratch buffer
	// never grows.
	step := d.rate / 50
	for len(samples) > 0 {
		n := min(step, len(samples))
		d.rsOut = d.rs.Process(d.rsOut[:0], samples[:n])
		d.feed(d.rsOut)
		samples = samples[n:]
	}
	return d.prob
}

// Hops is the number of 20 ms hops analysed since New or Reset.
func (d *Detector) Hops() int { return d.hops }

// Reset forgets all state, as at the start of a new call.
func (d *Detector) Reset() {
	d.ext.reset()
	if d.rs != nil {
		d.rs = audio.NewResampler(d.rate, analysisRate)
	}
	d.hopN, d.prob, d.hops = 0, 0, 0
}

func (d *Detector) feed(s []int16) {
	for len(s) > 0 {
		k := min(hopLen-d.hopN, len(s))
		for i := 0; i < k; i++ {
			d.hop[d.hopN+i] = float64(s[i]) / 32768
		}
		d.hopN += k
		s = s[k:]
		if d.hopN == hopLen {
			d.ext.extract(d.hop[:], &d.feats)
			p := float32(d.model.prob(&d.feats))
			if a := d.cfg.Smoothing; a > 0 && d.hops > 0 {
				p = a*d.prob + (1-a)*p
			}
			d.prob = p
			d.hops++
			d.hopN = 0
		}
	}
}
