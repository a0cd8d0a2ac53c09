package vadeval

import (
	"math"
	"sort"
)

// ROCAUC is the area under the ROC curve of scores against labels: the
// probability that a random speech hop scores above a random non-speech
// hop (ties count half). It is NaN when either class is empty.
func ROCAUC(scores []float32, labels []bool) float64 {
	n := min(len(scores), len(labels))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < n; {
		j := i
		for j < n && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avgRank := float64(i+j+1) / 2 // ranks are 1-based
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				pos++
				rankSum += avgRank
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// Counts is a confusion matrix at one threshold.
type Counts struct {
	TP, FP, TN, FN int
}

// Threshold counts hops scoring at or above thr as speech.
func Threshold(scores []float32, labels []bool, thr float32) Counts {
	var c Counts
	for i := 0; i < min(len(scores), len(labels)); i++ {
		switch pred := scores[i] >= thr; {
		case pred && labels[i]:
			c.TP++
		case pred:
			c.FP++
		case labels[i]:
			c.FN++
		default:
			c.TN++
		}
	}
	return c
}

// Precision is TP / (TP + FP), or NaN with no positive predictions.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP / (TP + FN), or NaN with no speech hops.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// FalsePositiveRate is FP / (FP + TN).
func (c Counts) FalsePositiveRate() float64 { return ratio(c.FP, c.FP+c.TN) }

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// Accuracy is the share of hops classified right.
func (c Counts) Accuracy() float64 { return ratio(c.TP+c.TN, c.TP+c.TN+c.FP+c.FN) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}
