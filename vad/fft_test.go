package vad

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFFTMatchesDFT checks both transforms against the DFT's definition.
func TestFFTMatchesDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{8, 64, 512} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		wantRe, wantIm := make([]float64, n), make([]float64, n)
		for k := 0; k < n; k++ {
			for j, v := range x {
				a := -2 * math.Pi * float64(k*j) / float64(n)
				wantRe[k] += v * math.Cos(a)
				wantIm[k] += v * math.Sin(a)
			}
		}
		re, im := append([]float64(nil), x...), make([]float64, n)
		newFFT(n).transform(re, im)
		rre, rim := make([]float64, n/2+1), make([]float64, n/2+1)
		newRealFFT(n).transform(x, rre, rim)
		for k := 0; k < n; k++ {
			if math.Abs(re[k]-wantRe[k]) > 1e-9 || math.Abs(im[k]-wantIm[k]) > 1e-9 {
				t.Fatalf("n=%d complex bin %d: %v%+vi, want %v%+vi", n, k, re[k], im[k], wantRe[k], wantIm[k])
			}
			if k <= n/2 && (math.Abs(rre[k]-wantRe[k]) > 1e-9 || math.Abs(rim[k]-wantIm[k]) > 1e-9) {
				t.Fatalf("n=%d real bin %d: %v%+vi, want %v%+vi", n, k, rre[k], rim[k], wantRe[k], wantIm[k])
			}
		}
	}
}
