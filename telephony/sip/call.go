package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/telephony/rtp"
	"github.com/openivr/ivr/telephony/sdp"
)

// Errors of the call life cycle.
var (
	// ErrCancelled means the caller cancelled before we answered.
	ErrCancelled = errors.New("sip: call cancelled by the caller")
	// ErrEnded means the call is over.
	ErrEnded = errors.New("sip: call ended")
	// ErrNoAck means our 200 OK was never acknowledged (RFC 3261 section 13.3.1.4).
	ErrNoAck = errors.New("sip: no ACK for 200 OK")
)

// EndCause says why a call's media and signalling stopped.
type EndCause string

// End causes; the dialog maps them to call record end reasons.
const (
	endNone         EndCause = ""
	EndRemoteBye    EndCause = "remote_bye"
	EndLocalBye     EndCause = "local_bye"
	EndCancel       EndCause = "cancel"
	EndMediaTimeout EndCause = "media_timeout"
	endShutdown     EndCause = "shutdown"
	EndTransferred  EndCause = "transferred"
	EndFailed       EndCause = "failed"
)

// EndShutdown is the cause when the server stops.
const EndShutdown = endShutdown

// Call is one SIP call, inbound or outbound. Its methods are safe for
// concurrent use; the handler's goroutine normally drives it.
type Call struct {
	srv       *Server
	dialogID  string
	inbound   bool
	dtx       *sipgo.DialogServerSession // inbound calls
	tx        gosip.ServerTransaction    // the INVITE's, inbound calls
	dcs       *sipgo.DialogClientSession // outbound calls
	invite    *gosip.Request
	transport string
	log       *slog.Logger

	// Immutable after construction.
	id, from, to, fromUser, toUser string
	started                        time.Time
	offer                          *sdp.Media // nil for a late offer

	mu        sync.Mutex
	answered  time.Time
	neg       *sdp.Negotiated
	local     sdp.Local
	conn      *net.UDPConn
	session   *rtp.Session
	sink      func(audio.Frame)
	cause     EndCause
	lastAcked chan struct{} // closed when the ACK for our latest 2xx arrives
	notifies  chan string   // REFER progress (sipfrag status lines)

	digits  chan dtmf.Digit
	dropped atomic.Uint64
	inPeak  atomic.Uint64 // loudest inbound frame: mean square of samples
	acked   atomic.Bool   // the ACK for our 200 OK arrived
	// eventsSeen: the phone sent RFC 4733 events, so in-band detection stops.
	eventsSeen atomic.Bool
	receiver   *dtmf.Receiver
	done       chan struct{}
	endOnce    sync.Once
	// settled closes when the INVITE transaction has its final answer
	// (answered, rejected or over): sipgo ends the transaction when the
	// request handler returns, so the handler waits for it.
	settled    chan struct{}
	settleOnce sync.Once
}

func (c *Call) settle() { c.settleOnce.Do(func() { close(c.settled) }) }

// ID is the SIP Call-ID.
func (c *Call) ID() string { return c.id }

// From is the caller's address (From header URI).
func (c *Call) From() string { return c.from }

// FromUser is the user part of From: usually the caller's number.
func (c *Call) FromUser() string { return c.fromUser }

// To is the dialled address (To header URI).
func (c *Call) To() string { return c.to }

// ToUser is the user part of the Request-URI: the number dialled.
func (c *Call) ToUser() string { return c.toUser }

// Channel names the signalling for records.
func (c *Call) Channel() string { return "sip" }

// StartedAt is when the INVITE arrived (or was sent).
func (c *Call) StartedAt() time.Time { return c.started }

// Header returns a header of the initial INVITE ("" when absent).
func (c *Call) Header(name string) string {
	if h := c.invite.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// Done is closed when the call ends for any reason.
func (c *Call) Done() <-chan struct{} { return c.done }

// Cause says why the call ended ("" while it is up).
func (c *Call) Cause() EndCause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Digits delivers key presses from all three DTMF paths, once each.
func (c *Call) Digits() <-chan dtmf.Digit { return c.digits }

// SampleRate is the PCM rate of the negotiated codec (8000 before answer).
func (c *Call) SampleRate() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.neg == nil {
		return audio.Rate8k
	}
	return c.neg.Codec.SampleRate()
}

