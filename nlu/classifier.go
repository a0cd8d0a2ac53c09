package nlu

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Options tunes training. The zero value gives the defaults.
type Options struct {
	// OutOfScope are example requests that no intent handles; they are
	// learned as a rejection class. Optional.
	OutOfScope []string
	// Threshold is the least confidence (0..1) at which the best intent is
	// accepted; below it the result is out of scope. Intent.Threshold
	// overrides it per intent. 0 means DefaultThreshold.
	Threshold float64
	// Temperature divides the scores before the softmax. 0 means
	// DefaultTemperature; Calibrate fits it on held-out data.
	Temperature float64
	// MaxAlternatives bounds Result.Alternatives. 0 means 3.
	MaxAlternatives int
	// C is the SVM's inverse regularization strength. 0 means 1.
	C float64
	// Workers bounds training parallelism (the model and the calibration
	// folds train concurrently). 0 means GOMAXPROCS.
	Workers int
	// CalibrationFolds is the number of cross-validation folds used to fit
	// the temperature (and, with OutOfScope examples, the threshold) on
	// held-out predictions of the training data. 0 means 3 for up to
	// 5000 phrases (none below 40) (fit on a validation set with
	// Calibrate instead); 1 or less with a set Temperature turns it off.
	CalibrationFolds int
}

// autoCalibrationMax is the largest training set calibrated by
// cross-validation unless asked.
const autoCalibrationMax = 5000

// autoCalibrationMin is the smallest training set calibrated by
// cross-validation unless asked: below it the held-out predictions are
// too few to fit a temperature.
const autoCalibrationMin = 40

// Defaults for Options.
const (
	DefaultThreshold   = 0.4
	DefaultTemperature = 0.12
)

// Scored is an intent with its confidence.
type Scored struct {
	Intent     string
	Confidence float64 // calibrated probability, 0..1
}

// Result is what the classifier understood of one utterance.
type Result struct {
	// Intent is the best intent, or "" when OutOfScope.
	Intent string
	// Confidence is the calibrated probability (0..1) of the best
	// in-scope intent, even when the result is out of scope.
	Confidence float64
	// OutOfScope reports that no intent fits: the rejection class won or
	// the confidence is below the intent's threshold.
	OutOfScope bool
	// Alternatives are the best in-scope intents, best first (the first
	// is Intent when in scope), for "did you mean X or Y?".
	Alternatives []Scored
}

// Ambiguous reports whether the two best intents are within margin of
// each other in confidence, so the dialog should ask which one was meant.
func (r Result) Ambiguous(margin float64) bool {
	return len(r.Alternatives) >= 2 && r.Alternatives[0].Confidence-r.Alternatives[1].Confidence < margin
}

// Classifier maps utterances to intents. It is trained once (Train) and is
// safe for concurrent use; Calibrate and SetThreshold must not run
// concurrently with Classify.
type Classifier struct {
	names      []string // class names; the last is OutOfScopeLabel when oos is set
	thresholds []float64
	oos        int // index of the rejection class, or -1
	vocab      *vocabulary
	model      *linearModel
	temp       float64
	threshold  float64
	maxAlt     int
	trainTime  time.Duration
	scratch    *sync.Pool
}

// ErrNoIntents is returned by Train when there is nothing to learn.
var ErrNoIntents = errors.New("nlu: no intents to train")

// modelConfig holds the choices of features and learner that Options do
// not expose. They were made on validation data (CLINC150 val, HWU64
// valid; see BENCHMARKS.md), so tests can train variants without
// package-level knobs.
type modelConfig struct {
	spec        featureSpec
	groupWeight [numGroups]float32
	epochs      int     // upper bound on the SVM's passes over the data
	tol         float64 // SVM stopping tolerance
	C           float64 // SVM inverse regularization when Options.C is 0
	crammer     bool    // one multi-class Crammer-Singer SVM instead of one-vs-rest
	seed        uint64  // of the SVM's example order; 0 means 1
	embed       embedSpec
	augment     augmentSpec
}

// defaultConfig: one Crammer-Singer SVM over all classes, at most 10
// passes. On CLINC150 val (4 example orders) it scores 93.97 % in-scope
// accuracy on average against 93.53 % for one-vs-rest SVMs (4 passes, the
// previous default), at about a third of the training CPU; 5, 7, 20 passes
// and C = 0.5 or 2 scored 93.71-93.87 %.
//
// The sparse vector is followed by the SIF-weighted mean of the word
// vectors (wordvec.go), unit length times 1.25: on CLINC150 val (3 orders)
// 94.26 % in-scope accuracy against 93.98 % without, out-of-scope recall
// at a threshold costing 0.5 point 68 % against 62 %; on HWU64 valid
// 66.5 / 75.3 % (5 / 10-shot) against 63.3 / 71.9 %.
var defaultConfig = modelConfig{
	spec:        featureSpec{charMin: 2, charMax: 4, bigrams: true},
	groupWeight: [numGroups]float32{groupWord: 1, groupChar: 1},
	epochs:      10,
	tol:         0.1,
	C:           1,
	crammer:     true,
	embed:       embedSpec{weight: 1.25, weighting: embedSIF},
}

