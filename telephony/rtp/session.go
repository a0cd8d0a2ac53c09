// Package rtp carries one call's audio over RTP (RFC 3550): a UDP port from
// a configured range, symmetric latching to the peer's source, an inbound
// jitter buffer, and an outbound clock that paces 20 ms packets with
// continuous sequence numbers and timestamps whatever is playing.
package rtp

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	prtp "github.com/pion/rtp"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// ErrMediaTimeout ends a session that received no RTP for the configured time.
var ErrMediaTimeout = errors.New("rtp: media timeout")

// Config describes one session. OnFrame and OnDTMF run on the session's
// receive goroutine and must not block; the slices they get are reused
// after they return.
type Config struct {
	Codec  codec.Codec
	PT     uint8        // payload type of Codec in this session
	DTMFPT int          // telephone-event payload type; -1 when not negotiated
	Remote *net.UDPAddr // from SDP; nil or unspecified while on hold
	// PeerIPs are other addresses the peer may send RTP from before
	// latching: the source of its SIP signalling, when its SDP names an
	// address it cannot be reached at (a NAT, or a wrong guess).
	PeerIPs []net.IP

	// MediaTimeout ends the session when nothing arrives for this long
	// (not counted while the peer holds the call). Zero disables it.
	MediaTimeout time.Duration
	// JitterDepth is how many packets may wait behind a gap before the
	// gap is declared lost. Default 3 (60 ms).
	JitterDepth int

	OnFrame func(pcm []int16)                            // decoded inbound audio, one packet's worth
	OnDTMF  func(ts uint32, marker bool, payload []byte) // RFC 4733 payloads
	// OnEnd is called once, from the session's goroutine, when the media
	// timeout fires. It is not called after Close.
	OnEnd func(err error)

	Logger *slog.Logger
	// Pacer is the outbound clock; nil means DefaultPacer().
	Pacer *Pacer
}

// Stats are counters of one session.
type Stats struct {
	PacketsIn, PacketsOut uint64
	Lost, Late, Foreign   uint64 // concealed gaps, late or duplicate packets, packets from other sources
	Malformed             uint64
}

// Session is one call's RTP stream. Its methods are safe for concurrent use.
type Session struct {
	conn *net.UDPConn
	cfg  Config
	log  *slog.Logger

	mu       sync.Mutex
	remote   *net.UDPAddr // where we send; latched to the peer's source
	latched  bool
	hold     bool         // peer holds: do not send, do not time out
	src      audio.Source // what plays now; nil means silence
	srcDone  chan struct{}
	codec    codec.Codec
	pt       uint8
	dtmfPT   int
	dtmfOut  []dtmfPacket // RFC 4733 packets queued for the clock
	pendMark bool

	stats struct {
		in, out, lost, late, foreign, malformed atomic.Uint64
	}
	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup
	warnOnce  sync.Map // per-kind log rate limiting

	shard *shard  // the pacer shard that ticks this session
	tx    txState // outbound stream state, touched only by tick
}

// txState is the outbound stream: one SSRC, and sequence numbers and
// timestamps that run on across prompts, silence and DTMF.
type txState struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	eventTS uint32
	marker  bool
	pkt     prtp.Packet
	pcm     []int16
	payload []byte
	wire    []byte
}

type dtmfPacket struct {
	payload []byte
	marker  bool
	newTS   bool // first packet of an event: takes the current timestamp
}

// NewSession wraps conn; Start begins sending and receiving.
func NewSession(conn *net.UDPConn, cfg Config) *Session {
	if cfg.JitterDepth <= 0 {
		cfg.JitterDepth = 3
	}
	if cfg.DTMFPT == int(cfg.PT) {
		cfg.DTMFPT = -1 // one payload type cannot be both audio and events
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		conn:   conn,
		cfg:    cfg,
		log:    cfg.Logger,
		codec:  cfg.Codec,
		pt:     cfg.PT,
		dtmfPT: cfg.DTMFPT,
		closed: make(chan struct{}),
	}
	s.setRemoteLocked(cfg.Remote)
	return s
}