// Codec names the negotiated codec ("" before answer).
func (c *Call) Codec() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.neg == nil {
		return ""
	}
	return c.neg.Codec.Name()
}

// SetSink sets where decoded caller audio goes. fn runs on the media
// goroutine and must not block; the frame's samples are reused after it
// returns.
func (c *Call) SetSink(fn func(audio.Frame)) {
	c.mu.Lock()
	c.sink = fn
	c.mu.Unlock()
}

// Play swaps src into the outbound clock; the channel closes when src ends
// or is replaced or stopped.
func (c *Call) Play(src audio.Source) <-chan struct{} {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return s.Play(src)
}

// StopPlayback silences the outbound stream at once (barge-in).
func (c *Call) StopPlayback() {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil {
		s.Stop()
	}
}

// SendDTMF sends a key as RFC 4733 events (to an agent's leg, say).
func (c *Call) SendDTMF(key byte) bool {
	code := dtmf.EventCode(key)
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s == nil || code < 0 {
		return false
	}
	return s.SendDTMF(uint8(code), 100*time.Millisecond)
}

// Stats returns the RTP counters.
func (c *Call) Stats() rtp.Stats {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s == nil {
		return rtp.Stats{}
	}
	return s.Stats()
}

// Ringing sends 180 Ringing on an inbound call not yet answered.
func (c *Call) Ringing() error {
	if !c.inbound {
		return nil
	}
	return c.dtx.Respond(180, "Ringing", nil, c.serverHeader())
}

func (c *Call) serverHeader() gosip.Header { return gosip.NewHeader("Server", c.srv.cfg.UserAgent) }

// Reject refuses an inbound call that is not answered.
func (c *Call) Reject(code int, reason string) error {
	if !c.inbound {
		return errors.New("sip: reject on an outbound call")
	}
	// Answer on the transaction directly: the dialog layer would wait up
	// to 32 s for the ACK, which the transaction layer absorbs anyway.
	res := gosip.NewResponseFromRequest(c.dtx.InviteRequest, code, reason, nil)
	res.AppendHeader(c.serverHeader())
	err := c.tx.Respond(res)
	c.end(EndFailed)
	c.settle()
	return err
}

// Answer sends 200 OK with our SDP, starts the media and waits for the ACK.
// It fails with ErrCancelled when the caller cancelled first.
func (c *Call) Answer(ctx context.Context) error {
	if !c.inbound {
		return errors.New("sip: answer on an outbound call")
	}
	select {
	case <-c.dtx.Context().Done():
		c.end(EndCancel)
		return ErrCancelled
	case <-c.done:
		if c.Cause() == EndCancel {
			return ErrCancelled
		}
		return ErrEnded
	default:
	}
	conn, err := c.srv.ports.Listen()
	if err != nil {
		c.dtx.Respond(503, "Service Unavailable", nil, c.serverHeader())
		c.end(EndFailed)
		return err
	}
	defer c.settle()
	c.mu.Lock()
	c.conn = conn
	c.local = sdp.Local{Addr: c.srv.cfg.PublicIP, Port: conn.LocalAddr().(*net.UDPAddr).Port, SessionID: rand.Uint64() >> 1, Version: 1}
	var body []byte
	if c.offer != nil {
		body = sdp.Answer(c.local, c.neg)
		c.startMediaLocked()
	} else {
		body = sdp.Offer(c.local, c.srv.cfg.Codecs, sdp.SendRecv) // late offer: the answer comes in the ACK
	}
	c.mu.Unlock()

	res := gosip.NewSDPResponseFromRequest(c.dtx.InviteRequest, body)
	res.AppendHeader(c.contact())
	res.AppendHeader(gosip.NewHeader("Allow", allowed))
	res.AppendHeader(gosip.NewHeader("Supported", "timer"))
	res.AppendHeader(c.serverHeader())
	if se := c.invite.GetHeader("Session-Expires"); se != nil {
		// RFC 4028 section 9: we are the UAS and accept the interval; the
		// refresher is the caller unless it said otherwise.
		v := se.Value()
		if !strings.Contains(v, "refresher") {
			v += ";refresher=uac"
		}
		res.AppendHeader(gosip.NewHeader("Session-Expires", v))
		res.AppendHeader(gosip.NewHeader("Require", "timer"))
	}
	c.mu.Lock()
	c.answered = time.Now()
	c.mu.Unlock()
	err = c.dtx.WriteResponse(res)
	c.settle()
	if err != nil && (c.acked.Load() || c.Cause() == EndRemoteBye) {
		// The ACK came and then (fast) a BYE: sipgo saw the dialog end
		// before it saw it confirmed. The call was answered.
		err = nil
	}
	if err != nil {
		select {
		case <-c.dtx.Context().Done():
			c.end(EndCancel)
			return ErrCancelled
		default:
		}
		c.end(EndFailed)
		if strings.Contains(err.Error(), "ACK") {
			return ErrNoAck
		}
		return fmt.Errorf("sip: answer: %w", err)
	}
	return nil
}

