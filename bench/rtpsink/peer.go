//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// peerConfig describes the calls a peer plays.
type peerConfig struct {
	Calls  int
	IP     net.IP
	PT     uint8         // PCMU payload type offered in the SDP
	DTMFPT uint8         // telephone-event payload type offered in the SDP
	Keys   []keyPress    // pressed in every call, in order
	Idle   time.Duration // silence from the IVR that ends a call
	// Tick is the sender's scheduling granularity; each call still sends
	// every 20 ms on its own phase. Default 2 ms.
	Tick time.Duration
}

// keyPress is one key pressed At after the call's first IVR packet.
type keyPress struct {
	Key byte
	At  time.Duration
}

// frameInterval is the packetisation of both directions.
const frameInterval = 20 * time.Millisecond

// peer is the set of calls; one receive goroutine per port and one sender.
type peer struct {
	cfg   peerConfig
	calls []*call
	epoch time.Time // Unix nanoseconds are stored relative to nothing; epoch orders the summary windows

	closed chan struct{}
	wg     sync.WaitGroup
}

// call is one port, so one SIPp call.
type call struct {
	idx  int
	conn *net.UDPConn

	// Shared between the receive goroutine and the sender.
	remote  atomic.Pointer[netip.AddrPort] // the IVR's RTP source, learnt from its first packet
	firstRx atomic.Int64                   // Unix ns of the first IVR packet (kernel time)
	lastRx  atomic.Int64                   // Unix ns of the latest IVR packet (kernel time)
	ended   atomic.Bool                    // the sender saw Idle without packets
	txPkts  atomic.Uint64
	rxPkts  atomic.Uint64
	keys    atomic.Int32 // key presses completed

	rx rxStats // owned by the receive goroutine until it exits

	tx txState // owned by the sender
}

// rxStats is what one call saw from the IVR.
type rxStats struct {
	pkts, audio, events, otherPT uint64
	malformed, foreign           uint64
	seqGaps, ssrcChanges         uint64
	lastSeq                      uint16
	ssrc                         uint32
	firstTS, lastTS              uint32 // RTP timestamps of the first and latest audio packets
	tsWraps                      int64  // to unwrap lastTS-firstTS over long calls
	prevKernel, prevApp          int64  // Unix ns of the previous packet
	// intervals[i] is the kernel-time gap (ns) before the packet that
	// arrived at at[i] (ms since the peer started); appIntervals the same
	// gap as this program's goroutine saw it.
	intervals, appIntervals, at []uint32
}

// txState is the sender's per-call RTP state (RFC 3550 section 5.1).
type txState struct {
	next     int64 // Unix ns of the next packet
	seq      uint16
	ts       uint32
	ssrc     uint32
	marker   bool
	keyIdx   int    // next key of cfg.Keys
	evtPkt   int    // packets of the current event sent; -1 when none
	evtTS    uint32 // RTP timestamp of the current event
	evtKey   uint8
	frameIdx int // position in the tone table
}

func newPeer(cfg peerConfig) (*peer, error) {
	if cfg.Calls <= 0 {
		return nil, errors.New("calls must be positive")
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 2 * time.Millisecond
	}
	p := &peer{cfg: cfg, epoch: time.Now(), closed: make(chan struct{})}
	for i := range cfg.Calls {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: cfg.IP})
		if err != nil {
			p.closeConns()
			return nil, fmt.Errorf("port %d of %d: %w", i+1, cfg.Calls, err)
		}
		if err := enableRxTimestamps(conn); err != nil {
			conn.Close()
			p.closeConns()
			return nil, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
		}
		c := &call{idx: i, conn: conn}
		c.tx.evtPkt = -1
		c.tx.ssrc = 0x5eed0000 + uint32(i)
		c.tx.seq = uint16(i * 7919)
		c.tx.ts = uint32(i) * 160 * 1000
		c.tx.marker = true
		// About 30 s of intervals; append grows it for longer calls.
		c.rx.intervals = make([]uint32, 0, 1600)
		c.rx.appIntervals = make([]uint32, 0, 1600)
		c.rx.at = make([]uint32, 0, 1600)
		p.calls = append(p.calls, c)
	}
	return p, nil
}

