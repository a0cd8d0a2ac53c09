//go:build cgo

package moonshine

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

func init() {
	asr.Register(Name, func(o asr.Options) (asr.Recognizer, error) {
		cfg := DefaultConfig()
		cfg.ModelDir = o.ModelDir
		cfg.Decoders = o.Decoders
		return New(cfg)
	})
}

// Available reports whether the engine can run in this build and finds
// its model files in dir ("" for the default directory).
func Available(dir string) error { return CheckModelDir(ResolveModelDir(dir)) }

// Recognizer is the embedded Moonshine engine: the model's sessions,
// loaded once per process and model directory, and a cap on how many
// utterances run them at once.
type Recognizer struct {
	cfg   Config
	m     *model
	slots chan struct{}

	mu     sync.Mutex
	closed bool
	priors map[string][]float64 // phrase set -> log-probabilities on silence
}

// New loads the model (once per process and directory) and returns the
// engine. Missing files give an error wrapping asr.ErrUnavailable that
// names the file and scripts/fetch-speech-model.sh.
func New(cfg Config) (*Recognizer, error) {
	cfg = cfg.withDefaults()
	m, err := loadModel(cfg.ModelDir)
	if err != nil {
		return nil, err
	}
	return &Recognizer{cfg: cfg, m: m, slots: make(chan struct{}, cfg.Decoders)}, nil
}

// Name is "moonshine".
func (r *Recognizer) Name() string { return Name }

// Close stops new streams. The model stays loaded for the process (other
// recognizers may share it); streams already open finish normally.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return nil
}

// maxAudio bounds an utterance: later audio is dropped.
const maxAudio = 30 * modelRate

// NewStream starts an utterance at 8, 16 or 48 kHz. Audio is resampled to
// 16 kHz as it arrives; the model runs in Finish.
func (r *Recognizer) NewStream(ctx context.Context, rate int, h asr.Hints) (asr.Stream, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, asr.ErrClosed
	}
	switch rate {
	case audio.Rate8k, audio.Rate16k, audio.Rate48k:
	default:
		return nil, fmt.Errorf("%w: %s takes 8000, 16000 or 48000 Hz, not %d", asr.ErrBadRate, Name, rate)
	}
	switch h.Grammar {
	case "", asr.GrammarDigit, asr.GrammarDigits, asr.GrammarYesNo:
	default:
		return nil, fmt.Errorf("%s: unknown grammar %q", Name, h.Grammar)
	}
	// ctx is not checked: a stream takes no resource until Finish (the
	// listener opens a second opinion with a done ctx, meaning "only if
	// free now", which a moonshine stream always is).
	s := &stream{r: r, h: h}
	if rate != modelRate {
		s.rs = audio.NewResampler(rate, modelRate)
	}
	if c := r.cfg.Condition.Band; c != nil && rate < modelRate {
		cc := *c
		cc.OutRate = modelRate
		cd, err := asr.NewConditioner(rate, cc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
		s.rs = cd
	}
	return s, nil
}

// resampler is audio.Resampler or asr.Conditioner.
type resampler interface {
	Process(out, in []int16) []int16
	Flush(out []int16) []int16
}

// stream buffers one utterance at 16 kHz.
type stream struct {
	r  *Recognizer
	h  asr.Hints
	rs resampler // nil at 16 kHz

	mu   sync.Mutex
	done bool
	pcm  []int16
	pre  *prefetch // the latest early pass, if any
}

// prefetch is a final pass started before Finish on the first n samples.
type prefetch struct {
	n      int
	cancel context.CancelFunc
	over   chan struct{} // closed when res and err are set
	res    asr.Result
	err    error
}

func (p *prefetch) stop() {
	p.cancel()
	<-p.over
}

// quietAfter: audio that arrives after a prefetch and peaks this far (or
// more) under the utterance's loudest sample counts as silence, so the
// early pass stands.
const quietAfterDB = 20

// Prefetch starts the final pass on the audio so far (asr.Prefetcher);
// Finish uses it when what arrives afterwards is quiet.
func (s *stream) Prefetch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || len(s.pcm) < minAudio {
		return
	}
	if s.pre != nil {
		s.pre.stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &prefetch{n: len(s.pcm), cancel: cancel, over: make(chan struct{})}
	pcm := slices.Clone(s.pcm)
	go func() {
		defer close(p.over)
		p.res, p.err = s.r.recognize(ctx, pcm, s.h)
	}()
	s.pre = p
}