// Train builds a classifier from the intents' phrases (examples and their
// synonym variants). It fails when an intent is invalid or defined twice.
func Train(intents []Intent, opts Options) (*Classifier, error) {
	return train(intents, opts, defaultConfig)
}

func train(intents []Intent, opts Options, cfg modelConfig) (*Classifier, error) {
	start := time.Now()
	if len(intents) == 0 {
		return nil, ErrNoIntents
	}
	c := &Classifier{oos: -1, temp: opts.Temperature, threshold: opts.Threshold, maxAlt: opts.MaxAlternatives}
	if c.temp <= 0 {
		c.temp = DefaultTemperature
	}
	if c.threshold <= 0 {
		c.threshold = DefaultThreshold
	}
	if c.maxAlt <= 0 {
		c.maxAlt = 3
	}
	var texts []string
	var labels []int
	seen := map[string]bool{}
	for i := range intents {
		in := &intents[i]
		if err := in.Validate(); err != nil {
			return nil, err
		}
		if seen[in.Name] {
			return nil, fmt.Errorf("intent %s defined twice", in.Name)
		}
		seen[in.Name] = true
		for _, p := range in.Phrases() {
			texts = append(texts, p)
			labels = append(labels, len(c.names))
		}
		c.names = append(c.names, in.Name)
		c.thresholds = append(c.thresholds, in.Threshold)
	}
	nOOS := 0
	for _, t := range opts.OutOfScope {
		if t = Normalize(t); t != "" {
			texts = append(texts, t)
			labels = append(labels, len(c.names))
			nOOS++
		}
	}
	if nOOS > 0 {
		c.oos = len(c.names)
		c.names = append(c.names, OutOfScopeLabel)
		c.thresholds = append(c.thresholds, 0)
	}
	texts, labels = augment(texts, labels, len(intents), cfg.augment)
	p := svmParams{C: opts.C, bias: 1, epochs: cfg.epochs, tol: cfg.tol, workers: opts.Workers, seed: max(cfg.seed, 1)}
	if p.C <= 0 {
		p.C = cfg.C
	}
	if p.workers <= 0 {
		p.workers = runtime.GOMAXPROCS(0)
	}
	folds := opts.CalibrationFolds
	if folds == 0 && len(texts) >= autoCalibrationMin && len(texts) <= autoCalibrationMax {
		folds = 3
	}
	if folds <= 1 || opts.Temperature > 0 {
		folds = 0
	}
	// The model and the calibration folds train concurrently: the
	// Crammer-Singer solver uses one core, one-vs-rest all workers.
	parallel := 1
	if cfg.crammer {
		parallel = p.workers
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f()
		}()
	}
	base := *c
	foldRows := make([][]scoredRow, folds)
	run(func() { c.vocab, c.model = fit(texts, labels, len(c.names), p, cfg) })
	for f := range folds {
		run(func() { foldRows[f] = base.foldRows(texts, labels, folds, f, p, cfg) })
	}
	wg.Wait()
	if rows := slices.Concat(foldRows...); len(rows) > 0 {
		c.temp = fitTemperature(rows, c.oos)
		if opts.Threshold <= 0 && c.oos >= 0 {
			c.threshold = c.bestThreshold(rows, c.softmaxRows(rows))
		}
	}
	c.scratch = &sync.Pool{New: func() any { return c.newScratch() }}
	c.trainTime = time.Since(start)
	return c, nil
}

// fit vectorizes the phrases and trains the linear model.
func fit(texts []string, labels []int, classes int, p svmParams, cfg modelConfig) (*vocabulary, *linearModel) {
	docs := make([][]uint64, len(texts))
	var toks []string
	for i, t := range texts {
		toks = appendTokens(toks[:0], t)
		docs[i] = cfg.spec.appendFeatures(nil, toks)
		slices.Sort(docs[i])
	}
	vocab := buildVocabulary(cfg.spec, docs, cfg.groupWeight)
	if cfg.embed.weight > 0 {
		// The embedded file is checked by tests; should it ever fail to
		// parse, the classifier works without the dense features.
		if wv, err := loadWordVectors(); err == nil {
			vocab.embed, vocab.wv = cfg.embed, wv
		}
	}
	buf := make([]float32, vocab.embedDims())
	X := make([]sparse, len(docs))
	for i, d := range docs {
		X[i] = vocab.vectorize(d, sparse{})
		if vocab.wv != nil {
			toks = appendTokens(toks[:0], texts[i])
			X[i] = vocab.appendEmbedding(X[i], toks, buf)
		}
	}
	return vocab, trainLinear(X, labels, classes, vocab.dim(), p, cfg)
}

// maxCSAlphas bounds the Crammer-Singer solver's dual variables (one per
// example and class, 12 bytes each); larger problems train one-vs-rest,
// whose memory grows with the examples only.
var maxCSAlphas = 1 << 24

