package audio

import "math"

// Resample converts a whole clip between rates with a windowed-sinc
// low-pass filter (polyphase, rational ratio). It is meant for prompts and
// offline evaluation; the live path uses a streaming Resampler. The result
// has len(in)*to/from samples (rounded down), aligned with the input: the
// filter's delay is removed.
func Resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		out := make([]int16, len(in))
		copy(out, in)
		return out
	}
	r := NewResampler(from, to)
	want := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, 0, want+r.taps)
	out = r.Process(out, in)
	out = r.Flush(out)
	if len(out) > want {
		out = out[:want]
	}
	return out
}

// Filter design. The low-pass cut-off sits at the lower rate's Nyquist
// frequency; the Kaiser window (beta 8, about 80 dB stop-band) over
// 2*halfZeros zero crossings of the lower rate gives a transition band of
// about 0.125 of the lower rate: at 8 kHz the response is flat to 3.5 kHz
// and down by 80 dB from 4.5 kHz, so nothing aliases into the telephone band
// (300-3400 Hz).
const (
	halfZeros   = 20  // sinc zero crossings each side, at the lower rate
	kaiserBeta  = 8.0 // window shape
	cutFraction = 1.0 // cut-off as a fraction of the lower Nyquist frequency
)

// Resampler converts a stream of samples from one rate to another with a
// polyphase windowed-sinc filter. It keeps the filter history between calls,
// so frames can be fed one at a time without clicks at the seams. Process
// allocates nothing when out has room and in is no longer than 20 ms (longer
// chunks grow an internal buffer once). Not safe for concurrent use.
type Resampler struct {
	from, to int
	up, down int         // rational ratio to/from reduced: up/down
	taps     int         // taps per phase
	phases   [][]float32 // [up][taps] filter coefficients, reversed for a forward dot product
	hist     []float32   // last taps-1 input samples, then new input
	pos      int         // output phase accumulator, in units of 1/up input samples
	delay    int         // output samples still to drop for the filter's group delay
	delay0   int         // the initial value of delay, for Reset
}

// NewResampler returns a resampler from rate from to rate to (Hz). Both
// rates must be positive.
func NewResampler(from, to int) *Resampler {
	if from <= 0 || to <= 0 {
		from, to = max(from, 1), max(to, 1)
	}
	g := gcd(from, to)
	up, down := to/g, from/g
	ratio := math.Max(1, float64(down)/float64(up)) // > 1 when decimating
	cut := 0.5 * math.Min(1, float64(up)/float64(down)) * cutFraction
	taps := int(math.Ceil(2 * halfZeros * ratio))
	n := taps * up
	proto := make([]float64, n)
	mid := float64(n / 2) // an integer centre keeps whole-sample alignment
	i0beta := besselI0(kaiserBeta)
	for i := range proto {
		x := (float64(i) - mid) / float64(up) // in input samples
		var s float64
		if x == 0 {
			s = 2 * cut
		} else {
			s = math.Sin(2*math.Pi*cut*x) / (math.Pi * x)
		}
		u := (float64(i) - mid) / (float64(n) / 2) // window position in [-1, 1]
		w := 0.0
		if u > -1 && u < 1 {
			w = besselI0(kaiserBeta*math.Sqrt(1-u*u)) / i0beta
		}
		proto[i] = s * w
	}
	phases := make([][]float32, up)
	for p := 0; p < up; p++ {
		phases[p] = make([]float32, taps)
		for t := 0; t < taps; t++ {
			phases[p][t] = float32(proto[p+(taps-1-t)*up])
		}
	}
	r := &Resampler{from: from, to: to, up: up, down: down, taps: taps, phases: phases}
	r.hist = make([]float32, taps-1, taps-1+from/50+1)
	r.delay0 = (n / 2) / down
	r.delay = r.delay0
	return r
}

// besselI0 is the modified Bessel function of the first kind, order zero,
// by its power series (converges fast for the arguments a window uses).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// InRate is the input rate in Hz.
func (r *Resampler) InRate() int { return r.from }

// OutRate is the output rate in Hz.
func (r *Resampler) OutRate() int { return r.to }

// Delay is the filter's group delay in output samples. The resampler drops
// that many samples at the start of the stream, so output stays aligned with
// input; Flush pushes the last ones out.
func (r *Resampler) Delay() int { return r.delay0 }

// Reset forgets the stream, as if newly made.
func (r *Resampler) Reset() {
	clear(r.hist[:cap(r.hist)])
	r.hist = r.hist[:r.taps-1]
	r.pos = 0
	r.delay = r.delay0
}

// Process appends the resampled form of in to out and returns it.
func (r *Resampler) Process(out []int16, in []int16) []int16 {
	for _, s := range in {
		r.hist = append(r.hist, float32(s))
	}
	// Output sample k uses input position pos/up; produce while the filter's
	// window is fully inside hist.
	for {
		base := r.pos / r.up
		if base+r.taps > len(r.hist) {
			break
		}
		ph := r.phases[r.pos%r.up]
		win := r.hist[base : base+len(ph)]
		var a0, a1, a2, a3 float32
		t := 0
		for ; t+4 <= len(ph); t += 4 {
			a0 += ph[t] * win[t]
			a1 += ph[t+1] * win[t+1]
			a2 += ph[t+2] * win[t+2]
			a3 += ph[t+3] * win[t+3]
		}
		for ; t < len(ph); t++ {
			a0 += ph[t] * win[t]
		}
		acc := (a0 + a1) + (a2 + a3)
		r.pos += r.down
		if r.delay > 0 {
			r.delay--
			continue
		}
		if acc >= 0 {
			acc += 0.5
		} else {
			acc -= 0.5
		}
		out = append(out, clamp16(int(acc)))
	}
	// Drop consumed input, keep taps-1 of history.
	consumed := r.pos / r.up
	if consumed > 0 {
		if consumed > len(r.hist) {
			consumed = len(r.hist)
		}
		n := copy(r.hist, r.hist[consumed:])
		r.hist = r.hist[:n]
		r.pos -= consumed * r.up
	}
	return out
}

// Flush pushes zeros through the filter so the tail of the input comes out.
// The stream may continue afterwards, but the zeros are part of it.
func (r *Resampler) Flush(out []int16) []int16 {
	var zeros [64]int16
	for left := r.taps; left > 0; left -= len(zeros) {
		out = r.Process(out, zeros[:min(left, len(zeros))])
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
