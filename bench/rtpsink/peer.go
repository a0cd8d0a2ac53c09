//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// peerConfig describes the calls a peer plays.
type peerConfig struct {
	Calls  int
	IP     net.IP        // IPv4 address to bind the ports to
	PT     uint8         // PCMU payload type offered in the SDP
	DTMFPT uint8         // telephone-event payload type offered in the SDP
	Keys   []keyPress    // pressed in every call, in order
	Idle   time.Duration // silence from the IVR that ends a call
	// Utterances, when set, are said by the calls: call k says
	// Utterances[k % len], starting UtterAt after its first IVR packet,
	// or with UtterSync UtterAt after every call has had its first IVR
	// packet (all callers speak at once). Outside the utterance the call
	// sends Fill.
	Utterances []utterance
	UtterAt    time.Duration
	UtterSync  bool
	// Fill is the audio between utterances and key presses: "tone" (a
	// -20 dBFS 400 Hz tone, the default) or "silence".
	Fill string
}

// keyPress is one key pressed At after the call's first IVR packet.
type keyPress struct {
	Key byte
	At  time.Duration
}

// frameInterval is the packetisation of both directions.
const frameInterval = 20 * time.Millisecond

// peer is the set of calls. One goroutine, locked to its thread, serves
// every port: it waits in epoll_wait for datagrams (at most 1 ms, the
// sender's granularity), reads each ready port once, and sends the
// packets that are due. Under load epoll_wait returns many ports at a
// time, so a received packet costs one recvmsg and a sent one one
// sendto: a goroutine per port cost about three system calls and a
// thread wake-up per packet, which on the shared 2-core VM starved the
// server this peer is measuring.
type peer struct {
	cfg   peerConfig
	calls []*call
	epfd  int
	epoch time.Time // start; the summary's windows are measured from it

	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex // guards prog
	prog progress   // published by the loop every 100 ms

	fill     []byte // the frame sent outside utterances and key presses
	withRx   int    // calls that have had their first IVR packet (loop only)
	syncedAt int64  // Unix ns when withRx reached Calls (UtterSync)
}

// call is one port, so one SIPp call. Only the loop touches it until
// Close returns.
type call struct {
	idx  int
	fd   int
	port int

	remote      *syscall.SockaddrInet4 // the IVR's RTP source, learnt from its first packet
	remoteIP    [4]byte
	remotePort  int
	firstRx     int64 // Unix ns of the first IVR packet (kernel time)
	lastRx      int64 // Unix ns of the latest IVR packet (kernel time)
	lastRead    int64 // Unix ns when the loop last read a packet of this call
	ended       bool  // Idle passed without packets: the IVR hung up; the peer stops sending
	txPkts      uint64
	keysPressed int

	rx  rxStats
	tx  txState
	utt uttState
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
	// gap as the loop saw it (after epoll_wait returned).
	intervals, appIntervals, at []uint32
}

// txState is the sender's per-call RTP state (RFC 3550 section 5.1).
type txState struct {
	next   int64 // Unix ns of the next packet
	seq    uint16
	ts     uint32
	ssrc   uint32
	marker bool
	keyIdx int    // next key of cfg.Keys
	evtPkt int    // packets of the current event sent; -1 when none
	evtTS  uint32 // RTP timestamp of the current event
	evtKey uint8
}

// progress is a snapshot for the progress log.
type progress struct {
	Active, Ended, Keys int
	Rx, Tx              uint64
}

func newPeer(cfg peerConfig) (*peer, error) {
	if cfg.Calls <= 0 {
		return nil, errors.New("calls must be positive")
	}
	ip4 := cfg.IP.To4()
	if ip4 == nil {
		return nil, fmt.Errorf("%v: only IPv4 is supported", cfg.IP)
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	var fill []byte
	switch cfg.Fill {
	case "", "tone":
		fill = toneFrame
	case "silence":
		fill = silenceFrame
	default:
		return nil, fmt.Errorf("fill %q: want tone or silence", cfg.Fill)
	}
	if cfg.UtterAt < 0 {
		return nil, errors.New("utterance offset must not be negative")
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	p := &peer{cfg: cfg, epfd: epfd, epoch: time.Now(), stop: make(chan struct{}), done: make(chan struct{}), fill: fill}
	for i := range cfg.Calls {
		c, err := openPort(i, [4]byte(ip4))
		if err != nil {
			p.closeFDs()
			return nil, fmt.Errorf("port %d of %d: %w", i+1, cfg.Calls, err)
		}
		if len(cfg.Utterances) > 0 {
			c.utt.u = &cfg.Utterances[i%len(cfg.Utterances)]
		}
		p.calls = append(p.calls, c)
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(i)} // Fd carries the call index
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			p.closeFDs()
			return nil, fmt.Errorf("epoll_ctl: %w", err)
		}
	}
	return p, nil
}

// openPort opens a non-blocking UDP socket on an ephemeral port with
// kernel receive timestamps (socket(7), SO_TIMESTAMPNS).
func openPort(i int, ip [4]byte) (*call, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: ip}); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	c := &call{idx: i, fd: fd, port: sa.(*syscall.SockaddrInet4).Port}
	c.tx.evtPkt = -1
	c.utt.frame = -1
	c.tx.ssrc = 0x5eed0000 + uint32(i)
	c.tx.seq = uint16(i * 7919)
	c.tx.ts = uint32(i) * 160 * 1000
	c.tx.marker = true
	// About 30 s of intervals; append grows them for longer calls.
	c.rx.intervals = make([]uint32, 0, 1600)
	c.rx.appIntervals = make([]uint32, 0, 1600)
	c.rx.at = make([]uint32, 0, 1600)
	return c, nil
}