// AnsweredAt is when we sent 200 OK (zero when not answered).
func (c *Call) AnsweredAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

func (c *Call) contact() gosip.Header { return c.srv.contact(c.transport) }

// startMediaLocked opens the RTP session for the negotiated codec.
func (c *Call) startMediaLocked() {
	if c.session != nil || c.neg == nil || c.conn == nil {
		return
	}
	rate := c.neg.Codec.SampleRate()
	c.receiver = dtmf.NewReceiver(rate, c.emitDigit)
	recv := c.receiver
	c.session = rtp.NewSession(c.conn, rtp.Config{
		// A stateful codec (G.722) needs its own instance per stream.
		Codec: codec.ForStream(c.neg.Codec), PT: c.neg.PT, DTMFPT: c.neg.DTMFPT, Remote: c.neg.Remote, PeerIPs: c.peerIPs(),
		MediaTimeout: c.srv.cfg.MediaTimeout,
		OnFrame: func(pcm []int16) {
			// Once the phone has sent RFC 4733 events it keys that way:
			// the in-band detector (7 % of a busy server's CPU) rests.
			if !c.eventsSeen.Load() {
				recv.WritePCM(pcm)
			}
			c.notePeak(pcm)
			c.mu.Lock()
			sink := c.sink
			c.mu.Unlock()
			if sink != nil {
				sink(audio.Frame{Rate: rate, Samples: pcm})
			}
		},
		OnDTMF: func(ts uint32, marker bool, payload []byte) {
			c.eventsSeen.Store(true)
			if marker {
				c.log.Debug("RFC 4733 event start", "ts", ts, "payload", payload)
			}
			if err := recv.WriteRFC4733(ts, marker, payload); err != nil {
				c.log.Debug("bad RFC 4733 payload", "err", err)
			}
		},
		OnEnd: func(err error) {
			if errors.Is(err, rtp.ErrMediaTimeout) {
				c.log.Info("media timeout: no RTP", "timeout", c.srv.cfg.MediaTimeout)
				c.end(EndMediaTimeout)
				return
			}
			c.end(EndFailed)
		},
		Logger: c.log,
	})
	c.session.Start()
}

func (c *Call) notePeak(pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	var sum uint64
	for _, v := range pcm {
		sum += uint64(int64(v) * int64(v))
	}
	ms := sum / uint64(len(pcm))
	for {
		old := c.inPeak.Load()
		if ms <= old || c.inPeak.CompareAndSwap(old, ms) {
			return
		}
	}
}

// MediaStats summarises the call's audio for its record.
func (c *Call) MediaStats() models.MediaStats {
	st := c.Stats()
	peak := -96.0
	if ms := c.inPeak.Load(); ms > 0 {
		peak = math.Max(-96, 10*math.Log10(float64(ms)/(32768.0*32768.0)))
	}
	return models.MediaStats{
		Codec: c.Codec(), PacketsIn: st.PacketsIn, PacketsOut: st.PacketsOut, Lost: st.Lost,
		Late: st.Late, Foreign: st.Foreign, Malformed: st.Malformed, InPeakDBFS: math.Round(peak*10) / 10,
	}
}

// peerIPs is where the peer's signalling comes from: its RTP may come
// from there when its SDP address is unreachable.
func (c *Call) peerIPs() []net.IP {
	host, _, err := net.SplitHostPort(c.invite.Source())
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}
	}
	return nil
}

// emitDigit runs on media or SIP goroutines: it must not block.
func (c *Call) emitDigit(d dtmf.Digit) {
	select {
	case c.digits <- d:
	default:
		c.dropped.Add(1)
		c.log.Warn("digit dropped: dialog not reading", "key", string(d.Key))
	}
}

