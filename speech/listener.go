// Package speech is the listening pipeline shared by live calls and the
// eval command: inbound frames go through voice activity detection and an
// endpointer; speech (with a short pre-roll so the onset is not lost) is
// streamed into a recognizer; the final text is optionally classified into
// an intent. The caller pushes frames with WriteFrame from its media
// goroutine and reads Events from a channel; recognition runs on the
// Listener's own goroutine so the media path never waits for a decoder.
package speech

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/vad"
)

// EventType says what happened.
type EventType int

// Event types.
const (
	// SpeechStarted: the caller started speaking (barge-in: stop the prompt).
	SpeechStarted EventType = iota + 1
	// Partial: an interim hypothesis while the caller speaks.
	Partial
	// Final: the turn ended and was recognized (and classified).
	Final
	// NoInput: the caller said nothing within the no-input timeout.
	NoInput
	// Error: recognition failed; the dialog should fall back (another
	// engine or the keypad).
	Error
)

// String names the event type.
func (t EventType) String() string {
	switch t {
	case SpeechStarted:
		return "speech-started"
	case Partial:
		return "partial"
	case Final:
		return "final"
	case NoInput:
		return "no-input"
	case Error:
		return "error"
	}
	return fmt.Sprintf("event(%d)", int(t))
}

// Classifier maps recognized text to an intent (nlu.Classifier does).
type Classifier interface {
	Classify(text string) nlu.Result
}

// Event is one thing the Listener reports.
type Event struct {
	Type EventType
	// At is the stream time (audio pushed since New) the event refers to:
	// the speech onset for SpeechStarted, the end of the turn for Final.
	At time.Duration
	// Result is the recognizer's output for Partial and Final.
	Result asr.Result
	// Intent is the classification of a Final result's text, when the
	// Listener has a Classifier and the text is not empty.
	Intent *nlu.Result
	// Confidence is how sure the Listener is of a Final's outcome, 0..1:
	// with a classifier, that Intent (or out of scope) is what the caller
	// meant, from the recognizer's and the classifier's confidences over
	// all hypotheses; without one, the recognizer's confidence in the
	// text. A dialog should confirm or re-prompt below a threshold rather
	// than act on the intent (BENCHMARKS.md gives accuracy at coverage).
	Confidence float64
	// Truncated marks a Final cut by the maximum utterance length.
	Truncated bool
	// Err is set on Error events.
	Err error
}

// Config configures a Listener. Zero fields take the defaults noted.
type Config struct {
	// Rate is the sample rate of the frames, in Hz (8000 or 16000).
	Rate int
	// VAD tunes the voice activity detector.
	VAD vad.Config
	// Endpoint tunes turn taking (trailing silence, no-input timeout).
	Endpoint vad.EndpointConfig
	// PreRoll is audio from before the detected onset sent to the
	// recognizer, so a soft first syllable is not lost. Default 300 ms.
	PreRoll time.Duration
	// PartialEvery is how often interim hypotheses are taken, in stream
	// time; 0 means no Partial events.
	PartialEvery time.Duration
	// Hints guide the recognizer; SetHints changes them for later turns.
	Hints asr.Hints
	// Classifier, when set, classifies each Final's text.
	Classifier Classifier
	// ClassifyBestOnly classifies only the recognizer's best hypothesis.
	// By default the alternatives are classified too and the intent (or
	// out of scope) with the most recognizer confidence behind it wins,
	// so that one misheard word in the best hypothesis does not decide
	// the intent alone (measured better on dev, BENCHMARKS.md).
	ClassifyBestOnly bool
	// Second, when set, also hears every open request (hints without a
	// closed grammar, with a Classifier): both recognizers get the turn's
	// audio, each answer is classified, and the second's replaces the
	// first's when its turn confidence exceeds the first's times
	// FirstWeight. Two engines that err on different requests together
	// get more of them right (measured on dev, BENCHMARKS.md), and a turn
	// the first cannot finish (an error) is still answered by the second.
	Second asr.Recognizer
	// FirstWeight weighs the first recognizer's answer against the
	// second's; default 1 (1 and 1.5 tied over the four dev sets).
	FirstWeight float64
	// PrefetchAfter: once the caller has been quiet this long inside a
	// turn, engines that can (asr.Prefetcher) start their final pass, so
	// that it overlaps the rest of the endpointing silence. Default: half
	// the endpointer's trailing silence; negative: off.
	PrefetchAfter time.Duration
	// Realtime is for Evaluate only (a Listener ignores it): feed each
	// file's frames at the pace of a live call, so the latency includes
	// what engines do during the caller's pause (asr.Prefetcher). Slow:
	// as long as the audio.
	Realtime bool
	// FinishTimeout bounds the recognizer's final pass. Default 5 s.
	FinishTimeout time.Duration
	// Events is the event channel's capacity. Default 32.
	Events int
	// Queue is how many frames may wait for the recognizer goroutine.
	// Default 1000 (20 s).
	Queue int
}

