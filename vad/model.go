package vad

import (
	"errors"
	"fmt"
	"math"
)

// maxHidden bounds the width of a hidden layer, so the forward pass runs
// in fixed stack space.
const maxHidden = 128

// mlp is a perceptron with one or two hidden layers: standardised
// features, tanh hidden units, a logistic output. Its weights are trained
// offline in Go (see train_test.go) and committed as Go source in
// model_weights.go.
type mlp struct {
	mean, scale *[numFeatures]float32 // x' = (x - mean) * scale
	w1          [][numFeatures]float32
	b1          []float32
	w2          []float32 // second hidden layer, row-major len(b2) x len(b1); empty for one layer
	b2          []float32
	wo          []float32 // output weights over the last hidden layer
	bo          float32
}

// builtin is the committed model.
var builtin = mlp{
	mean: &modelMean, scale: &modelScale,
	w1: modelW1[:], b1: modelB1[:], w2: modelW2[:], b2: modelB2[:], wo: modelWo[:], bo: modelBo,
}

// builtinErr is why the committed model cannot be used (nil when it can);
// New returns it.
var builtinErr = builtin.check()

// errModel reports a model whose shapes or values cannot be used.
var errModel = errors.New("vad: bad model")

// check reports why the model cannot be used, or nil.
func (m *mlp) check() error {
	h1, h2 := len(m.w1), len(m.b2)
	switch {
	case m.mean == nil || m.scale == nil:
		return fmt.Errorf("%w: no standardisation", errModel)
	case h1 == 0 || h1 > maxHidden || len(m.b1) != h1:
		return fmt.Errorf("%w: first layer has %d weight rows and %d biases (1-%d)", errModel, h1, len(m.b1), maxHidden)
	case h2 > maxHidden || len(m.w2) != h2*h1:
		return fmt.Errorf("%w: second layer has %d weights for %d x %d units", errModel, len(m.w2), h2, h1)
	case h2 == 0 && len(m.wo) != h1, h2 > 0 && len(m.wo) != h2:
		return fmt.Errorf("%w: %d output weights for a last layer of %d units", errModel, len(m.wo), max(h1, h2))
	}
	finite := func(name string, v []float32) error {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: %s[%d] is %v", errModel, name, i, x)
			}
		}
		return nil
	}
	for _, p := range []struct {
		name string
		v    []float32
	}{{"mean", m.mean[:]}, {"scale", m.scale[:]}, {"b1", m.b1}, {"w2", m.w2}, {"b2", m.b2}, {"wo", m.wo}, {"bo", []float32{m.bo}}} {
		if err := finite(p.name, p.v); err != nil {
			return err
		}
	}
	for h := range m.w1 {
		if err := finite(fmt.Sprintf("w1[%d]", h), m.w1[h][:]); err != nil {
			return err
		}
	}
	return nil
}

// prob returns the speech probability for one feature vector.
func (m *mlp) prob(x *[numFeatures]float64) float64 {
	var z [numFeatures]float32
	for i := range z {
		z[i] = float32(x[i]-float64(m.mean[i])) * m.scale[i]
	}
	var h1 [maxHidden]float32
	h := 0
	for ; h+4 <= len(m.w1); h += 4 {
		a0, a1, a2, a3 := dot4(&m.w1[h], &m.w1[h+1], &m.w1[h+2], &m.w1[h+3], &z)
		h1[h] = float32(math.Tanh(float64(m.b1[h] + a0)))
		h1[h+1] = float32(math.Tanh(float64(m.b1[h+1] + a1)))
		h1[h+2] = float32(math.Tanh(float64(m.b1[h+2] + a2)))
		h1[h+3] = float32(math.Tanh(float64(m.b1[h+3] + a3)))
	}
	for ; h < len(m.w1); h++ {
		h1[h] = float32(math.Tanh(float64(m.b1[h] + dot(&m.w1[h], &z))))
	}
	last := h1[:len(m.w1)]
	var h2 [maxHidden]float32
	if n1 := len(m.b1); len(m.b2) > 0 {
		for h := range m.b2 {
			a := m.b2[h]
			row := m.w2[h*n1 : (h+1)*n1]
			for i, v := range row {
				a += v * h1[i]
			}
			h2[h] = float32(math.Tanh(float64(a)))
		}
		last = h2[:len(m.b2)]
	}
	out := float64(m.bo)
	for h, v := range last {
		out += float64(m.wo[h]) * float64(v)
	}
	return sigmoid(out)
}

// dot is the inner product of a weight row and the input, with four
// partial sums so the additions do not wait on each other.
func dot(w, z *[numFeatures]float32) float32 {
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= numFeatures; i += 4 {
		w4, z4 := w[i:i+4:i+4], z[i:i+4:i+4] // one bounds check for four products
		a0 += w4[0] * z4[0]
		a1 += w4[1] * z4[1]
		a2 += w4[2] * z4[2]
		a3 += w4[3] * z4[3]
	}
	for ; i < numFeatures; i++ {
		a0 += w[i] * z[i]
	}
	return (a0 + a1) + (a2 + a3)
}

// dot4 is four inner products with the same input, which is then loaded
// once for four weights.
func dot4(w0, w1, w2, w3, z *[numFeatures]float32) (a0, a1, a2, a3 float32) {
	for i, v := range z {
		a0 += w0[i] * v
		a1 += w1[i] * v
		a2 += w2[i] * v
		a3 += w3[i] * v
	}
	return
}

func sigmoid(x float64) float64 {
	if x < -40 {
		return 0
	}
	return 1 / (1 + math.Exp(-x))
}
