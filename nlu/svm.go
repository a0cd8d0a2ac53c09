package nlu

import (
	"math"
	"math/rand/v2"
	"sync"
)

// linearModel holds one weight per (feature, class), stored feature-major
// so that scoring a sparse utterance reads a few contiguous rows.
type linearModel struct {
	classes int
	weights []float32 // weights[f*classes+c]
	bias    []float32 // per class
}

// scores writes the raw score of every class for x into dst.
func (m *linearModel) scores(x sparse, dst []float64) {
	for c := range dst {
		dst[c] = float64(m.bias[c])
	}
	for i, f := range x.idx {
		v := float64(x.val[i])
		row := m.weights[int(f)*m.classes : int(f+1)*m.classes]
		for c, w := range row {
			dst[c] += v * float64(w)
		}
	}
}

// svmParams tunes the SVM learners (Crammer-Singer and one-vs-rest squared
// hinge).
type svmParams struct {
	C       float64 // inverse regularization strength
	bias    float64 // value of the constant bias feature
	epochs  int     // upper bound on passes over the data
	tol     float64 // stop when the projected gradient spread is below this
	workers int
	seed    uint64
}

// trainSVM fits one binary L2-regularized squared-hinge SVM per class by
// dual coordinate descent (Hsieh et al., ICML 2008), classes in parallel.
func trainSVM(X []sparse, y []int, classes, dim int, p svmParams) *linearModel {
	m := &linearModel{classes: classes, weights: make([]float32, dim*classes), bias: make([]float32, classes)}
	qii := make([]float64, len(X))
	for i, x := range X {
		s := p.bias * p.bias
		for _, v := range x.val {
			s += float64(v) * float64(v)
		}
		qii[i] = s
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := max(1, p.workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := make([]float32, dim)
			alpha := make([]float64, len(X))
			order := make([]int, len(X))
			for c := range jobs {
				clear(w)
				clear(alpha)
				b := svmBinary(X, y, c, qii, w, alpha, order, p)
				for f, v := range w {
					m.weights[f*classes+c] = v
				}
				m.bias[c] = float32(b)
			}
		}()
	}
	for c := range classes {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	return m
}

// svmBinary solves the dual of one class against the rest and returns the
// bias weight; w and alpha must be zero on entry. It shrinks the active
// set as LIBLINEAR does: an example whose alpha sits at zero with a
// gradient above last pass's largest projected gradient is skipped until
// the reduced problem converges.
func svmBinary(X []sparse, y []int, class int, qii []float64, w []float32, alpha []float64, order []int, p svmParams) float64 {
	dii := 1 / (2 * p.C)
	rng := rand.New(rand.NewPCG(p.seed, uint64(class)))
	for i := range order {
		order[i] = i
	}
	var b float64
	active := len(order)
	pgMaxOld := math.Inf(1)
	for range p.epochs {
		rng.Shuffle(active, func(i, j int) { order[i], order[j] = order[j], order[i] })
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for s := 0; s < active; s++ {
			i := order[s]
			yi := -1.0
			if y[i] == class {
				yi = 1
			}
			idx, val := X[i].idx, X[i].val
			val = val[:len(idx)]
			var dot32 float32
			for k, f := range idx {
				dot32 += w[f] * val[k]
			}
			dot := float64(dot32) + b*p.bias
			a := alpha[i]
			g := yi*dot - 1 + dii*a
			pg := g
			if a == 0 {
				if g > pgMaxOld {
					active--
					order[s], order[active] = order[active], order[s]
					s--
					continue
				}
				pg = min(g, 0)
			}
			pgMax = max(pgMax, pg)
			pgMin = min(pgMin, pg)
			if math.Abs(pg) < 1e-12 {
				continue
			}
			alpha[i] = max(a-g/(qii[i]+dii), 0)
			d := (alpha[i] - a) * yi
			d32 := float32(d)
			for k, f := range idx {
				w[f] += d32 * val[k]
			}
			b += d * p.bias
		}
		if pgMax-pgMin <= p.tol {
			if active == len(order) {
				break
			}
			active = len(order)
			pgMaxOld = math.Inf(1)
			continue
		}
		pgMaxOld = pgMax
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
	}
	return b * p.bias
}