func trainLinear(X []sparse, labels []int, classes, dim int, p svmParams, cfg modelConfig) *linearModel {
	if cfg.crammer && len(X)*classes <= maxCSAlphas {
		return trainCS(X, labels, classes, dim, p)
	}
	return trainSVM(X, labels, classes, dim, p)
}

// foldRows trains on the phrases outside fold f (of folds, by index
// modulo) and scores the phrases in it, for calibration on out-of-fold
// predictions. It returns nil when either side is empty.
func (c Classifier) foldRows(texts []string, labels []int, folds, f int, p svmParams, cfg modelConfig) []scoredRow {
	var trT []string
	var trL []int
	var held []Example
	for i := range texts {
		if i%folds == f {
			held = append(held, Example{Text: texts[i], Intent: c.names[labels[i]]})
		} else {
			trT = append(trT, texts[i])
			trL = append(trL, labels[i])
		}
	}
	if len(held) == 0 || len(trT) == 0 {
		return nil
	}
	c.vocab, c.model = fit(trT, trL, len(c.names), p, cfg)
	return c.scoreRows(held)
}

// scratch is per-call working memory, pooled so Classify allocates only
// its result.
type scratch struct {
	norm   []byte
	tokens []string
	keys   []uint64
	vec    sparse
	scores []float64
	embed  []float32
}

func (c *Classifier) newScratch() *scratch {
	s := &scratch{scores: make([]float64, len(c.names))}
	if c.vocab != nil {
		s.embed = make([]float32, c.vocab.embedDims())
	}
	return s
}

// Intents returns the intent names in training order.
func (c *Classifier) Intents() []string {
	n := c.names
	if c.oos >= 0 {
		n = n[:c.oos]
	}
	return slices.Clone(n)
}

// TrainTime reports how long Train took.
func (c *Classifier) TrainTime() time.Duration { return c.trainTime }

// Threshold returns the classifier-wide confidence threshold.
func (c *Classifier) Threshold() float64 { return c.threshold }

// SetThreshold changes the classifier-wide confidence threshold.
func (c *Classifier) SetThreshold(t float64) { c.threshold = t }

// Temperature returns the softmax temperature.
func (c *Classifier) Temperature() float64 { return c.temp }

// vectorize fills s.vec with the feature vector of an utterance.
func (c *Classifier) vectorize(text string, s *scratch) {
	s.norm = appendNormalized(s.norm[:0], text)
	s.tokens = appendTokens(s.tokens[:0], string(s.norm))
	s.keys = c.vocab.spec.appendFeatures(s.keys[:0], s.tokens)
	slices.Sort(s.keys)
	s.vec = c.vocab.vectorize(s.keys, s.vec)
	s.vec = c.vocab.appendEmbedding(s.vec, s.tokens, s.embed)
}

// probabilities fills s.scores with the calibrated class probabilities.
func (c *Classifier) probabilities(text string, s *scratch) {
	c.vectorize(text, s)
	c.model.scores(s.vec, s.scores)
	softmax(s.scores, c.temp)
}

// softmax turns scores into probabilities at temperature t, in place.
func softmax(x []float64, t float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	sum := 0.0
	for i, v := range x {
		x[i] = math.Exp((v - m) / t)
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

// Classify returns the intent of one utterance with its confidence,
// out-of-scope decision and alternatives.
func (c *Classifier) Classify(text string) Result {
	s := c.scratch.Get().(*scratch)
	defer c.scratch.Put(s)
	c.probabilities(text, s)
	r := c.decide(s.scores, c.threshold)
	if len(s.vec.idx) == 0 {
		// Not one known word or letter sequence: nothing to go on.
		r.Intent, r.OutOfScope = "", true
	}
	return r
}

// decide turns class probabilities into a Result at a threshold.
func (c *Classifier) decide(p []float64, threshold float64) Result {
	best, oosWins := c.best(p)
	r := Result{Alternatives: make([]Scored, 0, c.maxAlt)}
	// Insertion of the top in-scope classes, best first.
	for i, v := range p {
		if i == c.oos {
			continue
		}
		if len(r.Alternatives) == c.maxAlt && v <= r.Alternatives[len(r.Alternatives)-1].Confidence {
			continue
		}
		if len(r.Alternatives) < c.maxAlt {
			r.Alternatives = append(r.Alternatives, Scored{})
		}
		j := len(r.Alternatives) - 1
		for j > 0 && r.Alternatives[j-1].Confidence < v {
			r.Alternatives[j] = r.Alternatives[j-1]
			j--
		}
		r.Alternatives[j] = Scored{Intent: c.names[i], Confidence: v}
	}
	r.Confidence = p[best]
	t := threshold
	if c.thresholds[best] > 0 {
		t = c.thresholds[best]
	}
	if oosWins || p[best] < t {
		r.OutOfScope = true
		return r
	}
	r.Intent = c.names[best]
	return r
}

// best returns the best in-scope class and whether the rejection class
// scored higher still.
func (c *Classifier) best(p []float64) (best int, oosWins bool) {
	best = -1
	for i, v := range p {
		if i != c.oos && (best < 0 || v > p[best]) {
			best = i
		}
	}
	return best, c.oos >= 0 && p[c.oos] > p[best]
}
