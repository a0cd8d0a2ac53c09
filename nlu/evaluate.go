package nlu

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Report holds the results of classifying a labelled test set.
type Report struct {
	N            int     // rows
	InScope      int     // rows with an intent label
	OutOfScope   int     // rows labelled OutOfScopeLabel
	Accuracy     float64 // share of in-scope rows given their intent (a rejected in-scope row is wrong)
	OOSRecall    float64 // share of out-of-scope rows rejected
	OOSPrecision float64 // share of rejections that were out-of-scope rows
	P50, P99     time.Duration
	PerIntent    []IntentReport // by name
	Threshold    float64
	Temperature  float64
}

// IntentReport is one intent's results in a Report.
type IntentReport struct {
	Intent    string
	Support   int // rows labelled with this intent
	Correct   int // of those, classified as this intent
	Predicted int // rows classified as this intent
}

// Precision is Correct/Predicted, 0 when nothing was predicted.
func (r IntentReport) Precision() float64 { return ratio(r.Correct, r.Predicted) }

// Recall is Correct/Support, 0 without support.
func (r IntentReport) Recall() float64 { return ratio(r.Correct, r.Support) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// scoredRow is one held-out utterance's raw class scores and label index
// (-1 for an out-of-scope row or an unknown intent).
type scoredRow struct {
	scores []float64
	label  int
	oos    bool
}

func (c *Classifier) scoreRows(rows []Example) []scoredRow {
	index := map[string]int{}
	for i, n := range c.names {
		if i != c.oos {
			index[n] = i
		}
	}
	s := c.newScratch()
	out := make([]scoredRow, len(rows))
	for i, e := range rows {
		c.vectorize(e.Text, s)
		sc := make([]float64, len(c.names))
		c.model.scores(s.vec, sc)
		l, ok := index[e.Intent]
		if !ok {
			l = -1
		}
		out[i] = scoredRow{scores: sc, label: l, oos: e.Intent == OutOfScopeLabel}
	}
	return out
}

// Calibrate fits the softmax temperature to held-out labelled utterances
// (minimum negative log-likelihood) and then picks the confidence
// threshold that maximizes accuracy on them, out of scope counted as a
// class. Without out-of-scope rows the threshold is left as it
// is. It returns the fitted temperature and threshold.
func (c *Classifier) Calibrate(heldOut []Example) (temperature, threshold float64) {
	rows := c.scoreRows(heldOut)
	c.temp = fitTemperature(rows, c.oos)
	hasOOS := false
	for _, r := range rows {
		hasOOS = hasOOS || r.oos
	}
	if hasOOS {
		c.threshold = c.bestThreshold(rows, c.softmaxRows(rows))
	}
	return c.temp, c.threshold
}

// softmaxRows returns the rows' probabilities at the current temperature.
func (c *Classifier) softmaxRows(rows []scoredRow) [][]float64 {
	probs := make([][]float64, len(rows))
	for i, r := range rows {
		probs[i] = slices.Clone(r.scores)
		softmax(probs[i], c.temp)
	}
	return probs
}

// fitTemperature minimizes the mean negative log-likelihood over log T by
// golden-section search. Out-of-scope rows count when there is a
// rejection class.
func fitTemperature(rows []scoredRow, oos int) float64 {
	nll := func(t float64) float64 {
		sum, n := 0.0, 0
		p := []float64{}
		for _, r := range rows {
			l := r.label
			if r.oos {
				l = oos
			}
			if l < 0 {
				continue
			}
			p = append(p[:0], r.scores...)
			softmax(p, t)
			sum -= math.Log(max(p[l], 1e-12))
			n++
		}
		if n == 0 {
			return 0
		}
		return sum / float64(n)
	}
	lo, hi := math.Log(0.02), math.Log(5.0)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := nll(math.Exp(a)), nll(math.Exp(b))
	for range 40 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = nll(math.Exp(a))
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = nll(math.Exp(b))
		}
	}
	return math.Exp((lo + hi) / 2)
}

