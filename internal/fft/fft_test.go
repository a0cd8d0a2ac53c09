package fft

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
		New(n).Transform(re, im)
		rre, rim := make([]float64, n/2+1), make([]float64, n/2+1)
		NewReal(n).Transform(x, rre, rim)
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

func TestFFTInverse(t *testing.T) {
	f := New(64)
	re, im := make([]float64, 64), make([]float64, 64)
	orig := make([]float64, 64)
	for i := range re {
		re[i] = math.Sin(float64(i)*0.7) + float64(i%5)
		orig[i] = re[i]
	}
	f.Transform(re, im)
	// Bin 0 is the sum.
	var s float64
	for _, v := range orig {
		s += v
	}
	if math.Abs(re[0]-s) > 1e-9 {
		t.Fatalf("DC %g, want %g", re[0], s)
	}
	f.Inverse(re, im)
	for i := range re {
		if math.Abs(re[i]/64-orig[i]) > 1e-9 || math.Abs(im[i]/64) > 1e-9 {
			t.Fatalf("inverse: sample %d %g, want %g", i, re[i]/64, orig[i])
		}
	}
}
