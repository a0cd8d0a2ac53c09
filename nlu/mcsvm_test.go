package nlu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSolveCSSub checks the closed-form sub-problem against its
// constraints: the alphas sum to zero, the true class's lies in [0, C],
// the others are at most zero, and the solution is no worse than nearby
// feasible points.
func TestSolveCSSub(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		n := 2 + rng.IntN(8)
		ai := 0.1 + 3*rng.Float64()
		c := 0.2 + 2*rng.Float64()
		yi := rng.IntN(n + 1) // n: the true class is shrunk away
		B := make([]float64, n)
		for m := range B {
			B[m] = 4*rng.Float64() - 2
		}
		D := make([]float64, n)
		a := make([]float64, n)
		solveCSSub(ai, yi, c, B, D, a)
		obj := func(a []float64) float64 {
			s := 0.0
			for m := range a {
				s += ai/2*a[m]*a[m] + B[m]*a[m]
			}
			return s
		}
		sum := 0.0
		for m, v := range a {
			sum += v
			if m == yi && (v < -1e-9 || v > c+1e-9) || m != yi && v > 1e-9 {
				t.Fatalf("trial %d: alpha[%d] = %v out of bounds (yi %d, C %v)", trial, m, v, yi, c)
			}
		}
		if yi < n && math.Abs(sum) > 1e-9 {
			t.Fatalf("trial %d: alphas sum to %v", trial, sum)
		}
		if yi >= n {
			continue // all alphas <= 0 and sum 0: only zero is feasible
		}
		// Moving mass between the true class and another keeps the sum.
		f0 := obj(a)
		for m := range n {
			if m == yi {
				continue
			}
			for _, d := range []float64{1e-3, -1e-3} {
				b := append([]float64(nil), a...)
				b[yi] += d
				b[m] -= d
				if b[yi] < 0 || b[yi] > c || b[m] > 0 {
					continue
				}
				if obj(b) < f0-1e-9 {
					t.Fatalf("trial %d: moving %v from %d to %d improves %v to %v", trial, d, m, yi, f0, obj(b))
				}
			}
		}
	}
}

// TestCrammerSingerSeparable trains on three well separated classes in a
// few sparse dimensions and checks that every training point is
// classified right with a margin, and that it matches fresh points.
func TestCrammerSingerSeparable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const classes, dim = 3, 6
	point := func(c int) sparse {
		// Class c lives on features 2c and 2c+1, plus a noise feature.
		noise := int32((2*c + 2 + rng.IntN(3)) % dim)
		x := sparse{idx: []int32{int32(2 * c), int32(2*c + 1)}, val: []float32{1 + rng.Float32(), 1 + rng.Float32()}}
		if noise != x.idx[0] && noise != x.idx[1] {
			x.idx = append(x.idx, noise)
			x.val = append(x.val, 0.3*rng.Float32())
		}
		return x
	}
	var X []sparse
	var y []int
	for i := range 90 {
		X = append(X, point(i%classes))
		y = append(y, i%classes)
	}
	m := trainCS(X, y, classes, dim, svmParams{C: 1, bias: 1, epochs: 50, tol: 0.01, seed: 1})
	sc := make([]float64, classes)
	for i, x := range X {
		m.scores(x, sc)
		for c := range classes {
			if c != y[i] && sc[y[i]]-sc[c] < 0.5 {
				t.Fatalf("example %d (class %d): scores %v, margin under 0.5", i, y[i], sc)
			}
		}
	}
	for c := range classes {
		m.scores(point(c), sc)
		best := 0
		for k := range sc {
			if sc[k] > sc[best] {
				best = k
			}
		}
		if best != c {
			t.Errorf("fresh point of class %d scored %v", c, sc)
		}
	}
}

// TestLargeProblemsTrainOneVsRest checks that a problem over the
// Crammer-Singer memory bound still trains, one-vs-rest.
func TestLargeProblemsTrainOneVsRest(t *testing.T) {
	f, err := LoadFile("testdata/bank.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer func(n int) { maxCSAlphas = n }(maxCSAlphas)
	maxCSAlphas = 1
	c, err := Train(f.Intents, Options{OutOfScope: f.OutOfScope})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Classify("what is my balance"); r.Intent != "check_balance" {
		t.Errorf("one-vs-rest fallback: Classify = %+v", r)
	}
}
