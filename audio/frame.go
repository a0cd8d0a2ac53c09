// Package audio holds the PCM types every media stage shares: a frame of
// mono 16-bit samples at a known rate, WAV input and output, and resampling.
package audio

import "time"

// Common sample rates, in Hz.
const (
	Rate8k  = 8000
	Rate16k = 16000
	Rate48k = 48000
)

// FrameDuration is the packetization interval of the media path.
const FrameDuration = 20 * time.Millisecond

// Frame is a block of mono signed 16-bit linear PCM.
// Samples is owned by the producer of the frame: a stage that keeps samples
// after returning must copy them.
type Frame struct {
	Rate    int     // Hz
	Samples []int16 // mono, linear
}

// Duration is the playing time of the frame.
func (f Frame) Duration() time.Duration {
	if f.Rate <= 0 {
		return 0
	}
	return time.Duration(len(f.Samples)) * time.Second / time.Duration(f.Rate)
}

// SamplesPer returns how many samples at rate fit in d.
func SamplesPer(rate int, d time.Duration) int {
	return int(int64(rate) * int64(d) / int64(time.Second))
}

// Sink is a push-style stage that receives frames. Write must not block on
// anything slower than computation: sinks are called from media goroutines.
type Sink interface {
	WriteFrame(f Frame) error
	// String names the stage and what it feeds, for logs.
	String() string
}
