package bwe

import "math"

// fft is an in-place iterative radix-2 complex FFT of one fixed size with
// precomputed twiddles and bit reversal, so a transform allocates nothing.
type fft struct {
	n        int
	cos, sin []float64 // cos/sin(2*pi*k/n), k < n/2
	reverse  []int
}

func newFFT(n int) *fft {
	f := &fft{n: n, cos: make([]float64, n/2), sin: make([]float64, n/2), reverse: make([]int, n)}
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

// transform computes X[k] = sum x[t] exp(sign * 2 pi i k t / n) of (re, im)
// in place; sign is -1 for the forward transform, +1 for the inverse
// (unscaled).
func (f *fft) transform(re, im []float64, sign float64) {
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
