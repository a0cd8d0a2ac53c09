package dtmf

import (
	"fmt"
	"math"
	"time"
)

// Frequencies returns the row (low) and column (high) frequencies of key,
// in Hz, per ITU-T Q.23.
func Frequencies(key byte) (row, col float64, ok bool) {
	k, ok := normalizeKey(key)
	if !ok {
		return 0, 0, false
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == k {
			return rowFreqs[i/4], colFreqs[i%4], true
		}
	}
	return 0, 0, false
}

// maxToneDuration bounds Tone so a bad argument cannot allocate gigabytes.
const maxToneDuration = time.Minute

// Tone returns the dual tone of key lasting dur at rate Hz, each of its two
// frequencies at levelDBFS (dB relative to a full-scale sine; two tones at
// -6 dBFS just reach full scale together, and -10 dBFS per tone is about the
// -7 dBm0 a telephone sends). It returns nil for an invalid key, a rate
// outside 1-192 kHz, a duration outside (0, 1 min] or a level above 0 dBFS.
func Tone(key byte, rate int, dur time.Duration, levelDBFS float64) []int16 {
	row, col, ok := Frequencies(key)
	if !ok || rate < 1000 || rate > 192000 || dur <= 0 || dur > maxToneDuration || !(levelDBFS <= 0) {
		return nil
	}
	n := int(int64(dur) * int64(rate) / int64(time.Second))
	out := make([]int16, n)
	a := 32767 * math.Pow(10, levelDBFS/20)
	wr := 2 * math.Pi * row / float64(rate)
	wc := 2 * math.Pi * col / float64(rate)
	for i := range out {
		v := a * (math.Sin(wr*float64(i)) + math.Sin(wc*float64(i)))
		out[i] = int16(math.Max(-32768, math.Min(32767, math.Round(v))))
	}
	return out
}

// Tones returns keys as a sequence of dual tones, each on for on and
// followed by off of silence, for sending digits in-band.
func Tones(keys string, rate int, on, off time.Duration, levelDBFS float64) ([]int16, error) {
	if rate < 1000 || rate > 192000 {
		return nil, fmt.Errorf("dtmf: rate %d out of range", rate)
	}
	if off < 0 || off > maxToneDuration {
		return nil, fmt.Errorf("dtmf: pause %s out of range", off)
	}
	var out []int16
	gap := make([]int16, int(int64(off)*int64(rate)/int64(time.Second)))
	for i := 0; i < len(keys); i++ {
		t := Tone(keys[i], rate, on, levelDBFS)
		if t == nil {
			return nil, fmt.Errorf("%w: %q (or bad rate, duration or level)", ErrInvalidKey, keys[i])
		}
		out = append(out, t...)
		out = append(out, gap...)
	}
	return out, nil
}
