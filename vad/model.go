package vad

import "math"

// mlp is a one-hidden-layer perceptron: standardised features, tanh hidden
// units, a logistic output. Its weights are trained offline in Go (see
// train_test.go) and committed as Go source in model_weights.go.
type mlp struct {
	mean, scale *[numFeatures]float32 // x' = (x - mean) * scale
	w1          [][numFeatures]float32
	b1          []float32
	w2          []float32
	b2          float32
}

// builtin is the committed model.
var builtin = mlp{
	mean: &modelMean, scale: &modelScale,
	w1: modelW1[:], b1: modelB1[:], w2: modelW2[:], b2: modelB2,
}

// prob returns the speech probability for one feature vector.
func (m *mlp) prob(x *[numFeatures]float64) float64 {
	var z [numFeatures]float64
	for i := range z {
		z[i] = (x[i] - float64(m.mean[i])) * float64(m.scale[i])
	}
	out := float64(m.b2)
	for h := range m.w1 {
		w := &m.w1[h]
		a := float64(m.b1[h])
		for i := range z {
			a += float64(w[i]) * z[i]
		}
		out += float64(m.w2[h]) * math.Tanh(a)
	}
	return sigmoid(out)
}

func sigmoid(x float64) float64 {
	if x < -40 {
		return 0
	}
	return 1 / (1 + math.Exp(-x))
}
