//go:build cgo

package sphinx

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

func init() {
	asr.Register(Name, func(o asr.Options) (asr.Recognizer, error) {
		cfg := DefaultConfig()
		if o.ModelDir != "" {
			cfg.ModelDir = o.ModelDir
		}
		if o.Decoders > 0 {
			cfg.Decoders = o.Decoders
		}
		return New(cfg)
	})
}

// Available reports whether the embedded engine can run in this build.
func Available() error { return nil }

// Recognizer is the embedded PocketSphinx engine: a pool of decoders that
// each hold the acoustic model, shared by all calls of the process.
type Recognizer struct {
	cfg  Config
	idle chan *decoder

	mu       sync.Mutex
	created  int
	closed   bool
	all      []*decoder
	searches map[string]search // compiled hints by hintsKey
}

// New loads the model into one decoder (about a second) and returns the
// engine; further decoders load on demand up to cfg.Decoders.
func New(cfg Config) (*Recognizer, error) {
	if cfg.Decoders <= 0 {
		cfg.Decoders = 4
	}
	if cfg.Condition.OutRate == 0 {
		cfg.Condition = asr.DefaultCondition
	}
	cc, err := ResolveCondition(cfg)
	if err != nil {
		return nil, err
	}
	cfg.Condition = cc
	switch cfg.NarrowbandMLLR {
	case "":
		p, err := builtinMLLR()
		if err != nil {
			return nil, err
		}
		cfg.NarrowbandMLLR = p
	case "none":
		cfg.NarrowbandMLLR = ""
	}
	if cfg.CMNPrior <= 0 {
		cfg.CMNPrior = 500
	}
	if cfg.PhraseMode == "" {
		cfg.PhraseMode = PhrasesLM
	}
	if cfg.PhraseMode != PhrasesLM && cfg.PhraseMode != PhrasesGrammar {
		return nil, fmt.Errorf("sphinx: unknown phrase mode %q", cfg.PhraseMode)
	}
	r := &Recognizer{cfg: cfg, idle: make(chan *decoder, cfg.Decoders), searches: map[string]search{}}
	d, err := newDecoder(cfg)
	if err != nil {
		return nil, err
	}
	r.created = 1
	r.all = append(r.all, d)
	r.idle <- d
	return r, nil
}

// Name is "sphinx".
func (r *Recognizer) Name() string { return Name }

// Close frees every decoder. Streams still open keep theirs until they
// close; Close must not race with NewStream.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for {
		select {
		case d := <-r.idle:
			d.free()
		default:
			return nil
		}
	}
}

func (r *Recognizer) acquire(ctx context.Context) (*decoder, error) {
	select {
	case d := <-r.idle:
		return d, nil
	default:
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, asr.ErrClosed
	}
	if r.created < r.cfg.Decoders {
		r.created++
		r.mu.Unlock()
		d, err := newDecoder(r.cfg)
		if err != nil {
			r.mu.Lock()
			r.created--
			r.mu.Unlock()
			return nil, err
		}
		r.mu.Lock()
		r.all = append(r.all, d)
		r.mu.Unlock()
		return d, nil
	}
	r.mu.Unlock()
	select {
	case d := <-r.idle:
		return d, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("sphinx: waiting for a free decoder: %w", ctx.Err())
	}
}

// tryAcquire returns a decoder only when one is idle or may be created
// now; nil otherwise.
func (r *Recognizer) tryAcquire() *decoder {
	select {
	case d := <-r.idle:
		return d
	default:
	}
	r.mu.Lock()
	if r.closed || r.created >= r.cfg.Decoders {
		r.mu.Unlock()
		return nil
	}
	r.created++
	r.mu.Unlock()
	d, err := newDecoder(r.cfg)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.created--
		return nil
	}
	r.all = append(r.all, d)
	return d
}

func (r *Recognizer) release(d *decoder) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		d.free()
		return
	}
	r.idle <- d
}

func hintsKey(h asr.Hints) string {
	return h.Grammar + "\x00" + strings.Join(h.Phrases, "\x01") + "\x00" + strings.Join(h.EscapeWords, "\x01")
}