// ErrClosed reports use of a closed Listener.
var ErrClosed = errors.New("speech: listener closed")

// command is work for the recognizer goroutine.
type command struct {
	op      int // opStart, opAudio, opFinish, opAbort, opSync
	samples []int16
	at      time.Duration
	trunc   bool
	done    chan struct{}
}

const (
	opStart = iota
	opAudio
	opFinish
	opAbort
	opSync
	opPrefetch
)

// Listener runs the pipeline for one call.
type Listener struct {
	cfg    Config
	rec    asr.Recognizer
	det    *vad.Detector
	ep     *vad.Endpointer
	ctx    context.Context
	cancel context.CancelFunc
	events chan Event
	cmds   chan command
	wg     sync.WaitGroup

	// Media goroutine state.
	ring     []int16 // last PreRoll+MinSpeech of audio
	ringPos  int
	ringFull bool
	pushed   int64 // samples pushed since New
	inTurn   bool
	reset    atomic.Bool

	hintsMu sync.Mutex
	hints   asr.Hints

	dropped atomic.Int64
}

// New starts a Listener that recognizes with rec. Close it when the call
// ends.
func New(ctx context.Context, rec asr.Recognizer, cfg Config) (*Listener, error) {
	if rec == nil {
		return nil, errors.New("speech: no recognizer")
	}
	det, err := vad.New(cfg.Rate, cfg.VAD)
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	if cfg.PreRoll <= 0 {
		cfg.PreRoll = 300 * time.Millisecond
	}
	if cfg.FinishTimeout <= 0 {
		cfg.FinishTimeout = 5 * time.Second
	}
	if cfg.Events <= 0 {
		cfg.Events = 32
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1000
	}
	if cfg.FirstWeight <= 0 {
		cfg.FirstWeight = 1
	}
	ep := vad.NewEndpointer(cfg.Endpoint)
	cfg.Endpoint = ep.Config()
	if cfg.PrefetchAfter == 0 {
		cfg.PrefetchAfter = cfg.Endpoint.TrailingSilence / 2
	}
	l := &Listener{cfg: cfg, rec: rec, det: det, ep: ep, hints: cfg.Hints}
	l.ctx, l.cancel = context.WithCancel(ctx)
	l.events = make(chan Event, cfg.Events)
	l.cmds = make(chan command, cfg.Queue)
	l.ring = make([]int16, audio.SamplesPer(cfg.Rate, cfg.PreRoll+cfg.Endpoint.MinSpeech+2*audio.FrameDuration))
	l.wg.Add(1)
	go l.run()
	return l, nil
}

// Events delivers what the Listener hears. It is never closed while the
// Listener runs; after Close no more events arrive.
func (l *Listener) Events() <-chan Event { return l.events }

// Dropped counts events and frames dropped because a channel was full.
func (l *Listener) Dropped() int64 { return l.dropped.Load() }

// SetHints changes the hints for turns that start from now on.
func (l *Listener) SetHints(h asr.Hints) {
	l.hintsMu.Lock()
	l.hints = h
	l.hintsMu.Unlock()
}