// LocalPort is the UDP port the session receives on.
func (s *Session) LocalPort() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// Start launches the receive loop and joins the outbound clock.
func (s *Session) Start() {
	s.tx = txState{ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(), marker: true,
		pcm: make([]int16, 0, 960), payload: make([]byte, 0, 960), wire: make([]byte, 1500)}
	s.wg.Add(1)
	go s.recvLoop()
	p := s.cfg.Pacer
	if p == nil {
		p = DefaultPacer()
	}
	s.shard = p.add(s)
}

// Close stops both loops and releases the port. It is idempotent.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.shard != nil {
			s.shard.remove(s)
		}
		s.conn.Close()
		s.wg.Wait()
		s.mu.Lock()
		if s.srcDone != nil {
			close(s.srcDone)
			s.srcDone = nil
		}
		s.src = nil
		s.mu.Unlock()
	})
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	return Stats{
		PacketsIn: s.stats.in.Load(), PacketsOut: s.stats.out.Load(),
		Lost: s.stats.lost.Load(), Late: s.stats.late.Load(),
		Foreign: s.stats.foreign.Load(), Malformed: s.stats.malformed.Load(),
	}
}

// SampleRate is the PCM rate of the negotiated codec.
func (s *Session) SampleRate() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codec.SampleRate()
}

// Play swaps src in as what the clock sends, replacing (and finishing) what
// was playing. The returned channel is closed when src ends, is replaced,
// or the session closes.
func (s *Session) Play(src audio.Source) <-chan struct{} {
	done := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srcDone != nil {
		close(s.srcDone)
	}
	select {
	case <-s.closed:
		close(done)
		s.src, s.srcDone = nil, nil
		return done
	default:
	}
	s.src = audio.Convert(src, s.codec.SampleRate())
	s.srcDone = done
	return done
}

// Stop silences playback (barge-in). It closes the current done channel.
func (s *Session) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srcDone != nil {
		close(s.srcDone)
	}
	s.src, s.srcDone = nil, nil
}

// Update applies a re-negotiation (re-INVITE): new remote address, codec
// and hold state. The stream's SSRC, sequence and timestamp continue.
func (s *Session) Update(remote *net.UDPAddr, c codec.Codec, pt uint8, dtmfPT int, hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setRemoteLocked(remote)
	if c != nil && c.SampleRate() != s.codec.SampleRate() && s.src != nil {
		s.src = audio.Convert(s.src, c.SampleRate())
	}
	if c != nil {
		s.codec, s.pt = c, pt
	}
	s.dtmfPT = dtmfPT
	s.hold = hold
}

func (s *Session) setRemoteLocked(a *net.UDPAddr) {
	if a == nil || a.IP == nil || a.IP.IsUnspecified() || a.Port == 0 {
		return // hold by c=0.0.0.0 keeps the last address
	}
	if s.remote == nil || !s.remote.IP.Equal(a.IP) || s.remote.Port != a.Port {
		s.remote = a
		s.latched = false // re-latch to the new peer (RFC 3264 section 8)
	}
}

// SendDTMF queues RFC 4733 packets for one key press, sent by the clock
// in place of audio. ok is false when telephone-event was not negotiated.
func (s *Session) SendDTMF(event uint8, dur time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dtmfPT < 0 {
		return false
	}
	// RFC 4733 section 2.5.1: updates every packet with growing duration,
	// the end bit set on the last, which is sent three times.
	rate := s.codec.ClockRate()
	step := uint16(rate / 50)
	n := int(dur / audio.FrameDuration)
	if n < 2 {
		n = 2
	}
	for i := 1; i <= n; i++ {
		d := step * uint16(i)
		end := i == n
		reps := 1
		if end {
			reps = 3
		}
		for r := 0; r < reps; r++ {
			p := make([]byte, 4)
			p[0] = event
			p[1] = 10 // volume -10 dBm0
			if end {
				p[1] |= 0x80
			}
			p[2], p[3] = byte(d>>8), byte(d)
			s.dtmfOut = append(s.dtmfOut, dtmfPacket{payload: p, marker: i == 1, newTS: i == 1 && r == 0})
		}
	}
	return true
}

