package tts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Fallback speaks with Primary and switches to Secondary when Primary
// fails before its first audio or has none ready after FirstAudio. Once the
// first audio of Primary has arrived there is no switch: a voice that
// changes mid-sentence is worse than a short gap.
type Fallback struct {
	Primary   Synthesizer
	Secondary Synthesizer
	// SecondaryVoice replaces the request's voice for Secondary, whose
	// voices are usually named differently; "" is Secondary's default.
	SecondaryVoice string
	// FirstAudio bounds the wait for Primary's first samples; zero means
	// only Primary's own timeouts apply.
	FirstAudio time.Duration
	// OnFallback, if set, is called (from any goroutine) with the reason
	// each time Secondary is used, for logs and metrics.
	OnFallback func(err error)
}

// ErrFirstAudioTimeout reports a primary engine that had no audio ready in
// time.
var ErrFirstAudioTimeout = errors.New("tts: no audio before the first-audio deadline")

// Name is the primary engine's name: the cache keys audio by the voice the
// caller is meant to hear, and does not store fallback audio.
func (f *Fallback) Name() string { return f.Primary.Name() }

// Synthesize starts Primary and returns a stream that plays it or, after
// a failure, Secondary.
func (f *Fallback) Synthesize(ctx context.Context, req Request) (Stream, error) {
	if req.Text == "" {
		return nil, ErrEmptyText
	}
	p, err := f.Primary.Synthesize(ctx, req)
	if err != nil {
		return f.secondary(ctx, req, err)
	}
	rate := req.Rate
	if rate <= 0 {
		rate = p.Rate()
	}
	wctx, cancel := context.WithCancel(ctx)
	fs := &fallbackStream{rate: rate, cancel: cancel, decided: make(chan struct{})}
	fs.primary = p
	go fs.watch(wctx, f, req)
	return fs, nil
}

func (f *Fallback) secondary(ctx context.Context, req Request, cause error) (Stream, error) {
	if f.OnFallback != nil {
		f.OnFallback(cause)
	}
	req.Voice = f.SecondaryVoice
	s, err := f.Secondary.Synthesize(ctx, req)
	if err != nil {
		return nil, errors.Join(cause, fmt.Errorf("fallback %s: %w", f.Secondary.Name(), err))
	}
	return &degradedStream{Stream: s}, nil
}

// degradedStream marks audio from the fallback engine.
type degradedStream struct{ Stream }

func (degradedStream) Degraded() bool { return true }

// Degraded reports whether s carries audio from a fallback engine rather
// than the one requested. The cache does not keep such audio.
func Degraded(s Stream) bool {
	d, ok := s.(interface{ Degraded() bool })
	return ok && d.Degraded()
}

// fallbackStream plays nothing until watch has decided which engine to
// play, then delegates to it.
type fallbackStream struct {
	rate    int
	cancel  context.CancelFunc
	decided chan struct{} // closed once active or err is set

	mu       sync.Mutex
	primary  Stream
	active   Stream // set before decided closes; never changes after
	degraded bool
	err      error // both engines failed
	closed   bool
}

func (s *fallbackStream) watch(ctx context.Context, f *Fallback, req Request) {
	defer close(s.decided)
	wctx := ctx
	if f.FirstAudio > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, f.FirstAudio)
		defer cancel()
	}
	cause := s.primary.Wait(wctx)
	if cause == nil {
		cause = s.primary.Err()
		if cause == nil {
			s.mu.Lock()
			s.active = s.primary
			s.mu.Unlock()
			return
		}
	} else if ctx.Err() != nil {
		// The caller gave up (or closed the stream): no fallback.
		s.mu.Lock()
		s.err = ctx.Err()
		s.mu.Unlock()
		s.primary.Close()
		return
	} else {
		cause = fmt.Errorf("%s: %w after %v", f.Primary.Name(), ErrFirstAudioTimeout, f.FirstAudio)
	}
	s.primary.Close()
	req.Rate = s.rate
	sec, err := f.secondary(ctx, req, cause)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err
		return
	}
	if s.closed {
		sec.Close()
		s.err = ErrClosed
		return
	}
	s.active, s.degraded = sec, true
}

func (s *fallbackStream) Rate() int { return s.rate }

// current returns the stream being played, or nil before the decision.
func (s *fallbackStream) current() (Stream, error, bool) {
	select {
	case <-s.decided:
	default:
		return nil, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active, s.err, true
}

func (s *fallbackStream) ReadPCM(p []int16) (int, error) {
	a, err, ok := s.current()
	switch {
	case !ok:
		return 0, nil
	case err != nil || a == nil:
		return 0, io.EOF
	}
	return a.ReadPCM(p)
}

func (s *fallbackStream) Wait(ctx context.Context) error {
	select {
	case <-s.decided:
	case <-ctx.Done():
		return ctx.Err()
	}
	a, err, _ := s.current()
	if err != nil || a == nil {
		return nil
	}
	return a.Wait(ctx)
}

func (s *fallbackStream) Err() error {
	a, err, ok := s.current()
	switch {
	case !ok:
		return nil
	case err != nil:
		return err
	case a == nil:
		return nil
	}
	return a.Err()
}

// Degraded reports whether the fallback engine is playing.
func (s *fallbackStream) Degraded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.degraded
}

func (s *fallbackStream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	a := s.active
	s.mu.Unlock()
	s.cancel()
	s.primary.Close()
	if a != nil {
		a.Close()
	}
	return nil
}

var (
	_ Synthesizer = (*Fallback)(nil)
	_ Stream      = (*fallbackStream)(nil)
)
