package audio

import (
	"math"
	"sort"
)

// Frequencies (Hz) that HighBandDB compares: the top of the telephone band,
// and the band above it that only wideband recordings fill (clear of the
// 4-4.5 kHz transition of any 8 kHz resampler).
var (
	bandEdgeLow  = []float64{2600, 2800, 3000, 3200}
	bandEdgeHigh = []float64{4800, 5200, 5600, 6000}
)

// HighBandDB says how much of a clip's sound lies above the telephone
// band: the power at 4.8-6 kHz relative to 2.6-3.2 kHz, in dB, over the
// clip's loudest frames. Speech recorded wideband keeps fricatives and
// breath up there (about -25 to +5 dB); audio that went through an 8 kHz
// channel and was only stored at a higher rate has the resampler's residue
// (below -40 dB). Clips at 11 kHz or less, and silence, give -Inf.
func HighBandDB(samples []int16, rate int) float64 {
	if rate < 11025 || len(samples) == 0 {
		return math.Inf(-1)
	}
	n := rate * 32 / 1000 // 32 ms frames, half overlapping
	win := make([]float64, n)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
	}
	type frame struct{ low, high float64 }
	var frames []frame
	for off := 0; off+n <= len(samples); off += n / 2 {
		var f frame
		for _, hz := range bandEdgeLow {
			f.low += goertzel(samples[off:off+n], win, hz, rate)
		}
		for _, hz := range bandEdgeHigh {
			if hz < 0.45*float64(rate) {
				f.high += goertzel(samples[off:off+n], win, hz, rate)
			}
		}
		frames = append(frames, f)
	}
	if len(frames) == 0 {
		return math.Inf(-1)
	}
	// The loudest 30 % of frames at the top of the telephone band: where
	// the caller speaks, not the pauses.
	sort.Slice(frames, func(i, j int) bool { return frames[i].low > frames[j].low })
	k := max(1, len(frames)*3/10)
	var low, high float64
	for _, f := range frames[:k] {
		low += f.low
		high += f.high
	}
	if low == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10((high+1e-12)/low)
}

// goertzel is the windowed signal's power at one frequency.
func goertzel(x []int16, win []float64, hz float64, rate int) float64 {
	c := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2 float64
	for i, v := range x {
		s := float64(v)*win[i] + c*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// NarrowbandBelowDB is the HighBandDB under which a clip stored at a wide
// rate is treated as telephone audio.
const NarrowbandBelowDB = -40

// Narrowband reports whether a clip stored at more than 8 kHz carries only
// telephone-band content (see HighBandDB), so a recognizer should hear it
// as 8 kHz audio.
func Narrowband(samples []int16, rate int) bool {
	return rate > Rate8k && HighBandDB(samples, rate) < NarrowbandBelowDB
}