// early returns the prefetched pass when the audio after it is quiet.
func (s *stream) early(ctx context.Context, p *prefetch, pcm []int16) (asr.Result, bool) {
	if p == nil {
		return asr.Result{}, false
	}
	if p.n > len(pcm) {
		p.stop()
		return asr.Result{}, false
	}
	peak := func(x []int16) int {
		m := 0
		for _, v := range x {
			m = max(m, abs(int(v)))
		}
		return m
	}
	if float64(peak(pcm[p.n:])) > float64(peak(pcm[:p.n]))*math.Pow(10, -quietAfterDB/20.0) {
		p.stop()
		return asr.Result{}, false
	}
	select {
	case <-p.over:
	case <-ctx.Done():
		p.stop()
		return asr.Result{}, false
	}
	if p.err != nil {
		return asr.Result{}, false
	}
	return p.res, true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (s *stream) Write(samples []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return asr.ErrClosed
	}
	if len(s.pcm) >= maxAudio {
		return nil
	}
	if s.rs != nil {
		s.pcm = s.rs.Process(s.pcm, samples)
	} else {
		s.pcm = append(s.pcm, samples...)
	}
	if len(s.pcm) > maxAudio {
		s.pcm = s.pcm[:maxAudio]
	}
	return nil
}

// Partial returns false: the model transcribes the whole utterance in
// Finish, and running it on every partial would cost a full decode each
// time.
func (s *stream) Partial() (asr.Result, bool) { return asr.Result{}, false }

// Finish runs the model on the utterance: it waits for a free slot (while
// ctx allows), encodes the audio, decodes it and applies the hints.
func (s *stream) Finish(ctx context.Context) (asr.Result, error) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return asr.Result{}, asr.ErrClosed
	}
	s.done = true
	pcm := s.pcm
	if s.rs != nil && len(pcm) < maxAudio {
		pcm = s.rs.Flush(pcm)
		pcm = pcm[:min(len(pcm), maxAudio)]
	}
	s.pcm = nil
	pre := s.pre
	s.pre = nil
	s.mu.Unlock()
	if res, ok := s.early(ctx, pre, pcm); ok {
		return res, nil
	}
	return s.r.recognize(ctx, pcm, s.h)
}

func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	s.pcm = nil
	if s.pre != nil {
		s.pre.stop()
		s.pre = nil
	}
	return nil
}

// silentPeak is the peak level under which a clip is taken for silence
// (-54 dBFS): the decoder, which must not end before its first token,
// would otherwise transcribe digital silence as "you".
const silentPeak = 64

func silent(pcm []int16) bool {
	for _, v := range pcm {
		if v >= silentPeak || v <= -silentPeak {
			return false
		}
	}
	return true
}

// minAudio is the shortest utterance worth decoding (100 ms); shorter
// ones give an empty result.
const minAudio = modelRate / 10