// Ports lists the UDP port of each call, in call order.
func (p *peer) Ports() []int {
	ports := make([]int, len(p.calls))
	for i, c := range p.calls {
		ports[i] = c.conn.LocalAddr().(*net.UDPAddr).Port
	}
	return ports
}

// Start launches the receivers and the sender.
func (p *peer) Start() {
	for _, c := range p.calls {
		p.wg.Add(1)
		go p.receive(c)
	}
	p.wg.Add(1)
	go p.send()
}

// Close stops every goroutine; the statistics are final after it returns.
func (p *peer) Close() {
	close(p.closed)
	p.closeConns()
	p.wg.Wait()
}

func (p *peer) closeConns() {
	for _, c := range p.calls {
		c.conn.Close()
	}
}

// progress is a snapshot for the progress log.
type progress struct {
	Active, Ended, Keys int
	Rx, Tx              uint64
}

// Progress reads the shared counters.
func (p *peer) Progress() progress {
	var pr progress
	for _, c := range p.calls {
		switch {
		case c.ended.Load():
			pr.Ended++
		case c.remote.Load() != nil:
			pr.Active++
		}
		pr.Tx += c.txPkts.Load()
		pr.Keys += int(c.keys.Load())
	}
	for _, c := range p.calls {
		pr.Rx += c.rxPkts.Load()
	}
	return pr
}

// receive reads one call's port until Close.
func (p *peer) receive(c *call) {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	oob := make([]byte, 128)
	epoch := p.epoch.UnixNano()
	for {
		n, oobn, _, from, err := c.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			select {
			case <-p.closed:
				return
			default:
			}
			continue // ICMP errors from sends after the IVR closed its port
		}
		app := time.Now().UnixNano()
		kern := kernelTimestamp(oob[:oobn])
		if kern == 0 {
			kern = app
		}
		r := &c.rx
		if n < 12 || buf[0]>>6 != 2 {
			r.malformed++
			continue
		}
		if rem := c.remote.Load(); rem == nil {
			a := from
			c.remote.Store(&a)
			c.firstRx.Store(kern)
		} else if *rem != from {
			r.foreign++
			continue
		}
		c.lastRx.Store(kern)
		pt := buf[1] & 0x7f
		seq := binary.BigEndian.Uint16(buf[2:])
		ts := binary.BigEndian.Uint32(buf[4:])
		ssrc := binary.BigEndian.Uint32(buf[8:])
		if r.pkts > 0 {
			if ssrc != r.ssrc {
				r.ssrcChanges++
			} else if seq != r.lastSeq+1 {
				r.seqGaps++
			}
			r.intervals = append(r.intervals, clampU32(kern-r.prevKernel))
			r.appIntervals = append(r.appIntervals, clampU32(app-r.prevApp))
			r.at = append(r.at, uint32((kern-epoch)/int64(time.Millisecond)))
		}
		r.pkts++
		c.rxPkts.Add(1)
		r.ssrc, r.lastSeq = ssrc, seq
		r.prevKernel, r.prevApp = kern, app
		switch pt {
		case p.cfg.PT, 8: // PCMU as offered, or PCMA if the IVR chose it
			if r.audio == 0 {
				r.firstTS = ts
			} else if ts < r.lastTS && r.lastTS-ts > 1<<31 {
				r.tsWraps++
			}
			r.lastTS = ts
			r.audio++
		case p.cfg.DTMFPT:
			r.events++
		default:
			r.otherPT++
		}
	}
}

func clampU32(ns int64) uint32 {
	if ns < 0 {
		return 0
	}
	if ns > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(ns)
}

// enableRxTimestamps asks the kernel to stamp each datagram with its
// receive time (socket(7), SO_TIMESTAMPNS).
func enableRxTimestamps(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// kernelTimestamp finds SCM_TIMESTAMPNS in a control message buffer and
// returns it as Unix ns, or 0. It parses in place (no allocation):
// struct cmsghdr { size_t len; int level; int type; } then the data,
// each message aligned to 8 bytes on 64-bit Linux.
func kernelTimestamp(oob []byte) int64 {
	const hdr = 16
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob))
		level := int32(binary.NativeEndian.Uint32(oob[8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:]))
		if l < hdr || l > len(oob) {
			return 0
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SCM_TIMESTAMPNS && l >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr:]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8:]))
			return sec*int64(time.Second) + nsec
		}
		next := (l + 7) &^ 7
		if next > len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}