// Reset re-arms the endpointer (a new prompt started): a turn in progress
// is abandoned and the no-input timer restarts. Safe from any goroutine;
// it takes effect at the next frame.
func (l *Listener) Reset() { l.reset.Store(true) }

// String describes the stage for logs.
func (l *Listener) String() string {
	return fmt.Sprintf("speech listener (%d Hz, vad, endpointer, %s)", l.cfg.Rate, l.rec.Name())
}

// WriteFrame pushes one frame of inbound audio. It never blocks: when the
// recognizer goroutine is behind, audio is dropped and counted.
func (l *Listener) WriteFrame(f audio.Frame) error {
	if l.ctx.Err() != nil {
		return ErrClosed
	}
	if f.Rate != l.cfg.Rate {
		return fmt.Errorf("speech: frame at %d Hz, listener at %d Hz", f.Rate, l.cfg.Rate)
	}
	if l.reset.Swap(false) {
		l.ep.Reset()
		if l.inTurn {
			l.inTurn = false
			l.send(command{op: opAbort})
		}
	}
	frameStart := l.pushed
	l.pushed += int64(len(f.Samples))
	l.remember(f.Samples)
	prob := l.det.Process(f.Samples)
	ev := l.ep.Push(prob)
	if l.inTurn {
		l.send(command{op: opAudio, samples: clone(f.Samples)})
		// The frame that crosses PrefetchAfter of quiet.
		if q := l.ep.Quiet(); l.cfg.PrefetchAfter > 0 && q >= l.cfg.PrefetchAfter && q-l.cfg.Endpoint.Frame < l.cfg.PrefetchAfter {
			l.send(command{op: opPrefetch})
		}
	}
	switch ev {
	case vad.SpeechStart:
		onset := l.ep.SpeechOnset()
		l.emit(Event{Type: SpeechStarted, At: onset})
		// Send the audio from PreRoll before the onset up to now.
		from := max(0, int64(audio.SamplesPer(l.cfg.Rate, onset-l.cfg.PreRoll)))
		l.inTurn = true
		l.send(command{op: opStart, samples: l.since(from, l.pushed), at: onset})
	case vad.SpeechEnd, vad.MaxUtterance:
		if l.inTurn {
			l.inTurn = false
			at := time.Duration(l.pushed) * time.Second / time.Duration(l.cfg.Rate)
			l.send(command{op: opFinish, at: at, trunc: ev == vad.MaxUtterance})
		}
	case vad.NoInput:
		at := time.Duration(frameStart) * time.Second / time.Duration(l.cfg.Rate)
		l.emit(Event{Type: NoInput, At: at})
	}
	return nil
}

// EndTurn ends the turn in progress now, as if the caller had fallen
// silent: for a caller who pressed a key, a stream that ended, or a
// recognizer that knows the answer is complete. It must be called from the
// goroutine that calls WriteFrame. It reports whether a turn was open.
func (l *Listener) EndTurn() bool {
	if l.ep.EndEarly() != vad.SpeechEnd || !l.inTurn {
		return false
	}
	l.inTurn = false
	at := time.Duration(l.pushed) * time.Second / time.Duration(l.cfg.Rate)
	l.send(command{op: opFinish, at: at})
	return true
}

// Sync waits until the recognizer goroutine has handled every frame
// pushed so far (the eval command uses it to measure latency as a live
// call that keeps up would see it).
func (l *Listener) Sync(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case l.cmds <- command{op: opSync, done: done}:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.ctx.Done():
		return ErrClosed
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.ctx.Done():
		return ErrClosed
	}
}

// Close stops the Listener and releases its recognizer stream; it is safe
// to call more than once.
func (l *Listener) Close() error {
	l.cancel()
	l.wg.Wait()
	return nil
}

func clone(s []int16) []int16 { return append([]int16(nil), s...) }