// recognize transcribes 16 kHz pcm under hints h.
func (r *Recognizer) recognize(ctx context.Context, pcm []int16, h asr.Hints) (asr.Result, error) {
	if err := ctx.Err(); err != nil {
		return asr.Result{}, err
	}
	if len(pcm) < minAudio || silent(pcm) {
		return asr.Result{Final: true}, nil
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return asr.Result{}, fmt.Errorf("%s: waiting for a free decoder: %w", Name, ctx.Err())
	}
	defer func() { <-r.slots }()
	x := prepare(pcm, r.cfg.Condition)
	if len(x) < minAudio {
		return asr.Result{Final: true}, nil
	}
	hid, err := r.m.encode(x)
	if err != nil {
		return asr.Result{}, err
	}
	defer hid.destroy()
	st, err := r.m.begin(hid)
	if err != nil {
		return asr.Result{}, err
	}
	defer st.destroy()
	if ps := grammarPhrases(h); ps != nil {
		return r.pick(ctx, st, ps)
	}
	maxLen := max(10, int(float64(len(x))/modelRate*r.cfg.MaxTokensPerSecond))
	var d decoded
	var others []decoded
	if r.cfg.Beam > 1 {
		bs := newBiaser(r.m.bias, append(slices.Clip(h.Phrases), h.EscapeWords...), r.cfg.Bias)
		hs, err := r.m.beam(ctx, hid, st, maxLen, r.cfg.Beam, bs)
		if err != nil {
			return asr.Result{}, err
		}
		if len(hs) == 0 {
			return asr.Result{Final: true}, nil
		}
		d, others = hs[0], hs[1:]
	} else {
		d, err = r.m.greedy(ctx, hid, st, maxLen)
		if err != nil {
			return asr.Result{}, err
		}
	}
	raw := r.m.tok.Decode(d.ids)
	res := asr.Result{Final: true, Text: asr.Normalize(raw), Confidence: geoMean(d.lps)}
	for _, o := range others {
		t := asr.Normalize(r.m.tok.Decode(o.ids))
		if t == "" || t == res.Text || len(res.Alternatives) >= r.cfg.MaxAlternatives || slices.ContainsFunc(res.Alternatives, func(a asr.Alternative) bool { return a.Text == t }) {
			continue
		}
		conf := res.Confidence * math.Exp(min(0, sum(o.lps)-sum(d.lps))/r.cfg.AltTemperature)
		res.Alternatives = append(res.Alternatives, asr.Alternative{Text: t, Confidence: clamp01(conf)})
	}
	sort.SliceStable(res.Alternatives, func(i, j int) bool { return res.Alternatives[i].Confidence > res.Alternatives[j].Confidence })
	if h.Grammar == asr.GrammarDigits {
		t, ok := digitString(raw, h.EscapeWords)
		if !ok || !strings.Contains(t, " ") {
			// Nothing digit-like, or one word: the single-digit grammar
			// decides (as a grammar decoder would force a digit), which
			// on the dev sets is right more often than a free decode of
			// one short word.
			return r.pick(ctx, st, uniqNorm(append(append([]string{}, digitWords...), h.EscapeWords...)))
		}
		res.Text = t
		// The alternatives in the same digit form.
		alts := res.Alternatives[:0]
		for _, a := range res.Alternatives {
			if at, ok := digitString(a.Text, h.EscapeWords); ok && at != t &&
				!slices.ContainsFunc(alts, func(b asr.Alternative) bool { return b.Text == at }) {
				alts = append(alts, asr.Alternative{Text: at, Confidence: a.Confidence})
			}
		}
		res.Alternatives = alts
		return res, nil
	}
	if res.Text == "" {
		// Punctuation only: nothing was said.
		return asr.Result{Final: true}, nil
	}
	if r.cfg.AltMargin > 0 && len(h.Phrases)+len(h.EscapeWords) > 0 && res.Text != "" {
		alts, err := r.alternatives(ctx, st, res, sum(d.lps), uniqNorm(append(append([]string{}, h.Phrases...), h.EscapeWords...)))
		if err != nil {
			return asr.Result{}, err
		}
		res.Alternatives = mergeAlternatives(res.Alternatives, alts, r.cfg.MaxAlternatives)
	}
	return res, nil
}

// candidate is a normalized phrase and its log-probability (the best of
// its surface forms).
type candidate struct {
	text string
	lp   float64
}

// scorePhrases scores every phrase in each of its surface forms and keeps
// each phrase's best form.
func (r *Recognizer) scorePhrases(ctx context.Context, st *start, ps []string) ([]candidate, error) {
	var seqs [][]int
	var owner []int
	for i, p := range ps {
		for _, f := range surfaceForms(p) {
			ids := r.m.tok.Encode(f)
			if len(ids) == 0 || len(ids) > maxPhraseTokens {
				continue
			}
			seqs = append(seqs, ids)
			owner = append(owner, i)
		}
	}
	lps, err := r.m.score(ctx, st, seqs)
	if err != nil {
		return nil, err
	}
	cs := make([]candidate, len(ps))
	for i, p := range ps {
		cs[i] = candidate{text: p, lp: math.Inf(-1)}
	}
	for k, l := range lps {
		c := &cs[owner[k]]
		c.lp = max(c.lp, sum(l))
	}
	return cs, nil
}

// maxPhraseTokens skips hint phrases too long to be worth scoring.
const maxPhraseTokens = 48

