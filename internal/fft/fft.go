// Package fft is a radix-2 FFT of one fixed size with precomputed twiddle
// factors, for the per-frame spectra of the audio pipeline (voice activity,
// bandwidth extension): a transform allocates nothing.
package fft

import "math"

// FFT is an in-place iterative radix-2 complex FFT of one fixed size with
// precomputed twiddle factors and bit-reversal table, so a transform
// allocates nothing. It is safe for concurrent use (it holds no scratch).
type FFT struct {
	n       int
	cos     []float64 // cos(2*pi*k/n), k < n/2
	sin     []float64 // sin(2*pi*k/n), k < n/2
	reverse []int     // bit-reversed index of each position
}

// New returns a transform of size n, which must be a power of two >= 2.
func New(n int) *FFT {
	f := &FFT{n: n, cos: make([]float64, n/2), sin: make([]float64, n/2), reverse: make([]int, n)}
	for k := range f.cos {
		a := 2 * math.Pi * float64(k) / float64(n)
		f.cos[k], f.sin[k] = math.Cos(a), math.Sin(a)
	}
	bits := 0
	for 1<<bits < n {
		bits++
	}
	for i := range f.reverse {
		r := 0
		for b := 0; b < bits; b++ {
			if i&(1<<b) != 0 {
				r |= 1 << (bits - 1 - b)
			}
		}
		f.reverse[i] = r
	}
	return f
}

// Transform computes the forward DFT X[k] = sum x[t] exp(-2 pi i k t / n)
// of (re, im) in place. Both slices must have length n.
func (f *FFT) Transform(re, im []float64) { f.transform(re, im, -1) }

// Inverse computes the unscaled inverse DFT x[t] = sum X[k] exp(2 pi i k t
// / n) of (re, im) in place (divide by n for the inverse of Transform).
func (f *FFT) Inverse(re, im []float64) { f.transform(re, im, 1) }

func (f *FFT) transform(re, im []float64, sign float64) {
	n := f.n
	re, im = re[:n], im[:n]
	for i, r := range f.reverse {
		if i < r {
			re[i], re[r] = re[r], re[i]
			im[i], im[r] = im[r], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		step := n / size
		for start := 0; start < n; start += size {
			for k := 0; k < half; k++ {
				wr, wi := f.cos[k*step], sign*f.sin[k*step]
				a, b := start+k, start+k+half
				tr := re[b]*wr - im[b]*wi
				ti := re[b]*wi + im[b]*wr
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a] += tr
				im[a] += ti
			}
		}
	}
}

// Real transforms real sequences of length 2n with one complex
// transform of length n: the even samples go in the real part, the odd ones
// in the imaginary part, and the spectra are separated afterwards.
type Real struct {
	half   *FFT
	n      int       // real length
	wr, wi []float64 // exp(-2 pi i k / n), k <= n/4 ... n/2
	zr, zi []float64 // scratch of length n/2
}

// NewReal returns a transform of real sequences of length n (a power of
// two >= 4). It keeps scratch space: one Real serves one goroutine.
func NewReal(n int) *Real {
	r := &Real{half: New(n / 2), n: n, wr: make([]float64, n/2+1), wi: make([]float64, n/2+1),
		zr: make([]float64, n/2), zi: make([]float64, n/2)}
	for k := range r.wr {
		a := 2 * math.Pi * float64(k) / float64(n)
		r.wr[k], r.wi[k] = math.Cos(a), -math.Sin(a)
	}
	return r
}

// Transform computes X[k] for k = 0..n/2 of the real sequence x (length n)
// into re and im (length n/2+1).
func (r *Real) Transform(x, re, im []float64) {
	h := r.n / 2
	zr, zi := r.zr[:h], r.zi[:h]
	x = x[:r.n]
	for i := range zr {
		zr[i], zi[i] = x[2*i], x[2*i+1]
	}
	r.half.Transform(zr, zi)
	re, im = re[:h+1], im[:h+1]
	re[0], im[0] = zr[0]+zi[0], 0
	re[h], im[h] = zr[0]-zi[0], 0
	for k := 1; k < h; k++ {
		// E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i.
		ar, ai := zr[k], zi[k]
		br, bi := zr[h-k], -zi[h-k]
		er, ei := (ar+br)/2, (ai+bi)/2
		or, oi := (ai-bi)/2, -(ar-br)/2
		wr, wi := r.wr[k], r.wi[k]
		re[k] = er + wr*or - wi*oi
		im[k] = ei + wr*oi + wi*or
	}
}
