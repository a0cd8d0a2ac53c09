package audio

import (
	"io"
	"sync"
)

// Pipe is a bounded FIFO of PCM samples: one goroutine writes (for example
// the other leg of a bridged call), the outbound clock reads. When full,
// the oldest samples are dropped so latency stays bounded.
type Pipe struct {
	rate int

	mu     sync.Mutex
	buf    []int16 // ring storage
	r, n   int     // read index and fill, guarded by mu
	closed bool
}

// NewPipe returns a pipe holding at most capacity samples at rate.
func NewPipe(rate, capacity int) *Pipe {
	if capacity < 1 {
		capacity = 1
	}
	return &Pipe{rate: rate, buf: make([]int16, capacity)}
}

// Rate is the pipe's sample rate.
func (p *Pipe) Rate() int { return p.rate }

// Write appends samples, dropping the oldest ones when the pipe is full.
// It never blocks and never fails; writing to a closed pipe is a no-op.
func (p *Pipe) Write(s []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	c := len(p.buf)
	if len(s) >= c {
		s = s[len(s)-c:]
	}
	for _, v := range s {
		if p.n == c { // full: drop the oldest
			p.r = (p.r + 1) % c
			p.n--
		}
		p.buf[(p.r+p.n)%c] = v
		p.n++
	}
}

// ReadPCM copies what is buffered into dst without blocking.
func (p *Pipe) ReadPCM(dst []int16) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 && p.closed {
		return 0, io.EOF
	}
	k := 0
	c := len(p.buf)
	for k < len(dst) && p.n > 0 {
		dst[k] = p.buf[p.r]
		p.r = (p.r + 1) % c
		p.n--
		k++
	}
	return k, nil
}

// Close makes readers see io.EOF once the buffered samples are read.
func (p *Pipe) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

var _ Source = (*Pipe)(nil)
