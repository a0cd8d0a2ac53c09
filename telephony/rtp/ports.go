package rtp

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrNoPorts means every port of the range is in use.
var ErrNoPorts = errors.New("rtp: no free port in range")

// PortPool hands out even UDP ports from [Min, Max] (RFC 3550 section 11:
// RTP on even ports, the odd one above left for RTCP).
type PortPool struct {
	IP       net.IP
	Min, Max int

	mu   sync.Mutex
	next int
}

// Listen binds the next free even port of the range.
func (p *PortPool) Listen() (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lo, hi := p.Min+p.Min%2, p.Max
	if lo > hi {
		return nil, fmt.Errorf("rtp: empty port range %d-%d", p.Min, p.Max)
	}
	if p.next < lo || p.next > hi {
		p.next = lo
	}
	n := (hi-lo)/2 + 1
	for i := 0; i < n; i++ {
		port := p.next
		p.next += 2
		if p.next > hi {
			p.next = lo
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: p.IP, Port: port})
		if err == nil {
			return c, nil
		}
	}
	return nil, ErrNoPorts
}