func (s *Session) warn(kind, msg string, args ...any) {
	if _, loaded := s.warnOnce.LoadOrStore(kind, true); !loaded {
		s.log.Warn(msg, args...)
	}
}

// tick sends the next 20 ms of the stream. The pacer calls it, on the
// session's shard, once per period: it is the stream's one clock.
func (s *Session) tick() {
	t := &s.tx
	s.mu.Lock()
	c, pt, remote, hold := s.codec, s.pt, s.remote, s.hold
	frameSamples := audio.SamplesPer(c.SampleRate(), audio.FrameDuration)
	t.pcm = t.pcm[:frameSamples]
	s.fillLocked(t.pcm)
	var dp dtmfPacket
	haveDTMF := len(s.dtmfOut) > 0
	if haveDTMF {
		dp = s.dtmfOut[0]
		s.dtmfOut = s.dtmfOut[1:]
	}
	dtmfPT := s.dtmfPT
	s.mu.Unlock()

	tsStep := uint32(audio.SamplesPer(c.ClockRate(), audio.FrameDuration))
	if remote == nil || hold {
		t.ts += tsStep
		return
	}
	pkt := &t.pkt
	pkt.Version, pkt.SSRC = 2, t.ssrc
	pkt.SequenceNumber = t.seq
	pkt.Marker = t.marker
	if haveDTMF {
		if dp.newTS {
			t.eventTS = t.ts
		}
		pkt.PayloadType = uint8(dtmfPT)
		pkt.Timestamp = t.eventTS
		pkt.Marker = dp.marker
		pkt.Payload = dp.payload
	} else {
		pkt.PayloadType = pt
		pkt.Timestamp = t.ts
		t.payload = c.Encode(t.payload[:0], t.pcm)
		pkt.Payload = t.payload
	}
	n, err := pkt.MarshalTo(t.wire)
	if err == nil {
		if _, err = s.conn.WriteToUDP(t.wire[:n], remote); err == nil {
			s.stats.out.Add(1)
		}
	}
	if err != nil {
		select {
		case <-s.closed:
			return
		default:
		}
		s.warn("send", "rtp send failed", "err", err)
	}
	t.seq++
	t.ts += tsStep
	t.marker = false
}

// fillLocked fills pcm from the current source, padding with silence.
func (s *Session) fillLocked(pcm []int16) {
	k := 0
	for s.src != nil && k < len(pcm) {
		n, err := s.src.ReadPCM(pcm[k:])
		k += n
		if err != nil {
			if err != io.EOF {
				s.warn("source", "prompt source failed", "err", err)
			}
			close(s.srcDone)
			s.src, s.srcDone = nil, nil
			break
		}
		if n == 0 {
			break // nothing ready yet: silence for the rest of this frame
		}
	}
	clear(pcm[k:])
}

