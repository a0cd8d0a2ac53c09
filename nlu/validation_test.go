package nlu

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The tests in this file choose the model's settings on validation data;
// they need the shared data sets and take minutes, so they run only with
// NLU_VALIDATION=1:
//
//	NLU_VALIDATION=1 go test -run Validation -v ./nlu/

func needValidation(t *testing.T) {
	t.Helper()
	if os.Getenv("NLU_VALIDATION") == "" {
		t.Skip("set NLU_VALIDATION=1 to run")
	}
}

type namedConfig struct {
	name string
	cfg  modelConfig
}

// variants returns the default configuration and the alternatives that
// were measured against it.
func variants() []namedConfig {
	out := []namedConfig{{"default", defaultConfig}}
	add := func(name string, f func(*modelConfig)) {
		c := defaultConfig
		f(&c)
		out = append(out, namedConfig{name, c})
	}
	for _, seed := range []uint64{2, 3, 4} {
		add(fmt.Sprintf("order %d", seed), func(c *modelConfig) { c.seed = seed })
	}
	add("one-vs-rest, 4 passes", func(c *modelConfig) { c.crammer, c.epochs = false, 4 })
	add("5 passes", func(c *modelConfig) { c.epochs = 5 })
	add("7 passes", func(c *modelConfig) { c.epochs = 7 })
	add("20 passes", func(c *modelConfig) { c.epochs = 20 })
	add("C=0.5", func(c *modelConfig) { c.C = 0.5 })
	add("C=2", func(c *modelConfig) { c.C = 2 })
	add("char 1-4", func(c *modelConfig) { c.spec.charMin = 1 })
	add("char 2-5", func(c *modelConfig) { c.spec.charMax = 5 })
	add("char 3-5", func(c *modelConfig) { c.spec.charMin, c.spec.charMax = 3, 5 })
	add("char 2-3", func(c *modelConfig) { c.spec.charMax = 3 })
	add("words x0.7", func(c *modelConfig) { c.groupWeight[groupWord] = 0.7 })
	add("words x1.4", func(c *modelConfig) { c.groupWeight[groupWord] = 1.4 })
	add("no bigrams", func(c *modelConfig) { c.spec.bigrams = false })
	add("C=0.3", func(c *modelConfig) { c.C = 0.3 })
	add("no word vectors", func(c *modelConfig) { c.embed = embedSpec{} })
	for _, seed := range []uint64{2, 3, 4} {
		add(fmt.Sprintf("no word vectors, order %d", seed), func(c *modelConfig) { c.embed, c.seed = embedSpec{}, seed })
	}
	for _, n := range []int{1, 2} {
		for _, mc := range []float32{0.6, 0.7} {
			add(fmt.Sprintf("augment %d cos %g", n, mc), func(c *modelConfig) { c.augment = augmentSpec{variants: n, minCos: mc, minRank: 100} })
		}
	}
	for _, w := range []float32{0.5, 1, 1.5, 2} {
		add(fmt.Sprintf("embed idf x%g", w), func(c *modelConfig) { c.embed = embedSpec{weight: w, weighting: embedIDF} })
		add(fmt.Sprintf("embed sif x%g", w), func(c *modelConfig) { c.embed = embedSpec{weight: w, weighting: embedSIF} })
		add(fmt.Sprintf("embed mean x%g", w), func(c *modelConfig) { c.embed = embedSpec{weight: w, weighting: embedUniform} })
	}
	for _, a := range []float64{1e-4, 1e-2} {
		for _, w := range []float32{1, 1.5, 2} {
			add(fmt.Sprintf("embed sif a=%g x%g", a, w), func(c *modelConfig) { c.embed = embedSpec{weight: w, weighting: embedSIF, sifA: a} })
		}
	}
	for _, w := range []float32{0.75, 1, 1.25} {
		add(fmt.Sprintf("embed sif+mean x%g", w), func(c *modelConfig) { c.embed = embedSpec{weight: w, weighting: embedSIF, both: true} })
	}
	add("embed sif x1.25", func(c *modelConfig) { c.embed = embedSpec{weight: 1.25, weighting: embedSIF} })
	add("embed mean x1.25", func(c *modelConfig) { c.embed = embedSpec{weight: 1.25, weighting: embedUniform} })
	for _, seed := range []uint64{2, 3} {
		add(fmt.Sprintf("embed sif x1.25 order %d", seed), func(c *modelConfig) { c.embed = embedSpec{weight: 1.25, weighting: embedSIF}; c.seed = seed })
		add(fmt.Sprintf("embed sif x1.5 order %d", seed), func(c *modelConfig) { c.embed = embedSpec{weight: 1.5, weighting: embedSIF}; c.seed = seed })
		add(fmt.Sprintf("embed mean x1.5 order %d", seed), func(c *modelConfig) { c.embed = embedSpec{weight: 1.5, weighting: embedUniform}; c.seed = seed })
	}
	return out
}