// Ports lists the UDP port of each call, in call order.
func (p *peer) Ports() []int {
	ports := make([]int, len(p.calls))
	for i, c := range p.calls {
		ports[i] = c.port
	}
	return ports
}

// Start launches the loop.
func (p *peer) Start() { go p.loop() }

// Close stops the loop and closes the ports; the statistics are final
// after it returns.
func (p *peer) Close() {
	close(p.stop)
	<-p.done
	p.closeFDs()
}

func (p *peer) closeFDs() {
	for _, c := range p.calls {
		syscall.Close(c.fd)
	}
	syscall.Close(p.epfd)
}

// Progress is the loop's latest snapshot.
func (p *peer) Progress() progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prog
}

// loop serves every port until Close.
func (p *peer) loop() {
	defer close(p.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]syscall.EpollEvent, 256)
	r := newReader()
	buf := make([]byte, 12+samplesPerFrame)
	var lastProg int64
	lastPass := time.Now().UnixNano()
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		n, err := syscall.EpollWait(p.epfd, events, 1)
		if err != nil && err != syscall.EINTR {
			panic(fmt.Sprintf("epoll_wait: %v", err)) // a bench tool: a broken epoll fd is a bug
		}
		app := time.Now().UnixNano()
		for _, ev := range events[:max(n, 0)] {
			p.receive(p.calls[ev.Fd], r, app)
		}
		now := time.Now().UnixNano()
		p.sendDue(buf, now, now-lastPass > int64(p.cfg.Idle)/4)
		lastPass = now
		if app-lastProg > int64(100*time.Millisecond) {
			p.publish()
			lastProg = app
		}
	}
}

func (p *peer) publish() {
	var pr progress
	for _, c := range p.calls {
		switch {
		case c.ended:
			pr.Ended++
		case c.remote != nil:
			pr.Active++
		}
		pr.Rx += c.rx.pkts
		pr.Tx += c.txPkts
		pr.Keys += c.keysPressed
	}
	p.mu.Lock()
	p.prog = pr
	p.mu.Unlock()
}

// reader is recvmsg(2) with buffers made once: the packet, its source
// address and the control data that carries the kernel timestamp.
type reader struct {
	buf  []byte
	oob  []byte
	name syscall.RawSockaddrInet4
	iov  syscall.Iovec
	msg  syscall.Msghdr
}

func newReader() *reader {
	r := &reader{buf: make([]byte, 1500), oob: make([]byte, 128)}
	r.iov.Base = &r.buf[0]
	r.iov.SetLen(len(r.buf))
	r.msg.Name = (*byte)(unsafe.Pointer(&r.name))
	r.msg.Iov = &r.iov
	r.msg.Iovlen = 1
	r.msg.Control = &r.oob[0]
	return r
}

// read takes one datagram from fd: its length and kernel receive time.
func (r *reader) read(fd int) (n int, kern int64, err error) {
	r.msg.Namelen = syscall.SizeofSockaddrInet4
	r.msg.SetControllen(len(r.oob))
	m, _, errno := syscall.Syscall(syscall.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.msg)), syscall.MSG_DONTWAIT)
	if errno != 0 {
		return 0, 0, errno
	}
	return int(m), kernelTimestamp(r.oob[:r.msg.Controllen]), nil
}

// fromPort is the source port of the last datagram read.
func (r *reader) fromPort() int {
	b := (*[2]byte)(unsafe.Pointer(&r.name.Port))
	return int(b[0])<<8 | int(b[1])
}

// receive reads one datagram of a call that epoll found ready.
func (p *peer) receive(c *call, r *reader, app int64) {
	n, kern, err := r.read(c.fd)
	if err != nil {
		return // EAGAIN, or an ICMP error from a send after the IVR closed its port
	}
	if kern == 0 {
		kern = app
	}
	buf := r.buf[:n]
	st := &c.rx
	if n < 12 || buf[0]>>6 != 2 {
		st.malformed++
		return
	}
	if c.remote == nil {
		c.remoteIP, c.remotePort = r.name.Addr, r.fromPort()
		c.remote = &syscall.SockaddrInet4{Addr: c.remoteIP, Port: c.remotePort}
		c.firstRx, c.lastRead = kern, app
		p.withRx++
		if p.withRx == len(p.calls) {
			p.syncedAt = kern
		}
	} else if r.name.Addr != c.remoteIP || r.fromPort() != c.remotePort {
		st.foreign++
		return
	}
	c.lastRx, c.lastRead = kern, app
	c.ended = false // a late packet: the call was not over
	pt := buf[1] & 0x7f
	seq := binary.BigEndian.Uint16(buf[2:])
	ts := binary.BigEndian.Uint32(buf[4:])
	ssrc := binary.BigEndian.Uint32(buf[8:])
	if st.pkts > 0 {
		if ssrc != st.ssrc {
			st.ssrcChanges++
		} else if seq != st.lastSeq+1 {
			st.seqGaps++
		}
		st.intervals = append(st.intervals, clampU32(kern-st.prevKernel))
		st.appIntervals = append(st.appIntervals, clampU32(app-st.prevApp))
		st.at = append(st.at, uint32((kern-p.epoch.UnixNano())/int64(time.Millisecond)))
	}
	st.pkts++
	st.ssrc, st.lastSeq = ssrc, seq
	st.prevKernel, st.prevApp = kern, app
	switch pt {
	case p.cfg.PT, 8: // PCMU as offered, or PCMA if the IVR chose it
		if st.audio == 0 {
			st.firstTS = ts
		} else if ts < st.lastTS && st.lastTS-ts > 1<<31 {
			st.tsWraps++
		}
		st.lastTS = ts
		st.audio++
		if pt == p.cfg.PT {
			c.utt.observe(buf[12:], kern)
		}
	case p.cfg.DTMFPT:
		st.events++
	default:
		st.otherPT++
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