// bestThreshold sweeps the candidate thresholds (every row's best
// confidence) and keeps the one with the highest accuracy over all rows,
// out of scope counted as a class. Rows whose best intent has its own
// threshold do not depend on the sweep.
func (c *Classifier) bestThreshold(rows []scoredRow, probs [][]float64) float64 {
	type cand struct {
		conf         float64
		correct, oos bool
	}
	var vary []cand
	var in, out, fixedIn, fixedOut int
	for i, r := range rows {
		if !r.oos && r.label < 0 {
			continue
		}
		if r.oos {
			out++
		} else {
			in++
		}
		best, oosWins := c.best(probs[i])
		if oosWins || c.thresholds[best] > 0 {
			res := c.decideFast(probs[i], 0)
			if r.oos && res < 0 {
				fixedOut++
			} else if !r.oos && res == r.label {
				fixedIn++
			}
			continue
		}
		vary = append(vary, cand{conf: probs[i][best], correct: !r.oos && best == r.label, oos: r.oos})
	}
	sort.Slice(vary, func(i, j int) bool { return vary[i].conf < vary[j].conf })
	// At threshold vary[k].conf, rows k.. are accepted and rows ..k-1 rejected.
	inOK := fixedIn
	for _, v := range vary {
		if v.correct {
			inOK++
		}
	}
	outOK := fixedOut
	bestT, bestScore := 0.0, -1.0
	for k := 0; k <= len(vary); k++ {
		t := 1.0 + 1e-9
		if k < len(vary) {
			t = vary[k].conf
		}
		if k == 0 || vary[k-1].conf < t {
			if score := ratio(inOK+outOK, in+out); score > bestScore {
				bestT, bestScore = t, score
			}
		}
		if k < len(vary) {
			if vary[k].correct {
				inOK--
			}
			if vary[k].oos {
				outOK++
			}
		}
	}
	return bestT
}

// decideFast returns the accepted class or -1 for out of scope, as decide
// would, without building a Result.
func (c *Classifier) decideFast(p []float64, threshold float64) int {
	best, oosWins := c.best(p)
	t := threshold
	if c.thresholds[best] > 0 {
		t = c.thresholds[best]
	}
	if oosWins || p[best] < t {
		return -1
	}
	return best
}

// Evaluate classifies every row, timing each call, and reports accuracy,
// out-of-scope recall and precision, per-intent results and latency.
// progress, when not nil, is called after each row.
func (c *Classifier) Evaluate(rows []Example, progress func(done, total int)) Report {
	rep := Report{N: len(rows), Threshold: c.threshold, Temperature: c.temp}
	per := map[string]*IntentReport{}
	get := func(n string) *IntentReport {
		r, ok := per[n]
		if !ok {
			r = &IntentReport{Intent: n}
			per[n] = r
		}
		return r
	}
	lat := make([]time.Duration, len(rows))
	var inOK, outOK, rejected int
	for i, e := range rows {
		t0 := time.Now()
		res := c.Classify(e.Text)
		lat[i] = time.Since(t0)
		if res.OutOfScope {
			rejected++
		} else {
			get(res.Intent).Predicted++
		}
		if e.Intent == OutOfScopeLabel {
			rep.OutOfScope++
			if res.OutOfScope {
				outOK++
			}
		} else {
			rep.InScope++
			r := get(e.Intent)
			r.Support++
			if !res.OutOfScope && res.Intent == e.Intent {
				r.Correct++
				inOK++
			}
		}
		if progress != nil {
			progress(i+1, len(rows))
		}
	}
	rep.Accuracy = ratio(inOK, rep.InScope)
	rep.OOSRecall = ratio(outOK, rep.OutOfScope)
	rep.OOSPrecision = ratio(outOK, rejected)
	slices.Sort(lat)
	if len(lat) > 0 {
		rep.P50 = lat[len(lat)/2]
		rep.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	for _, r := range per {
		rep.PerIntent = append(rep.PerIntent, *r)
	}
	slices.SortFunc(rep.PerIntent, func(a, b IntentReport) int {
		switch {
		case a.Intent < b.Intent:
			return -1
		case a.Intent > b.Intent:
			return 1
		}
		return 0
	})
	return rep
}