// TestValidationCLINC150 trains on CLINC150 train+oos_train and reports
// on val: in-scope accuracy without a threshold, out-of-scope recall when
// the threshold may cost 0.5 or 1 point of in-scope accuracy, and the
// operating point Calibrate picks.
func TestValidationCLINC150(t *testing.T) {
	needValidation(t)
	s, err := ReadCLINC150("../../shared/data/intents/clinc150/data_full.json")
	if err != nil {
		t.Skip(err)
	}
	intents, oos := IntentsFromExamples(append(s["train"], s["oos_train"]...))
	val := append(s["val"], s["oos_val"]...)
	for _, v := range variants() {
		if f := os.Getenv("NLU_VARIANTS"); f != "" && !strings.Contains(v.name, f) {
			continue
		}
		c0, t0 := processCPU(), time.Now()
		c, err := train(intents, Options{OutOfScope: oos, CalibrationFolds: -1}, v.cfg)
		if err != nil {
			t.Fatal(err)
		}
		wall, cpu := time.Since(t0), processCPU()-c0
		acc0, rec05, rec10 := oosCurve(c, val)
		c.Calibrate(val)
		r := c.Evaluate(val, nil)
		t.Logf("%-12s acc %.4f | OOS recall at -0.5 %.2f, at -1 %.2f | calibrated %.4f / %.2f | train %v, CPU %v",
			v.name, acc0, rec05, rec10, r.Accuracy, r.OOSRecall, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
	}
}

// oosCurve returns the in-scope accuracy without threshold and the best
// out-of-scope recall at thresholds costing at most 0.5 and 1 point of it,
// at the temperature fitted on rows.
func oosCurve(c *Classifier, rows []Example) (acc0, rec05, rec10 float64) {
	sr := c.scoreRows(rows)
	c.temp = fitTemperature(sr, c.oos)
	probs := c.softmaxRows(sr)
	type row struct {
		conf         float64
		correct, out bool // out: an out-of-scope row accepted as an intent
	}
	var rs []row
	nIn, nOut, inOK, outOK := 0, 0, 0, 0
	for i, r := range sr {
		best, oosWins := c.best(probs[i])
		x := row{conf: probs[i][best], correct: !r.oos && !oosWins && best == r.label, out: r.oos && !oosWins}
		rs = append(rs, x)
		if r.oos {
			nOut++
			if oosWins {
				outOK++
			}
		} else {
			nIn++
		}
		if x.correct {
			inOK++
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].conf < rs[j].conf })
	acc0 = ratio(inOK, nIn)
	for _, x := range rs { // raise the threshold past x
		a, rc := ratio(inOK, nIn), ratio(outOK, nOut)
		if a >= acc0-0.005 {
			rec05 = max(rec05, rc)
		}
		if a >= acc0-0.01 {
			rec10 = max(rec10, rc)
		}
		if x.correct {
			inOK--
		}
		if x.out {
			outOK++
		}
	}
	return acc0, rec05, rec10
}

