// Package bridge connects two answered calls, whatever carries them (SIP,
// a browser): each side hears the other through its own outbound clock,
// at its own sample rate, and keys pressed on one side reach the other
// when it can send them.
package bridge

import (
	"context"
	"sync"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/dtmf"
)

// Leg is what a bridge needs of a call.
type Leg interface {
	ID() string
	// SetSink installs the receiver of the leg's decoded audio (nil
	// removes it).
	SetSink(func(audio.Frame))
	// Play swaps src into the leg's outbound clock.
	Play(src audio.Source) <-chan struct{}
	StopPlayback()
	Digits() <-chan dtmf.Digit
	// Done closes when the leg ends.
	Done() <-chan struct{}
	SampleRate() int
	Hangup(ctx context.Context) error
}

// DTMFSender is a leg that can send keys (RFC 4733) to its far end.
type DTMFSender interface {
	SendDTMF(key byte) bool
}

// slack is how much audio may queue each way before the oldest is
// dropped, keeping the mouth-to-ear delay bounded.
const slackMS = 200

// Connect relays audio both ways between a and b until either ends or
// ctx is done, and returns the leg that ended first (nil when ctx ended
// it). Keys pressed on a go to b and keys on b go to a, when the other
// side can send them. Neither leg is hung up.
func Connect(ctx context.Context, a, b Leg) Leg {
	ab := newPath(a.SampleRate(), b.SampleRate())
	ba := newPath(b.SampleRate(), a.SampleRate())
	a.SetSink(ab.write)
	b.SetSink(ba.write)
	a.Play(ba.out)
	b.Play(ab.out)
	defer func() {
		a.SetSink(nil)
		b.SetSink(nil)
		ab.close()
		ba.close()
		a.StopPlayback()
		b.StopPlayback()
	}()
	for {
		select {
		case <-a.Done():
			return a
		case <-b.Done():
			return b
		case <-ctx.Done():
			return nil
		case d := <-a.Digits():
			if s, ok := b.(DTMFSender); ok {
				s.SendDTMF(d.Key)
			}
		case d := <-b.Digits():
			if s, ok := a.(DTMFSender); ok {
				s.SendDTMF(d.Key)
			}
		}
	}
}

// path carries one direction: frames from one leg's sink, resampled
// with a streaming filter when the rates differ, into a pipe the other
// leg's clock reads.
type path struct {
	out *audio.Pipe
	mu  sync.Mutex
	rs  *audio.Resampler // nil when the rates match
	buf []int16
}

func newPath(from, to int) *path {
	p := &path{out: audio.NewPipe(to, to*slackMS/1000)}
	if from != to {
		p.rs = audio.NewResampler(from, to)
	}
	return p
}

// write runs on the sending leg's media goroutine.
func (p *path) write(f audio.Frame) {
	if p.rs == nil || f.Rate == p.out.Rate() {
		p.out.Write(f.Samples)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.Rate != p.rs.InRate() {
		// The leg changed rate (a re-INVITE to another codec): start a
		// new filter for the new rate.
		p.rs = audio.NewResampler(f.Rate, p.out.Rate())
	}
	p.buf = p.rs.Process(p.buf[:0], f.Samples)
	p.out.Write(p.buf)
}

func (p *path) close() { p.out.Close() }