// remember keeps the most recent samples in the ring.
func (l *Listener) remember(s []int16) {
	if len(s) >= len(l.ring) {
		copy(l.ring, s[len(s)-len(l.ring):])
		l.ringPos, l.ringFull = 0, true
		return
	}
	n := copy(l.ring[l.ringPos:], s)
	if n < len(s) {
		copy(l.ring, s[n:])
		l.ringFull = true
	}
	l.ringPos = (l.ringPos + len(s)) % len(l.ring)
	if l.ringPos == 0 && len(s) > 0 {
		l.ringFull = true
	}
}

// since copies the samples in [from, to) that the ring still holds.
func (l *Listener) since(from, to int64) []int16 {
	held := int64(l.ringPos)
	if l.ringFull {
		held = int64(len(l.ring))
	}
	from = max(from, to-held)
	n := int(to - from)
	out := make([]int16, n)
	start := (l.ringPos - n + len(l.ring)) % len(l.ring)
	k := copy(out, l.ring[start:min(len(l.ring), start+n)])
	copy(out[k:], l.ring[:n-k])
	return out
}

func (l *Listener) send(c command) {
	select {
	case l.cmds <- c:
	default:
		l.dropped.Add(1)
	}
}

// emit delivers an event without blocking; a full channel drops it.
func (l *Listener) emit(e Event) {
	select {
	case l.events <- e:
	default:
		l.dropped.Add(1)
	}
}

// emitWait delivers an event the dialog must not miss (Final, Error),
// waiting for room until the Listener closes.
func (l *Listener) emitWait(e Event) {
	select {
	case l.events <- e:
	case <-l.ctx.Done():
	}
}

// run is the recognizer goroutine.
func (l *Listener) run() {
	defer l.wg.Done()
	var st asr.Stream
	var failed bool // the current turn's stream could not be opened
	var sincePartial int
	var lastPartial string
	partialN := audio.SamplesPer(l.cfg.Rate, l.cfg.PartialEvery)
	closeStream := func() {
		if st != nil {
			st.Close()
			st = nil
		}
	}
	defer closeStream()
	for {
		var c command
		select {
		case <-l.ctx.Done():
			return
		case c = <-l.cmds:
		}
		switch c.op {
		case opSync:
			close(c.done)
		case opAbort:
			closeStream()
			failed = false
		case opPrefetch:
			if p, ok := st.(asr.Prefetcher); ok && !failed {
				p.Prefetch()
			}
		case opStart:
			closeStream()
			l.hintsMu.Lock()
			h := l.hints
			l.hintsMu.Unlock()
			var err error
			st, err = l.rec.NewStream(l.ctx, l.cfg.Rate, h)
			if err == nil && l.cfg.Second != nil && l.cfg.Classifier != nil && h.Grammar == "" {
				// The second opinion only when its engine has a decoder
				// free now: under load the turn goes on with the first
				// alone instead of holding up this call's audio.
				now, cancel := context.WithCancel(l.ctx)
				cancel()
				if st2, err2 := l.cfg.Second.NewStream(now, l.cfg.Rate, h); err2 == nil {
					st = &pair{a: st, b: st2}
				}
			}
			failed = err != nil
			sincePartial, lastPartial = 0, ""
			if err != nil {
				st = nil
				l.emitWait(Event{Type: Error, At: c.at, Err: fmt.Errorf("speech: start recognition: %w", err)})
				continue
			}
			l.write(st, c.samples, &failed)
		case opAudio:
			if st == nil || failed {
				continue
			}
			l.write(st, c.samples, &failed)
			if partialN > 0 && !failed {
				sincePartial += len(c.samples)
				if sincePartial >= partialN {
					sincePartial = 0
					if r, ok := st.Partial(); ok && r.Text != lastPartial {
						lastPartial = r.Text
						l.emit(Event{Type: Partial, Result: r})
					}
				}
			}
		case opFinish:
			if st == nil {
				continue
			}
			s := st
			st = nil
			if failed {
				s.Close()
				continue
			}
			ctx, cancel := context.WithTimeout(l.ctx, l.cfg.FinishTimeout)
			var ev Event
			var err error
			if p, ok := s.(*pair); ok {
				ev, err = l.finishPair(ctx, p)
			} else {
				var res asr.Result
				if res, err = s.Finish(ctx); err == nil {
					ev = l.final(res)
				}
			}
			cancel()
			s.Close()
			if err != nil {
				l.emitWait(Event{Type: Error, At: c.at, Err: fmt.Errorf("speech: recognition: %w", err)})
				continue
			}
			ev.At, ev.Truncated = c.at, c.trunc
			l.emitWait(ev)
		}
	}
}