// TestValidationHWU64 trains on the 5- and 10-shot HWU64 splits and
// reports closed-set accuracy on valid.
func TestValidationHWU64(t *testing.T) {
	needValidation(t)
	val, err := ReadLineAligned("../../shared/data/intents/hwu64/valid")
	if err != nil {
		t.Skip(err)
	}
	for _, split := range []string{"train_5", "train_10", "train"} {
		rows, err := ReadLineAligned("../../shared/data/intents/hwu64/" + split)
		if err != nil {
			t.Fatal(err)
		}
		intents, _ := IntentsFromExamples(rows)
		for _, v := range variants() {
			if f := os.Getenv("NLU_VARIANTS"); f != "" && !strings.Contains(v.name, f) {
				continue
			}
			c, err := train(intents, Options{CalibrationFolds: -1, Temperature: 1}, v.cfg)
			if err != nil {
				t.Fatal(err)
			}
			c.SetThreshold(1e-9)
			t.Logf("%-8s %-12s acc %.4f", split, v.name, c.Evaluate(val, nil).Accuracy)
		}
	}
}

// TestValidationFewShotC measures the SVM's C against the number of
// examples per intent: k examples per intent drawn at random (3 draws)
// from the training split of CLINC150, HWU64 and SNIPS, in-scope accuracy
// on their validation splits.
func TestValidationFewShotC(t *testing.T) {
	needValidation(t)
	type set struct {
		name       string
		train, val []Example
	}
	var sets []set
	if s, err := ReadCLINC150("../../shared/data/intents/clinc150/data_full.json"); err == nil {
		sets = append(sets, set{"clinc150", s["train"], s["val"]})
	}
	for _, name := range []string{"hwu64", "snips"} {
		tr, err1 := ReadLineAligned("../../shared/data/intents/" + name + "/train")
		va, err2 := ReadLineAligned("../../shared/data/intents/" + name + "/valid")
		if err1 == nil && err2 == nil {
			sets = append(sets, set{name, tr, va})
		}
	}
	if len(sets) == 0 {
		t.Skip("no data sets")
	}
	for _, s := range sets {
		for _, k := range []int{5, 10, 20, 50} {
			for _, C := range []float64{0.25, 0.5, 1, 2} {
				sum := 0.0
				const draws = 3
				for d := range draws {
					rng := rand.New(rand.NewPCG(uint64(d+1), uint64(k)))
					rows := slices.Clone(s.train)
					rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
					n := map[string]int{}
					var pick []Example
					for _, e := range rows {
						if n[e.Intent] < k {
							n[e.Intent]++
							pick = append(pick, e)
						}
					}
					intents, _ := IntentsFromExamples(pick)
					cfg := defaultConfig
					cfg.C = C
					c, err := train(intents, Options{CalibrationFolds: -1, Temperature: 1}, cfg)
					if err != nil {
						t.Fatal(err)
					}
					c.SetThreshold(1e-9)
					sum += c.Evaluate(s.val, nil).Accuracy
				}
				t.Logf("%-9s %2d-shot C=%-4g acc %.4f (mean of %d draws)", s.name, k, C, sum/draws, draws)
			}
		}
	}
}