// recvLoop reads RTP, latches the peer, reorders through the jitter
// buffer and hands decoded audio and DTMF payloads to the callbacks.
func (s *Session) recvLoop() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	var pkt prtp.Packet
	jb := newJitterBuffer(s.cfg.JitterDepth)
	pcm := make([]int16, 0, 960)
	var curCodec codec.Codec = s.cfg.Codec
	emit := func(payload []byte, lost bool) {
		if lost {
			s.stats.lost.Add(1)
			pcm = pcm[:audio.SamplesPer(curCodec.SampleRate(), audio.FrameDuration)]
			clear(pcm) // conceal a lost packet with silence
		} else {
			pcm = curCodec.Decode(pcm[:0], payload)
		}
		if s.cfg.OnFrame != nil && len(pcm) > 0 {
			s.cfg.OnFrame(pcm)
		}
	}
	lastRx := time.Now()
	wait := time.Second
	if s.cfg.MediaTimeout > 0 && s.cfg.MediaTimeout < wait {
		wait = s.cfg.MediaTimeout
	}
	// The read deadline is pushed forward at most every wait/4, not per
	// packet: it only has to wake the loop to check the media timeout.
	var deadlineSet time.Time
	for {
		if now := time.Now(); now.Sub(deadlineSet) > wait/4 {
			s.conn.SetReadDeadline(now.Add(wait))
			deadlineSet = now
		}
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			select {
			case <-s.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				deadlineSet = time.Time{}
				s.mu.Lock()
				hold := s.hold
				s.mu.Unlock()
				if hold {
					lastRx = time.Now()
				}
				if s.cfg.MediaTimeout > 0 && time.Since(lastRx) >= s.cfg.MediaTimeout {
					if s.cfg.OnEnd != nil {
						s.cfg.OnEnd(ErrMediaTimeout)
					}
					return
				}
				continue
			}
			s.warn("recv", "rtp receive failed", "err", err)
			if s.cfg.OnEnd != nil {
				s.cfg.OnEnd(err)
			}
			return
		}
		if !s.accept(from) {
			s.stats.foreign.Add(1)
			continue
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil || pkt.Version != 2 {
			s.stats.malformed.Add(1)
			s.warn("malformed", "malformed RTP ignored", "from", from, "err", err)
			continue
		}
		lastRx = time.Now()
		s.stats.in.Add(1)
		s.mu.Lock()
		c, pt, dtmfPT := s.codec, s.pt, s.dtmfPT
		s.mu.Unlock()
		switch {
		case int(pkt.PayloadType) == dtmfPT:
			// Events share the stream's sequence numbers: tell the
			// jitter buffer so the audio does not see them as lost.
			jb.skip(pkt.SequenceNumber)
			jb.pop(emit)
			if s.cfg.OnDTMF != nil {
				s.cfg.OnDTMF(pkt.Timestamp, pkt.Marker, pkt.Payload)
			}
		case pkt.PayloadType == pt:
			late := jb.push(pkt.SequenceNumber, pkt.Payload)
			if late {
				s.stats.late.Add(1)
			}
			curCodec = c
			jb.pop(emit)
		default:
			s.warn("pt", "RTP with unexpected payload type ignored", "pt", pkt.PayloadType)
		}
	}
}

// accept latches to the first source that sends us RTP. The source must
// have the IP address the SDP named (any port: NATs rewrite ports) or the
// address the peer's signalling came from, unless the SDP address is
// private, when the peer is behind a NAT and its real address is only
// learnt from its packets. Once latched, packets from
// anywhere else are ignored.
func (s *Session) accept(from *net.UDPAddr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latched {
		ok := s.remote != nil && s.remote.Port == from.Port && s.remote.IP.Equal(from.IP)
		if !ok {
			s.warn("foreign", "RTP from another source than the latched one ignored", "from", from, "latched", s.remote)
		}
		return ok
	}
	if s.remote != nil && !s.remote.IP.Equal(from.IP) && !isPrivate(s.remote.IP) && !s.peerIP(from.IP) {
		// A public address that is not the one signalled: do not let a
		// stranger hijack the stream before the real peer speaks.
		s.warn("latch", "RTP from an unexpected address ignored", "from", from, "sdp", s.remote)
		return false
	}
	s.remote = &net.UDPAddr{IP: from.IP, Port: from.Port}
	s.latched = true
	return true
}

func isPrivate(ip net.IP) bool { return ip.IsPrivate() || ip.IsLoopback() }

func (s *Session) peerIP(ip net.IP) bool {
	for _, p := range s.cfg.PeerIPs {
		if p.Equal(ip) {
			return true
		}
	}
	return false
}