// final is the Final event of res: classified when the listener has a
// classifier and res has text.
func (l *Listener) final(res asr.Result) Event {
	ev := Event{Type: Final, Result: res, Confidence: res.Confidence}
	if l.cfg.Classifier != nil && res.Text != "" {
		r, conf := classify(l.cfg.Classifier, res, !l.cfg.ClassifyBestOnly)
		ev.Intent = &r
		ev.Confidence = conf
	}
	return ev
}

// finishPair finishes both recognizers of a turn at once and keeps the
// answer with more confidence behind it (the first's weighted by
// FirstWeight); when one fails, the other's answer stands.
func (l *Listener) finishPair(ctx context.Context, p *pair) (Event, error) {
	if p.b == nil {
		res, err := p.a.Finish(ctx)
		return l.final(res), err
	}
	var res2 asr.Result
	var err2 error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res2, err2 = p.b.Finish(ctx)
	}()
	res1, err1 := p.a.Finish(ctx)
	<-done
	switch {
	case err1 != nil && err2 != nil:
		return Event{}, err1
	case err1 != nil:
		return l.final(res2), nil
	case err2 != nil:
		return l.final(res1), nil
	}
	ev1, ev2 := l.final(res1), l.final(res2)
	if ev2.Intent != nil && (ev1.Intent == nil || ev2.Confidence > l.cfg.FirstWeight*ev1.Confidence) {
		return ev2, nil
	}
	return ev1, nil
}

// pair feeds one turn to two recognizers (Config.Second). Partial
// results come from the first that has one; a write error of the second
// drops it and the turn goes on with the first.
type pair struct {
	a, b asr.Stream
}

func (p *pair) Write(s []int16) error {
	if p.b != nil {
		if err := p.b.Write(s); err != nil {
			p.b.Close()
			p.b = nil
		}
	}
	return p.a.Write(s)
}

func (p *pair) Partial() (asr.Result, bool) {
	if r, ok := p.a.Partial(); ok {
		return r, true
	}
	if p.b != nil {
		return p.b.Partial()
	}
	return asr.Result{}, false
}

// Prefetch passes the hint to both recognizers that take it.
func (p *pair) Prefetch() {
	if f, ok := p.a.(asr.Prefetcher); ok {
		f.Prefetch()
	}
	if f, ok := p.b.(asr.Prefetcher); ok && p.b != nil {
		f.Prefetch()
	}
}

// Finish is the first recognizer's (the listener finishes pairs itself).
func (p *pair) Finish(ctx context.Context) (asr.Result, error) { return p.a.Finish(ctx) }

func (p *pair) Close() error {
	if p.b != nil {
		p.b.Close()
	}
	return p.a.Close()
}

func (l *Listener) write(st asr.Stream, s []int16, failed *bool) {
	if err := st.Write(s); err != nil {
		*failed = true
		l.emitWait(Event{Type: Error, Err: fmt.Errorf("speech: recognizer write: %w", err)})
	}
}

