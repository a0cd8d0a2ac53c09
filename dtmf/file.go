package dtmf

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/openivr/ivr/audio"
)

// DetectClip runs a live-call Receiver over a whole recording in 20 ms
// frames and returns the keys it emitted, in order. Audio at 8 or 16 kHz is
// used as is; other rates are resampled to 8 kHz (below 16 kHz) or 16 kHz
// (16 kHz and above), the rates calls deliver.
func DetectClip(c audio.Clip) (string, error) {
	digits, err := DetectClipDigits(c)
	if err != nil {
		return "", err
	}
	b := make([]byte, len(digits))
	for i, d := range digits {
		b[i] = d.Key
	}
	return string(b), nil
}

// DetectClipDigits is DetectClip returning the digits with their details.
// Digit.At counts audio time from the Unix epoch, so At.Sub(time.Unix(0,
// 0)) is the offset into the recording where the digit was emitted (the
// end of the 20 ms frame that completed it).
func DetectClipDigits(c audio.Clip) ([]Digit, error) {
	if c.Rate <= 0 {
		return nil, fmt.Errorf("dtmf: clip rate %d", c.Rate)
	}
	samples, rate := c.Samples, c.Rate
	switch {
	case rate == audio.Rate8k || rate == audio.Rate16k:
	case rate < audio.Rate16k:
		samples, rate = audio.Resample(samples, rate, audio.Rate8k), audio.Rate8k
	default:
		samples, rate = audio.Resample(samples, rate, audio.Rate16k), audio.Rate16k
	}
	var pos int // samples fed so far; the receiver's clock is audio time
	clock := func() time.Time {
		return time.Unix(0, 0).Add(time.Duration(pos) * time.Second / time.Duration(rate))
	}
	var out []Digit
	r := NewReceiver(rate, func(d Digit) { out = append(out, d) }, WithClock(clock))
	if !r.InBand() {
		return nil, fmt.Errorf("dtmf: rate %d not supported", rate)
	}
	frame := audio.SamplesPer(rate, audio.FrameDuration)
	for len(samples) > 0 {
		n := min(frame, len(samples))
		pos += n
		r.WritePCM(samples[:n])
		samples = samples[n:]
	}
	return out, nil
}

// DetectFile reads a WAV file (any common rate and depth, mixed to mono)
// and returns the keys a live call's Receiver finds in it; see DetectClip.
func DetectFile(path string) (string, error) {
	c, err := readWAV(path)
	if err != nil {
		return "", err
	}
	return DetectClip(c)
}

// readWAV decodes a WAV file from memory: the WAV decoder reads in small
// pieces, which from an unbuffered file costs a system call each.
func readWAV(path string) (audio.Clip, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return audio.Clip{}, err
	}
	c, err := audio.ReadWAV(bytes.NewReader(b))
	if err != nil {
		return audio.Clip{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