// compile returns the search for h, compiling it once per process; with
// exact it allows exactly the hint phrases whatever the phrase mode.
func (r *Recognizer) compile(d *decoder, h asr.Hints, exact bool) (search, error) {
	k := hintsKey(h)
	if exact {
		k = "exact\x00" + k
	}
	r.mu.Lock()
	s, ok := r.searches[k]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	var err error
	if exact || h.Grammar != "" || r.cfg.PhraseMode == PhrasesGrammar {
		s, err = compileGrammar(h, d.pd.known)
		s.wip = r.cfg.GrammarWIP
		s.name += fmt.Sprintf("-w%g", s.wip)
	} else {
		s, err = compileLM(h, r.cfg.LM, d.pd.known)
	}
	if err != nil {
		return search{}, err
	}
	r.mu.Lock()
	if len(r.searches) > 4*maxSearches {
		r.searches = map[string]search{}
	}
	r.searches[k] = s
	r.mu.Unlock()
	return s, nil
}

// NewStream takes a decoder from the pool (waiting for one while ctx
// allows), selects the search compiled from h and starts an utterance.
// Input at 8 kHz is upsampled and band-filled; 16 kHz input goes straight
// to the model.
func (r *Recognizer) NewStream(ctx context.Context, rate int, h asr.Hints) (asr.Stream, error) {
	cc := r.cfg.Condition
	batch := r.cfg.Batch
	if h.Grammar != "" || r.cfg.PhraseMode == PhrasesGrammar {
		cc.FoldDB = r.cfg.GrammarFoldDB
		batch = batch || r.cfg.BatchGrammars
	}
	if !r.bweFor(h) {
		cc.BWE = nil
	}
	// With BWECombine the stream decodes without the extension and, on a
	// second decoder when one is free, with it.
	ext := cc
	combine := cc.BWE != nil && r.cfg.BWECombine && rate < audio.Rate16k
	if combine {
		cc.BWE = nil
	}
	cond, err := asr.NewConditioner(rate, cc)
	if err != nil {
		return nil, fmt.Errorf("sphinx: %w: %d Hz", err, rate)
	}
	if len(h.Phrases) == 0 && h.Grammar == "" && len(h.EscapeWords) == 0 {
		return nil, fmt.Errorf("sphinx: no hints: the embedded engine needs phrases or a grammar")
	}
	d, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.prepare(d, h, false, rate, batch); err != nil {
		r.release(d)
		return nil, err
	}
	st := &stream{r: r, d: d, cond: cond, nbest: r.cfg.NBest, batch: batch, rate: rate, pick: h.Grammar != ""}
	if r.cfg.PhraseGrammarMin > 0 && h.Grammar == "" && r.cfg.PhraseMode == PhrasesLM && len(h.Phrases) > 0 {
		if d2 := r.tryAcquire(); d2 != nil {
			if err := r.prepare(d2, h, true, rate, batch); err != nil {
				// The exact-phrase pass is an extra: without it the
				// stream still decodes (e.g. no phrase in the dictionary).
				r.release(d2)
			} else {
				st.exact = d2
			}
		}
	}
	if combine {
		if d2 := r.tryAcquire(); d2 != nil {
			cd2, err := asr.NewConditioner(rate, ext)
			if err == nil {
				err = r.prepare(d2, h, false, rate, batch)
			}
			if err != nil {
				r.release(d2)
			} else {
				st.ext = &member{d: d2, cond: cd2}
			}
		}
	}
	return st, nil
}

// member is a further decode of the same audio with other conditioning.
type member struct {
	d    *decoder
	cond *asr.Conditioner
	buf  []int16
}

// bweFor reports whether streams with hints h get the bandwidth
// extension.
func (r *Recognizer) bweFor(h asr.Hints) bool {
	if h.Grammar == "" {
		return r.cfg.BWEPhrases
	}
	return slices.Contains(r.cfg.BWEGrammars, h.Grammar)
}

// prepare loads the search for h into d (exact: the phrases as a
// grammar), the channel's transform and starts an utterance.
func (r *Recognizer) prepare(d *decoder, h asr.Hints, exact bool, rate int, batch bool) error {
	s, err := r.compile(d, h, exact)
	if err != nil {
		return err
	}
	if err := d.use(s); err != nil {
		return err
	}
	var init []float32
	mllr := ""
	if rate < audio.Rate16k {
		init = r.cfg.CMNInitNarrow
		mllr = r.cfg.NarrowbandMLLR
	}
	if err := d.adapt(mllr); err != nil {
		return err
	}
	return d.start(batch, init, r.cfg.CMNPrior)
}

// stream is one utterance on a pooled decoder.
type stream struct {
	r     *Recognizer
	cond  *asr.Conditioner
	nbest int
	batch bool // buffer the utterance and decode it whole in Finish
	rate  int
	raw   []int16 // batch mode: the utterance as written
	// pick: a closed grammar (digits, yes/no), whose most probable text
	// is reported (see posteriors).
	pick bool

	mu    sync.Mutex
	d     *decoder // nil once released
	exact *decoder // the exact-phrase pass (PhraseGrammarMin); nil for none
	ext   *member  // the decode with the bandwidth extension (BWECombine); nil for none
	buf   []int16
	last  string
}