// TestValidationNearestOOS measures an out-of-scope signal from the word
// vectors: the cosine between the utterance's sentence vector and the
// nearest training example of the best intent, combined with the
// calibrated probability as p*max(cos,0.01)^beta, on CLINC150 val.
func TestValidationNearestOOS(t *testing.T) {
	needValidation(t)
	s, err := ReadCLINC150("../../shared/data/intents/clinc150/data_full.json")
	if err != nil {
		t.Skip(err)
	}
	intents, oos := IntentsFromExamples(append(s["train"], s["oos_train"]...))
	val := append(s["val"], s["oos_val"]...)
	for _, feat := range []embedSpec{{weight: 1.5, weighting: embedUniform}, {weight: 1.5, weighting: embedSIF}} {
		cfg := defaultConfig
		cfg.embed = feat
		c, err := train(intents, Options{OutOfScope: oos, CalibrationFolds: -1}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Calibrate(val)
		sr := c.scoreRows(val)
		probs := c.softmaxRows(sr)
		for _, simW := range []embedWeighting{embedUniform, embedIDF, embedSIF} {
			v := *c.vocab
			v.embed.weighting = simW
			vecOf := func(text string) []float32 {
				buf := make([]float32, v.embedDims())
				if !v.sentenceVector(appendTokens(nil, Normalize(text)), buf) {
					return nil
				}
				return buf
			}
			ex := make([][][]float32, len(c.names))
			for ci, in := range intents {
				for _, p := range in.Phrases() {
					if x := vecOf(p); x != nil {
						ex[ci] = append(ex[ci], x)
					}
				}
			}
			sims := make([]float64, len(val))
			for i, e := range val {
				best, _ := c.best(probs[i])
				sims[i] = 0.01
				if x := vecOf(e.Text); x != nil {
					for _, y := range ex[best] {
						d := 0.0
						for k := range x {
							d += float64(x[k]) * float64(y[k])
						}
						sims[i] = max(sims[i], d)
					}
				}
			}
			for _, beta := range []float64{0, 0.5, 1, 2, 4, 8, 1000} {
				var pts []opPoint
				for i, r := range sr {
					best, oosWins := c.best(probs[i])
					conf := math.Log(probs[i][best]) + beta*math.Log(sims[i])
					pts = append(pts, opPoint{conf: conf, correct: !r.oos && !oosWins && best == r.label, oosRow: r.oos, oosWins: oosWins})
				}
				acc0, rec05, acc, rec := operatingPoints(pts)
				t.Logf("features %d x%g, similarity %d, beta %-4g: acc %.4f | OOS recall at -0.5 %.2f | best-accuracy threshold %.4f / %.2f",
					feat.weighting, feat.weight, simW, beta, acc0, rec05, acc, rec)
			}
		}
	}
}

type opPoint struct {
	conf                     float64
	correct, oosRow, oosWins bool
}

// operatingPoints returns, for rejection below a threshold on conf, the
// in-scope accuracy without threshold, the best out-of-scope recall at a
// threshold costing at most 0.5 point of it, and the accuracy and recall
// at the threshold that maximizes accuracy over all rows with out of
// scope counted as a class (Calibrate's rule).
func operatingPoints(pts []opPoint) (acc0, rec05, acc, rec float64) {
	nIn, nOut, inOK, outOK := 0, 0, 0, 0
	for _, p := range pts {
		if p.oosRow {
			nOut++
			if p.oosWins {
				outOK++
			}
		} else {
			nIn++
		}
		if p.correct {
			inOK++
		}
	}
	slices.SortFunc(pts, func(a, b opPoint) int { return cmp.Compare(a.conf, b.conf) })
	acc0 = ratio(inOK, nIn)
	bestScore := -1.0
	for k := 0; k <= len(pts); k++ {
		if k == 0 || k == len(pts) || pts[k-1].conf < pts[k].conf {
			a, rc := ratio(inOK, nIn), ratio(outOK, nOut)
			if a >= acc0-0.005 {
				rec05 = max(rec05, rc)
			}
			if sc := ratio(inOK+outOK, nIn+nOut); sc > bestScore {
				bestScore, acc, rec = sc, a, rc
			}
		}
		if k < len(pts) {
			if pts[k].correct {
				inOK--
			}
			if pts[k].oosRow && !pts[k].oosWins {
				outOK++
			}
		}
	}
	return acc0, rec05, acc, rec
}

// TestValidationNoOOSExamples measures what an owner's few-shot config
// without out_of_scope examples gets: k examples per CLINC150 intent
// (3 draws), no rejection class, the default threshold and calibration of
// Train, scored on CLINC150 val and oos_val.
func TestValidationNoOOSExamples(t *testing.T) {
	needValidation(t)
	s, err := ReadCLINC150("../../shared/data/intents/clinc150/data_full.json")
	if err != nil {
		t.Skip(err)
	}
	val := append(s["val"], s["oos_val"]...)
	without := defaultConfig
	without.embed = embedSpec{}
	for _, k := range []int{5, 10, 100} {
		baseAcc := make([]float64, 3) // per draw, of the first config at the default threshold
		for vi, v := range []namedConfig{{"no word vectors", without}, {"default", defaultConfig}} {
			var acc, rec, recAtBase float64
			thresholds := []float64{0.4, 0.45, 0.5, 0.55, 0.6}
			accAt := make([]float64, len(thresholds))
			recAt := make([]float64, len(thresholds))
			const draws = 3
			for d := range draws {
				rng := rand.New(rand.NewPCG(uint64(d+1), uint64(k)))
				rows := slices.Clone(s["train"])
				rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
				n := map[string]int{}
				var pick []Example
				for _, e := range rows {
					if n[e.Intent] < k {
						n[e.Intent]++
						pick = append(pick, e)
					}
				}
				intents, _ := IntentsFromExamples(pick)
				c, err := train(intents, Options{}, v.cfg)
				if err != nil {
					t.Fatal(err)
				}
				r := c.Evaluate(val, nil)
				acc += r.Accuracy / draws
				rec += r.OOSRecall / draws
				if vi == 0 {
					baseAcc[d] = r.Accuracy
				}
				// The best recall at any threshold keeping the in-scope
				// accuracy of the first config.
				sr := c.scoreRows(val)
				probs := c.softmaxRows(sr)
				var pts []opPoint
				for i, row := range sr {
					best, _ := c.best(probs[i])
					pts = append(pts, opPoint{conf: probs[i][best], correct: !row.oos && best == row.label, oosRow: row.oos})
				}
				recAtBase += recallAtAccuracy(pts, baseAcc[d]) / draws
				for ti, th := range thresholds {
					a, r := atThreshold(pts, th)
					accAt[ti] += a / draws
					recAt[ti] += r / draws
				}
			}
			for ti, th := range thresholds {
				t.Logf("%3d-shot %-16s threshold %.2f: in-scope acc %.4f, OOS recall %.4f", k, v.name, th, accAt[ti], recAt[ti])
			}
			t.Logf("%3d-shot %-16s in-scope acc %.4f, OOS recall %.4f at the default threshold; recall %.4f at the in-scope accuracy without vectors (mean of %d draws)", k, v.name, acc, rec, recAtBase, draws)
		}
	}
}

// recallAtAccuracy returns the best out-of-scope recall over thresholds on
// conf whose in-scope accuracy is at least acc.
func recallAtAccuracy(pts []opPoint, acc float64) float64 {
	nIn, nOut, inOK, outOK := 0, 0, 0, 0
	for _, p := range pts {
		if p.oosRow {
			nOut++
		} else {
			nIn++
		}
		if p.correct {
			inOK++
		}
	}
	slices.SortFunc(pts, func(a, b opPoint) int { return cmp.Compare(a.conf, b.conf) })
	best := 0.0
	for k := 0; k <= len(pts); k++ {
		if (k == 0 || k == len(pts) || pts[k-1].conf < pts[k].conf) && ratio(inOK, nIn) >= acc-1e-9 {
			best = max(best, ratio(outOK, nOut))
		}
		if k < len(pts) {
			if pts[k].correct {
				inOK--
			}
			if pts[k].oosRow {
				outOK++
			}
		}
	}
	return best
}

// atThreshold returns the in-scope accuracy and out-of-scope recall when
// rows with conf below th are rejected.
func atThreshold(pts []opPoint, th float64) (acc, rec float64) {
	nIn, nOut, inOK, outOK := 0, 0, 0, 0
	for _, p := range pts {
		if p.oosRow {
			nOut++
			if p.conf < th {
				outOK++
			}
		} else {
			nIn++
			if p.correct && p.conf >= th {
				inOK++
			}
		}
	}
	return ratio(inOK, nIn), ratio(outOK, nOut)
}