// pick chooses among a closed set of phrases by their probability under
// the decoder; confidences are the phrases' shares of the set's
// probability.
func (r *Recognizer) pick(ctx context.Context, st *start, ps []string) (asr.Result, error) {
	cs, err := r.scorePhrases(ctx, st, ps)
	if err != nil {
		return asr.Result{}, err
	}
	if a := r.cfg.Calibration; a > 0 {
		prior, err := r.prior(ctx, ps)
		if err != nil {
			return asr.Result{}, err
		}
		for i := range cs {
			cs[i].lp -= a * prior[i]
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].lp > cs[j].lp })
	res := asr.Result{Final: true}
	if len(cs) == 0 || math.IsInf(cs[0].lp, -1) {
		return res, nil
	}
	z := math.Inf(-1)
	for _, c := range cs {
		z = logAdd(z, c.lp)
	}
	res.Text, res.Confidence = cs[0].text, clamp01(math.Exp(cs[0].lp-z))
	for _, c := range cs[1:] {
		if len(res.Alternatives) >= r.cfg.MaxAlternatives {
			break
		}
		p := math.Exp(c.lp - z)
		if p < 1e-4 {
			break
		}
		res.Alternatives = append(res.Alternatives, asr.Alternative{Text: c.text, Confidence: clamp01(p)})
	}
	return res, nil
}

// maxPriors bounds the cached phrase-set priors.
const maxPriors = 64

// prior returns the phrases' log-probabilities (best surface form) when
// the audio is a second of silence: what the decoder expects of each
// phrase from its language model alone. Dividing it out (contextual
// calibration) keeps short, common replies ("Oh.") from winning on
// audio the model does not make out. Computed once per phrase set.
func (r *Recognizer) prior(ctx context.Context, ps []string) ([]float64, error) {
	key := strings.Join(ps, "\x00")
	r.mu.Lock()
	p, ok := r.priors[key]
	r.mu.Unlock()
	if ok {
		return p, nil
	}
	hid, err := r.m.encode(make([]float32, modelRate))
	if err != nil {
		return nil, err
	}
	defer hid.destroy()
	st, err := r.m.begin(hid)
	if err != nil {
		return nil, err
	}
	defer st.destroy()
	cs, err := r.scorePhrases(ctx, st, ps)
	if err != nil {
		return nil, err
	}
	p = make([]float64, len(cs))
	for i, c := range cs {
		p[i] = max(c.lp, -100)
	}
	r.mu.Lock()
	if r.priors == nil || len(r.priors) >= maxPriors {
		r.priors = map[string][]float64{}
	}
	r.priors[key] = p
	r.mu.Unlock()
	return p, nil
}

// alternatives scores the hint phrases against the audio and returns
// those within cfg.AltMargin nats of the free decode's log-probability
// (freeLP), best first. Each gets the free decode's confidence times its
// likelihood ratio to it, so no alternative outranks Text.
func (r *Recognizer) alternatives(ctx context.Context, st *start, res asr.Result, freeLP float64, ps []string) ([]asr.Alternative, error) {
	cs, err := r.scorePhrases(ctx, st, ps)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].lp > cs[j].lp })
	var alts []asr.Alternative
	for _, c := range cs {
		if len(alts) >= r.cfg.MaxAlternatives || c.lp < freeLP-r.cfg.AltMargin {
			break
		}
		if c.text == res.Text {
			continue
		}
		conf := res.Confidence * math.Exp(min(0, c.lp-freeLP)/r.cfg.AltTemperature)
		alts = append(alts, asr.Alternative{Text: c.text, Confidence: clamp01(conf)})
	}
	return alts, nil
}

// mergeAlternatives joins two lists of alternatives, most confident
// first, one entry per text, at most n.
func mergeAlternatives(a, b []asr.Alternative, n int) []asr.Alternative {
	all := append(append([]asr.Alternative{}, a...), b...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Confidence > all[j].Confidence })
	var out []asr.Alternative
	for _, x := range all {
		if len(out) < n && !slices.ContainsFunc(out, func(y asr.Alternative) bool { return y.Text == x.Text }) {
			out = append(out, x)
		}
	}
	return out
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// geoMean is the geometric mean of the probabilities whose logs are lps.
func geoMean(lps []float64) float64 {
	if len(lps) == 0 {
		return 0
	}
	return clamp01(math.Exp(sum(lps) / float64(len(lps))))
}

func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return min(1, x)
}

var (
	_ asr.Recognizer = (*Recognizer)(nil)
	_ asr.Closer     = (*Recognizer)(nil)
	_ asr.Stream     = (*stream)(nil)
)
