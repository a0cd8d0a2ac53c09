package hold

import "math"

// pattern generates the fallback music: a soft arpeggio over the chords
// I-vi-IV-V in C, bell-like notes (fast attack, slow decay) over a quiet
// bass, about 9 s that loop. Notes overlap, so it never falls silent; the
// phrase releases to zero at its end, so the loop joins without a click and
// the end is a natural break for announcements. Its peak stays near -16 dBFS:
// present on any phone, never loud.
func pattern(rate int) []int16 {
	const (
		noteDur = 0.5 // s between arpeggio notes
		tail    = 1.2 // s the phrase rings on after its last note
		decay   = 0.7 // s, note amplitude time constant
		attack  = 0.012
		release = 0.25 // s, the phrase's final fade to zero
		level   = 2600.0
	)
	// Arpeggio notes (Hz), four per chord: C, Am, F, G.
	chords := [][4]float64{
		{523.25, 659.25, 783.99, 1046.50},
		{440.00, 523.25, 659.25, 880.00},
		{349.23, 440.00, 523.25, 698.46},
		{392.00, 493.88, 587.33, 783.99},
	}
	bass := []float64{261.63, 220.00, 174.61, 196.00}
	notes := 4 * len(chords)
	n := int(float64(rate) * (noteDur*float64(notes) + tail))
	buf := make([]float64, n)
	add := func(start int, f, amp, tau float64) {
		w := 2 * math.Pi * f / float64(rate)
		for i := start; i < n; i++ {
			t := float64(i-start) / float64(rate)
			env := math.Exp(-t / tau)
			if env < 1e-3 {
				break
			}
			if t < attack {
				env *= t / attack
			}
			x := float64(i - start)
			// A touch of second harmonic: warmer than a bare sine.
			buf[i] += amp * env * (math.Sin(w*x) + 0.2*math.Sin(2*w*x))
		}
	}
	for c, chord := range chords {
		bar := int(float64(rate) * noteDur * 4 * float64(c))
		add(bar, bass[c], 0.45*level, 1.6)
		for k, f := range chord {
			add(bar+int(float64(rate)*noteDur*float64(k)), f, level, decay)
		}
	}
	rel := int(float64(rate) * release)
	out := make([]int16, n)
	for i, v := range buf {
		if left := n - i; left < rel {
			v *= 0.5 - 0.5*math.Cos(math.Pi*float64(left)/float64(rel))
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}