// end marks the call over (once) and wakes everything waiting on Done.
func (c *Call) end(cause EndCause) {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.cause = cause
		c.mu.Unlock()
		close(c.done)
		if c.settled != nil {
			c.settle()
		}
	})
}

// Hangup ends the call from our side: BYE when answered. Idempotent.
func (c *Call) Hangup(ctx context.Context) error {
	if c.Cause() != endNone && c.Cause() != EndMediaTimeout && c.Cause() != endShutdown {
		return nil // already over (the peer hung up, or we did)
	}
	if c.AnsweredAt().IsZero() && c.inbound {
		c.end(EndFailed)
		return nil
	}
	c.end(EndLocalBye)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var err error
	if c.inbound {
		err = c.dtx.Bye(ctx)
	} else {
		err = c.dcs.Bye(ctx)
	}
	if err != nil {
		// BYE crossing theirs (481) or no answer: the call is over either way.
		c.log.Debug("bye", "err", err)
	}
	return nil
}

// cleanup releases media and forgets the dialog. Called once by the
// goroutine that owns the call.
func (c *Call) cleanup() {
	c.end(EndFailed) // no-op when already ended
	c.mu.Lock()
	s, conn := c.session, c.conn
	c.session, c.conn = nil, nil
	c.mu.Unlock()
	if s != nil {
		s.Close()
	} else if conn != nil {
		conn.Close()
	}
	c.srv.remove(c)
	if c.inbound {
		c.dtx.Close()
	} else if c.dcs != nil {
		c.dcs.Close()
	}
}

func (c *Call) readAck(req *gosip.Request, tx gosip.ServerTransaction) {
	// Mark the ACK before the dialog sees it: a BYE right behind it may
	// end the dialog before Answer wakes (see Answer).
	c.acked.Store(true)
	if err := c.dtx.ReadAck(req, tx); err != nil {
		c.log.Debug("ack", "err", err)
	}
	c.mu.Lock()
	if c.lastAcked != nil {
		close(c.lastAcked)
		c.lastAcked = nil
	}
	late := c.offer == nil && c.neg == nil
	c.mu.Unlock()
	if late {
		c.readLateAnswer(req)
	}
}

// readLateAnswer takes the SDP answer of a late-offer call from the ACK.
func (c *Call) readLateAnswer(req *gosip.Request) {
	m, err := sdp.Parse(req.Body())
	var neg *sdp.Negotiated
	if err == nil {
		neg, err = sdp.Negotiate(m, c.srv.cfg.Codecs)
	}
	if err != nil {
		// RFC 3261 section 13.2.2.4: the answer was unacceptable: hang up.
		c.log.Warn("late-offer answer refused", "err", err)
		go c.Hangup(context.Background())
		return
	}
	c.mu.Lock()
	c.offer, c.neg = m, neg
	c.startMediaLocked()
	c.mu.Unlock()
}

func (c *Call) readBye(req *gosip.Request, tx gosip.ServerTransaction) {
	var err error
	if c.inbound {
		err = c.dtx.ReadBye(req, tx)
	} else {
		err = c.dcs.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, 200, "OK") // a BYE crossing ours still ends the call
	}
	c.end(EndRemoteBye)
}

func (c *Call) readInfo(req *gosip.Request, tx gosip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = mediaType(h.Value())
	}
	// RFC 6086 section 4.2: INFO packages we do not know get 415.
	if !strings.EqualFold(ct, "application/dtmf-relay") && !strings.EqualFold(ct, "application/dtmf") {
		respond(tx, req, 415, "Unsupported Media Type", gosip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	c.mu.Lock()
	recv := c.receiver
	c.mu.Unlock()
	if recv == nil {
		respond(tx, req, 200, "OK") // before media: nothing to press yet
		return
	}
	if err := recv.WriteSIPInfo(ct, req.Body()); err != nil {
		c.log.Info("bad SIP INFO DTMF body", "err", err)
		respond(tx, req, 400, "Bad Request")
		return
	}
	respond(tx, req, 200, "OK")
}

func (c *Call) readNotify(req *gosip.Request, tx gosip.ServerTransaction) {
	respond(tx, req, 200, "OK")
	ev := ""
	if h := req.GetHeader("Event"); h != nil {
		ev = h.Value()
	}
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ev)), "refer") {
		return
	}
	status := strings.TrimSpace(strings.SplitN(string(req.Body()), "\n", 2)[0])
	c.mu.Lock()
	ch := c.notifies
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- status:
		default:
		}
	}
}

