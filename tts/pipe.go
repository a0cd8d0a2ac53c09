package tts

import (
	"context"
	"io"
	"sync"

	"github.com/openivr/ivr/audio"
)

// Pipe is a Stream fed by one producer goroutine, typically an engine
// reading a subprocess or an HTTP body. The producer calls Write as audio
// arrives (at whatever rate the engine makes, resampled here to the
// stream's rate) and Finish once; the consumer reads with ReadPCM, which
// never blocks.
type Pipe struct {
	rate int    // output rate, Hz; fixed
	stop func() // called once by Close; may be nil

	// Producer-only state: resampling runs outside the lock.
	rs      *audio.Resampler
	rsFrom  int   // input rate of rs
	rsIn    int64 // samples fed to rs
	rsOut   int64 // samples rs produced
	scratch []int16

	mu       sync.Mutex
	buf      []int16       // unread samples are buf[off:]
	off      int           // read position in buf
	produced int           // samples written so far, at rate
	done     bool          // Finish called
	closed   bool          // Close called
	err      error         // why the stream ended early
	notify   chan struct{} // closed on the next change; nil if no waiter
}

// NewPipe returns an empty stream at rate Hz. stop, if not nil, is called
// once when the consumer closes the stream, so the producer can cancel its
// work (kill a process, abort a request).
func NewPipe(rate int, stop func()) *Pipe {
	if rate <= 0 {
		rate = audio.Rate8k
	}
	return &Pipe{rate: rate, stop: stop}
}

// Rate is the stream's sample rate in Hz.
func (p *Pipe) Rate() int { return p.rate }

// Write appends samples recorded at rate Hz, resampling them to the
// stream's rate. It returns ErrClosed once the consumer has closed the
// stream, so the producer can stop. Write is for one producer goroutine.
func (p *Pipe) Write(rate int, samples []int16) error {
	if len(samples) == 0 {
		return p.closedErr()
	}
	out := samples
	if rate != p.rate && rate > 0 {
		if p.rs == nil || p.rsFrom != rate {
			if err := p.flushResampler(); err != nil {
				return err
			}
			p.rs, p.rsFrom, p.rsIn, p.rsOut = audio.NewResampler(rate, p.rate), rate, 0, 0
		}
		p.scratch = p.rs.Process(p.scratch[:0], samples)
		p.rsIn += int64(len(samples))
		p.rsOut += int64(len(p.scratch))
		out = p.scratch
	}
	return p.push(out)
}

// flushResampler pushes the resampler's tail, trimmed to the length the
// input implies (the rest is filter ringing after the end).
func (p *Pipe) flushResampler() error {
	if p.rs == nil {
		return nil
	}
	p.scratch = p.rs.Flush(p.scratch[:0])
	want := p.rsIn*int64(p.rate)/int64(p.rsFrom) - p.rsOut
	if want < 0 {
		want = 0
	}
	if int64(len(p.scratch)) > want {
		p.scratch = p.scratch[:want]
	}
	p.rsOut += int64(len(p.scratch))
	p.rs = nil
	return p.push(p.scratch)
}

func (p *Pipe) closedErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	return nil
}

func (p *Pipe) push(s []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.done || len(s) == 0 {
		return nil
	}
	if p.off > 0 && p.off == len(p.buf) {
		p.buf, p.off = p.buf[:0], 0
	} else if p.off > 4096 && p.off > len(p.buf)/2 {
		n := copy(p.buf, p.buf[p.off:])
		p.buf, p.off = p.buf[:n], 0
	}
	p.buf = append(p.buf, s...)
	p.produced += len(s)
	p.wakeLocked()
	return nil
}

// Finish ends the stream: err nil for a clean end, else the failure. A
// stream that ends cleanly without a single sample ends with ErrNoAudio.
// Only the first call counts.
func (p *Pipe) Finish(err error) {
	if err == nil {
		_ = p.flushResampler() // ErrClosed only; Finish still records the end
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	switch {
	case p.closed:
		err = nil // the consumer stopped it: not a failure
	case err == nil && p.produced == 0:
		err = ErrNoAudio
	}
	p.done, p.err = true, err
	p.wakeLocked()
}

func (p *Pipe) wakeLocked() {
	if p.notify != nil {
		close(p.notify)
		p.notify = nil
	}
}

// ReadPCM copies ready samples into s. It returns 0, nil when none are
// ready yet and io.EOF once the stream has ended (or was closed) and
// everything was read.
func (p *Pipe) ReadPCM(s []int16) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, io.EOF
	}
	n := copy(s, p.buf[p.off:])
	p.off += n
	if n == 0 && p.done {
		return 0, io.EOF
	}
	return n, nil
}

// Wait blocks until samples are ready, the stream has ended, or ctx ends.
func (p *Pipe) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		if p.off < len(p.buf) || p.done || p.closed {
			p.mu.Unlock()
			return nil
		}
		if p.notify == nil {
			p.notify = make(chan struct{})
		}
		ch := p.notify
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Err is the reason the stream ended early, or nil.
func (p *Pipe) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Produced is how many samples, at the stream's rate, the producer has
// written so far.
func (p *Pipe) Produced() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.produced
}

// Close discards unread audio and asks the producer to stop.
func (p *Pipe) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.buf, p.off = nil, 0
	p.wakeLocked()
	stop := p.stop
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
	return nil
}

var _ Stream = (*Pipe)(nil)
