package dtmf

// 16 kHz input. A call at 16 kHz is detected at 8 kHz: a 7-tap half-band
// filter (-1, 0, 9, 16, 9, 0, -1)/32 halves the rate before the eight
// Goertzel filters, which halves their work, the largest part of the
// cost. Over the DTMF band it is flat to 0.25 dB (-0.01 dB at 697 Hz,
// -0.25 dB at 1633 Hz, inside every twist and level margin) and it
// attenuates what would fold onto that band (6.3-7.3 kHz) by 31 dB or
// more. The energy the share checks compare the tones with is still
// measured on the 16 kHz input, so speech or noise above 4 kHz counts as
// it did before; the weak path's confirmation sees the 8 kHz signal, as
// on an 8 kHz call. Detection times are reported in input samples.

// halfBand is the decimator's state.
type halfBand struct {
	on      bool
	h       [5]float64 // the five input samples before the next pair, oldest first
	pending bool       // the first sample of the next pair has arrived
	a       float64    // that sample
	yb      [64]int16  // filtered samples for the weak path's history
}

// processHalf is Process for 16 kHz input. Each output stands for a pair
// of input samples (a, b); with h0..h4 the five before them, the window
// is h0 h1 h2 h3 h4 a b, centred on h3 (the taps at h1 and a are zero).
func (d *Detector) processHalf(samples []int16, out []Detection) []Detection {
	hb := &d.hb
	for len(samples) > 0 {
		// Produce at most what completes the current sub-block.
		want := min(d.block-d.n, len(hb.yb))
		h0, h1, h2, h3, h4 := hb.h[0], hb.h[1], hb.h[2], hb.h[3], hb.h[4]
		var e float64
		ny, i := 0, 0
		s, t := d.s1, d.s2
		k := &d.coef
		for ny < want && i < len(samples) {
			var a float64
			if hb.pending {
				a, hb.pending = hb.a, false // the pair begun in the last call
			} else {
				if i+1 >= len(samples) {
					hb.a, hb.pending = float64(samples[i]), true
					i++
					break
				}
				a = float64(samples[i])
				i++
			}
			b := float64(samples[i])
			i++
			f := (16*h3 + 9*(h2+h4) - (h0 + b)) * (1.0 / 32)
			e += a*a + b*b
			h0, h1, h2, h3, h4 = h2, h3, h4, a, b
			hb.yb[ny] = int16(f * histScale)
			ny++
			s[0], t[0] = k[0]*s[0]+(f-t[0]), s[0]
			s[1], t[1] = k[1]*s[1]+(f-t[1]), s[1]
			s[2], t[2] = k[2]*s[2]+(f-t[2]), s[2]
			s[3], t[3] = k[3]*s[3]+(f-t[3]), s[3]
			s[4], t[4] = k[4]*s[4]+(f-t[4]), s[4]
			s[5], t[5] = k[5]*s[5]+(f-t[5]), s[5]
			s[6], t[6] = k[6]*s[6]+(f-t[6]), s[6]
			s[7], t[7] = k[7]*s[7]+(f-t[7]), s[7]
		}
		d.s1, d.s2 = s, t
		hb.h = [5]float64{h0, h1, h2, h3, h4}
		d.energy += e * 0.5
		samples = samples[i:]
		if d.hist != nil {
			d.record(hb.yb[:ny])
		}
		d.n += ny
		d.samples += int64(ny)
		if d.n == d.block {
			out = d.endBlock(out)
		}
	}
	return out
}

// histScale scales the filtered samples for the weak path's int16
// history so that they cannot overflow: the filter's taps sum to 36/32 in
// magnitude, so |y| <= 36864, and 36864 * 0.888 < 32767. The
// confirmation's measures are all ratios, so the scale does not matter.
const histScale = 0.888