// readReInvite handles a re-INVITE: hold, resume, a new address or codec,
// or a session refresh (RFC 3264 section 8, RFC 4028).
func (c *Call) readReInvite(req *gosip.Request, tx gosip.ServerTransaction) {
	if !c.inbound {
		respond(tx, req, 488, "Not Acceptable Here")
		return
	}
	if err := c.dtx.ReadRequest(req, tx); err != nil {
		respond(tx, req, 500, "Server Internal Error", gosip.NewHeader("Retry-After", "1"))
		return
	}
	body, code := c.renegotiate(req.Body())
	if code != 0 {
		respond(tx, req, code, "Not Acceptable Here", gosip.NewHeader("Warning", `305 - "Incompatible media format"`))
		return
	}
	res := gosip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(c.contact())
	if se := req.GetHeader("Session-Expires"); se != nil {
		res.AppendHeader(gosip.NewHeader("Session-Expires", se.Value()))
	}
	acked := make(chan struct{})
	c.mu.Lock()
	c.lastAcked = acked
	c.mu.Unlock()
	if err := tx.Respond(res); err != nil {
		c.log.Warn("re-INVITE response failed", "err", err)
		return
	}
	// RFC 3261 section 13.3.1.4: the UAS retransmits its 2xx until the ACK.
	if transportOf(req) == "udp" {
		go func() {
			t := gosip.T1
			deadline := time.After(64 * gosip.T1)
			for {
				select {
				case <-acked:
					return
				case <-c.done:
					return
				case <-deadline:
					return
				case <-time.After(t):
					tx.Respond(res)
					t = min(2*t, gosip.T2)
				}
			}
		}()
	}
}

// readUpdate handles UPDATE (RFC 3311), used for session refresh and
// sometimes hold.
func (c *Call) readUpdate(req *gosip.Request, tx gosip.ServerTransaction) {
	if len(req.Body()) == 0 {
		res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
		if se := req.GetHeader("Session-Expires"); se != nil {
			res.AppendHeader(gosip.NewHeader("Session-Expires", se.Value()))
		}
		tx.Respond(res)
		return
	}
	body, code := c.renegotiate(req.Body())
	if code != 0 {
		respond(tx, req, code, "Not Acceptable Here")
		return
	}
	tx.Respond(gosip.NewSDPResponseFromRequest(req, body))
}

// renegotiate applies a new offer within the dialog; it returns our answer
// or an error status.
func (c *Call) renegotiate(body []byte) ([]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(body) == 0 {
		// A re-INVITE without SDP asks for our offer; send the current
		// description (session refresh).
		if c.neg == nil {
			return nil, 488
		}
		return sdp.Answer(c.local, c.neg), 0
	}
	m, err := sdp.Parse(body)
	if err != nil {
		return nil, 488
	}
	neg, err := sdp.Negotiate(m, c.srv.cfg.Codecs)
	if err != nil {
		return nil, 488
	}
	changed := c.neg == nil || neg.Codec.Name() != c.neg.Codec.Name() || neg.Direction != c.neg.Direction ||
		!neg.Remote.IP.Equal(c.neg.Remote.IP) || neg.Remote.Port != c.neg.Remote.Port || neg.DTMFPT != c.neg.DTMFPT
	if changed {
		c.local.Version++ // RFC 3264 section 8: a changed description gets a new version
	}
	old := c.neg
	c.offer, c.neg = m, neg
	if c.session != nil {
		var cd codec.Codec // nil keeps the running codec and its state
		if old == nil || old.Codec.Name() != neg.Codec.Name() {
			cd = codec.ForStream(neg.Codec)
		}
		c.session.Update(neg.Remote, cd, neg.PT, neg.DTMFPT, m.OnHold())
	} else {
		c.startMediaLocked()
	}
	if m.OnHold() {
		c.log.Info("call on hold", "direction", m.Direction)
	}
	return sdp.Answer(c.local, neg), 0
}
