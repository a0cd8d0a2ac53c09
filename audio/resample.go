package audio

import "math"

// Resample converts a whole clip between rates with a windowed-sinc
// low-pass filter (polyphase, rational ratio). It is meant for prompts and
// offline evaluation; the live path uses a streaming Resampler.
func Resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		out := make([]int16, len(in))
		copy(out, in)
		return out
	}
	r := NewResampler(from, to)
	out := r.Process(nil, in)
	out = r.Flush(out)
	if want := int(int64(len(in)) * int64(to) / int64(from)); len(out) > want {
		out = out[:want]
	}
	return out
}

// Resampler converts a stream of samples from one rate to another with a
// polyphase windowed-sinc filter. It keeps the filter history between calls,
// so frames can be fed one at a time without clicks at the seams.
type Resampler struct {
	from, to int
	up, down int       // rational ratio to/from reduced: up/down
	taps     int       // taps per phase
	phases   [][]float32 // [up][taps] filter coefficients
	hist     []float32 // last taps-1 input samples, then new input
	pos      int       // output phase accumulator, in units of 1/up input samples
	delay    int       // output samples still to drop for the filter's group delay
}

// NewResampler returns a resampler from rate from to rate to (Hz).
func NewResampler(from, to int) *Resampler {
	g := gcd(from, to)
	up, down := to/g, from/g
	// Cut-off at the lower Nyquist frequency, a little inside it.
	cut := 0.5 * math.Min(1, float64(up)/float64(down)) * 0.92
	const halfZeros = 12 // zero crossings each side at the lower rate
	taps := 2 * halfZeros * int(math.Max(1, float64(down)/float64(up)))
	if taps < 8 {
		taps = 8
	}
	n := taps * up
	proto := make([]float64, n)
	mid := float64(n / 2) // an integer centre keeps whole-sample alignment
	for i := range proto {
		x := (float64(i) - mid) / float64(up)
		var s float64
		if x == 0 {
			s = 2 * cut
		} else {
			s = math.Sin(2*math.Pi*cut*x) / (math.Pi * x)
		}
		// Blackman window.
		u := 0.5 + (float64(i)-mid)/float64(n) // window position in [0,1]
		w := 0.42 - 0.5*math.Cos(2*math.Pi*u) + 0.08*math.Cos(4*math.Pi*u)
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
	r.hist = make([]float32, taps-1)
	r.delay = (n / 2) / down
	return r
}

// InRate is the input rate in Hz.
func (r *Resampler) InRate() int { return r.from }

// OutRate is the output rate in Hz.
func (r *Resampler) OutRate() int { return r.to }

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
		var acc float32
		win := r.hist[base : base+r.taps]
		for t, c := range ph {
			acc += c * win[t]
		}
		r.pos += r.down
		if r.delay > 0 {
			r.delay--
			continue
		}
		out = append(out, clamp16(int(math.Round(float64(acc)))))
	}
	// Drop consumed input, keep taps-1 of history.
	consumed := r.pos / r.up
	if consumed > 0 {
		n := copy(r.hist, r.hist[consumed:])
		r.hist = r.hist[:n]
		r.pos -= consumed * r.up
	}
	return out
}

// Flush pushes zeros through the filter so the tail of the input comes out.
func (r *Resampler) Flush(out []int16) []int16 {
	zeros := make([]int16, r.taps)
	return r.Process(out, zeros)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