// classify returns the classification of res.Text, or with vote, that of
// the hypothesis (best or alternative) whose label (intent or out of
// scope) collects the most recognizer confidence over all hypotheses. The
// second value is the confidence that the returned label is right (see
// labelShare).
func classify(c Classifier, res asr.Result, vote bool) (nlu.Result, float64) {
	type cand struct {
		r nlu.Result
		w float64 // confidence of the first hypothesis with this label
	}
	mass := map[string]float64{}
	first := map[string]cand{}
	add := func(r nlu.Result, w float64) {
		k := label(r)
		mass[k] += w
		if c, ok := first[k]; !ok || w > c.w {
			first[k] = cand{r, w}
		}
	}
	best := c.Classify(res.Text)
	clfs := make([]nlu.Result, 0, 1+len(res.Alternatives))
	clfs = append(clfs, best)
	add(best, max(res.Confidence, 1e-9))
	for _, a := range res.Alternatives {
		r := nlu.Result{OutOfScope: true}
		if a.Text != "" {
			r = c.Classify(a.Text)
			add(r, a.Confidence)
		}
		clfs = append(clfs, r)
	}
	win := label(best)
	if !vote {
		return best, labelShare(res, clfs, win)
	}
	for k, m := range mass {
		if m > mass[win] {
			win = k
		}
	}
	return first[win].r, labelShare(res, clfs, win)
}

// label is a classification's intent, or "" for out of scope.
func label(r nlu.Result) string {
	if r.OutOfScope {
		return ""
	}
	return r.Intent
}

// labelShare is the confidence that lab (an intent, or "" for out of
// scope) is what the caller meant: the recognizer's confidence in each of
// hypothesis (res.Text, then the alternatives) times the
// classifier's probability of lab for that hypothesis (clfs, in the same
// order), summed and divided by the hypotheses' total confidence. A
// hypothesis the classifier rejects gives out of scope what its in-scope
// intents leave. Measured on dev, it separates right from wrong intents
// far better than either confidence alone (ROC-AUC ~0.85 against ~0.5-0.7,
// BENCHMARKS.md), so a dialog can confirm below a threshold instead of
// acting on a wrong intent. Engines that give no confidences count the best
// hypothesis only.
func labelShare(res asr.Result, clfs []nlu.Result, lab string) float64 {
	var z, m float64
	for i := range clfs {
		w := res.Confidence
		if i > 0 {
			w = res.Alternatives[i-1].Confidence
		}
		if i == 0 && w <= 0 {
			w = 1e-9
			if len(res.Alternatives) == 0 {
				w = 1 // an engine without confidences
			}
		}
		if w <= 0 {
			continue
		}
		z += w
		m += w * share(clfs[i], lab)
	}
	if z <= 0 {
		return 0
	}
	return min(1, max(0, m/z))
}

// share is the classifier's probability of lab in r.
func share(r nlu.Result, lab string) float64 {
	in := 0.0
	found := -1.0
	for _, a := range r.Alternatives {
		in += a.Confidence
		if a.Intent == lab && lab != "" {
			found = a.Confidence
		}
	}
	if len(r.Alternatives) == 0 && !r.OutOfScope {
		in = r.Confidence
		if r.Intent == lab {
			found = r.Confidence
		}
	}
	if lab == "" {
		if !r.OutOfScope {
			return 0
		}
		return max(0, 1-in)
	}
	return max(0, found)
}

var _ audio.Sink = (*Listener)(nil)

// defaultEndpoint fills the endpointer defaults.
func defaultEndpoint(c vad.EndpointConfig) vad.EndpointConfig {
	return vad.NewEndpointer(c).Config()
}

// DefaultEscapeWords are always recognizable, whatever the menu: the
// caller's way out to a human.
var DefaultEscapeWords = []string{"agent", "operator", "human", "representative"}

// HintsFromIntents builds recognizer hints from intents: every example and
// synonym variant, the out-of-scope examples (so that such requests are
// heard as what they are and rejected by the classifier instead of being
// forced onto an intent's words) and the escape words.
func HintsFromIntents(intents []nlu.Intent, outOfScope []string, escape []string) asr.Hints {
	var h asr.Hints
	for i := range intents {
		h.Phrases = append(h.Phrases, intents[i].Phrases()...)
	}
	h.Phrases = append(h.Phrases, outOfScope...)
	h.EscapeWords = append(h.EscapeWords, escape...)
	return h
}
