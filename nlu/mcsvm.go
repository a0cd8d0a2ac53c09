package nlu

import (
	"math"
	"math/rand/v2"
	"slices"
)

// trainCS fits a multi-class Crammer-Singer SVM (one weight vector per
// class, a hinge on the margin between the true class and the best other)
// by the sequential dual method of Keerthi et al. (KDD 2008) with
// LIBLINEAR's shrinking: each step solves one example's sub-problem over
// all classes in closed form. The bias is a constant feature of value
// p.bias. Scoring one example reads the contiguous feature-major weight
// rows, so a pass costs about as much as classifying the training set.
func trainCS(X []sparse, y []int, classes, dim int, p svmParams) *linearModel {
	l := len(X)
	// Column dim is the bias feature.
	w := make([]float32, (dim+1)*classes)
	alpha := make([]float64, l*classes)
	alphaIndex := make([]int32, l*classes)
	activeI := make([]int, l)
	yIndex := make([]int, l)
	qd := make([]float64, l)
	index := make([]int, l)
	for i, x := range X {
		for m := range classes {
			alphaIndex[i*classes+m] = int32(m)
		}
		s := p.bias * p.bias
		for _, v := range x.val[:len(x.idx)] {
			s += float64(v) * float64(v)
		}
		qd[i] = s
		activeI[i] = classes
		yIndex[i] = y[i]
		index[i] = i
	}
	G := make([]float64, classes)
	full := make([]float64, classes)
	B := make([]float64, classes)
	D := make([]float64, classes)
	alphaNew := make([]float64, classes)
	dInd := make([]int32, classes)
	dVal := make([]float32, classes)
	rng := rand.New(rand.NewPCG(p.seed, 0x435343))
	eps := p.tol
	epsShrink := max(10*eps, 1)
	startFromAll := true
	active := l
	bias32 := float32(p.bias)
	for range p.epochs {
		stopping := math.Inf(-1)
		rng.Shuffle(active, func(i, j int) { index[i], index[j] = index[j], index[i] })
		for s := 0; s < active; s++ {
			i := index[s]
			ai := qd[i]
			ci := p.C
			alphaI := alpha[i*classes : (i+1)*classes]
			ix := alphaIndex[i*classes : (i+1)*classes]
			na := activeI[i]
			g := G[:na]
			for m := range g {
				g[m] = 1
			}
			yi := yIndex[i]
			if yi < na {
				g[yi] = 0
			}
			x := X[i]
			if 2*na > classes {
				// Most classes active: score all in weight-row order,
				// then gather the active ones.
				for m := range full {
					full[m] = 0
				}
				for k, f := range x.idx {
					v := float64(x.val[k])
					row := w[int(f)*classes : int(f+1)*classes]
					for m, wm := range row {
						full[m] += v * float64(wm)
					}
				}
				row := w[dim*classes : (dim+1)*classes]
				for m := range g {
					g[m] += full[ix[m]] + p.bias*float64(row[ix[m]])
				}
			} else {
				for k, f := range x.idx {
					v := float64(x.val[k])
					row := w[int(f)*classes : int(f+1)*classes]
					for m := range g {
						g[m] += v * float64(row[ix[m]])
					}
				}
				row := w[dim*classes : (dim+1)*classes]
				for m := range g {
					g[m] += p.bias * float64(row[ix[m]])
				}
			}
			minG, maxG := math.Inf(1), math.Inf(-1)
			for m := range na {
				if alphaI[ix[m]] < 0 && g[m] < minG {
					minG = g[m]
				}
				maxG = max(maxG, g[m])
			}
			if yi < na && alphaI[ix[yi]] < ci && g[yi] < minG {
				minG = g[yi]
			}
			shrunk := func(m int) bool {
				bound := 0.0
				if m == yi {
					bound = ci
				}
				return alphaI[ix[m]] == bound && G[m] < minG
			}
			for m := 0; m < na; m++ {
				if !shrunk(m) {
					continue
				}
				na--
				for na > m {
					if !shrunk(na) {
						ix[m], ix[na] = ix[na], ix[m]
						G[m], G[na] = G[na], G[m]
						if yi == na {
							yi = m
						} else if yi == m {
							yi = na
						}
						break
					}
					na--
				}
			}
			activeI[i], yIndex[i] = na, yi
			if na <= 1 {
				active--
				index[s], index[active] = index[active], index[s]
				s--
				continue
			}
			if maxG-minG <= 1e-12 {
				continue
			}
			stopping = max(stopping, maxG-minG)
			for m := range na {
				B[m] = G[m] - ai*alphaI[ix[m]]
			}
			solveCSSub(ai, yi, ci, B[:na], D[:na], alphaNew[:na])
			nz := 0
			for m := range na {
				d := alphaNew[m] - alphaI[ix[m]]
				alphaI[ix[m]] = alphaNew[m]
				if math.Abs(d) >= 1e-12 {
					dInd[nz], dVal[nz] = ix[m], float32(d)
					nz++
				}
			}
			for k, f := range x.idx {
				v := x.val[k]
				row := w[int(f)*classes : int(f+1)*classes]
				for j := range nz {
					row[dInd[j]] += dVal[j] * v
				}
			}
			row := w[dim*classes : (dim+1)*classes]
			for j := range nz {
				row[dInd[j]] += dVal[j] * bias32
			}
		}
		if stopping < epsShrink {
			if stopping < eps && startFromAll {
				break
			}
			active = l
			for i := range activeI {
				activeI[i] = classes
			}
			epsShrink = max(epsShrink/2, eps)
			startFromAll = true
		} else {
			startFromAll = false
		}
	}
	m := &linearModel{classes: classes, weights: w[:dim*classes], bias: make([]float32, classes)}
	for c := range classes {
		m.bias[c] = w[dim*classes+c] * bias32
	}
	return m
}

// solveCSSub solves one example's Crammer-Singer sub-problem (LIBLINEAR's
// solve_sub_problem): B are the gradients less the current alphas' part,
// yi the position of the true class (or >= len(B) when it is shrunk).
func solveCSSub(ai float64, yi int, c float64, B, D, alphaNew []float64) {
	n := len(B)
	copy(D, B)
	if yi < n {
		D[yi] += ai * c
	}
	slices.Sort(D)
	slices.Reverse(D)
	beta := D[0] - ai*c
	r := 1
	for ; r < n && beta < float64(r)*D[r]; r++ {
		beta += D[r]
	}
	beta /= float64(r)
	for m := range n {
		if m == yi {
			alphaNew[m] = min(c, (beta-B[m])/ai)
		} else {
			alphaNew[m] = min(0, (beta-B[m])/ai)
		}
	}
}