func (s *stream) Write(samples []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		return asr.ErrClosed
	}
	if s.batch {
		s.raw = append(s.raw, samples...)
		return nil
	}
	s.buf = s.cond.Process(s.buf[:0], samples)
	if err := s.d.process(s.buf, false); err != nil {
		return err
	}
	if s.r.cfg.CMNAdapt {
		s.d.cmnUpdate()
	}
	if s.exact != nil {
		if err := s.exact.process(s.buf, false); err != nil {
			s.dropExact()
		} else if s.r.cfg.CMNAdapt {
			s.exact.cmnUpdate()
		}
	}
	if m := s.ext; m != nil {
		m.buf = m.cond.Process(m.buf[:0], samples)
		if err := m.d.process(m.buf, false); err != nil {
			return err
		}
		if s.r.cfg.CMNAdapt {
			m.d.cmnUpdate()
		}
	}
	return nil
}

// dropExact abandons the exact-phrase pass.
func (s *stream) dropExact() {
	if s.exact != nil {
		s.exact.end()
		s.r.release(s.exact)
		s.exact = nil
	}
}

func (s *stream) Partial() (asr.Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil || s.batch {
		return asr.Result{}, false
	}
	h := s.d.hyp()
	if h == "" {
		return asr.Result{}, false
	}
	s.last = h
	return asr.Result{Text: h}, true
}

func (s *stream) Finish(ctx context.Context) (asr.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		return asr.Result{}, asr.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.releaseLocked()
		return asr.Result{}, err
	}
	d := s.d
	var err error
	if s.batch {
		if t := s.r.cfg.TargetDBFS; t != 0 && len(s.raw) > 0 {
			lvl := asr.SpeechLevel(s.raw, s.rate)
			asr.Scale(s.raw, min(s.r.cfg.MaxGainDB, max(-30, t-lvl)))
		}
		s.buf = s.cond.Process(s.buf[:0], s.raw)
		s.buf = s.cond.Flush(s.buf)
	} else {
		s.buf = s.cond.Flush(s.buf[:0])
	}
	err = d.process(s.buf, s.batch)
	if eerr := d.end(); err == nil {
		err = eerr
	}
	if err != nil {
		s.releaseLocked()
		return asr.Result{}, err
	}
	res := s.result(d)
	if m := s.ext; m != nil {
		if s.batch {
			m.buf = m.cond.Flush(m.cond.Process(m.buf[:0], s.raw))
		} else {
			m.buf = m.cond.Flush(m.buf[:0])
		}
		perr := m.d.process(m.buf, s.batch)
		if eerr := m.d.end(); perr == nil && eerr == nil {
			res = averageResults([]asr.Result{res, s.result(m.d)}, s.nbest)
		}
	}
	if x := s.exact; x != nil {
		perr := x.process(s.buf, s.batch)
		if eerr := x.end(); perr == nil && eerr == nil {
			if g := s.result(x); g.Text != "" && g.Confidence >= s.r.cfg.PhraseGrammarMin {
				res = mergeResults(g, res, exactWeight)
			}
		}
	}
	s.releaseLocked()
	return res, nil
}

// result reads the final hypothesis and its alternatives from d after
// the utterance ended.
func (s *stream) result(d *decoder) asr.Result {
	best := d.hyp()
	hyps, scores := d.nbest(s.r.cfg.NBestPaths)
	return posteriors(best, hyps, scores, d.lnBase()*senscrScale*s.r.cfg.AcousticScale, s.nbest, s.pick && d != s.exact)
}

// senscrScale undoes SENSCR_SHIFT: lattice path scores are in logmath
// units divided by 2^10.
const senscrScale = 1 << 10

func (s *stream) releaseLocked() {
	if s.d != nil {
		s.r.release(s.d)
		s.d = nil
	}
	if s.exact != nil {
		s.r.release(s.exact)
		s.exact = nil
	}
	if s.ext != nil {
		s.r.release(s.ext.d)
		s.ext = nil
	}
}

func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		return nil
	}
	// An abandoned utterance must end before the decoder serves another.
	err := s.d.end()
	if s.exact != nil {
		s.exact.end()
	}
	if s.ext != nil {
		s.ext.d.end()
	}
	s.releaseLocked()
	return err
}

var (
	_ asr.Recognizer = (*Recognizer)(nil)
	_ asr.Closer     = (*Recognizer)(nil)
	_ asr.Stream     = (*stream)(nil)
)
