package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/telephony/sdp"
)

// Transfer errors.
var (
	// ErrReferRefused means the caller's endpoint would not do the
	// transfer (a non-2xx answer to REFER, or a NOTIFY reporting failure).
	ErrReferRefused = errors.New("sip: transfer refused")
	// ErrNoAnswer means the called party did not answer in time.
	ErrNoAnswer = errors.New("sip: no answer")
)

// StatusError carries the SIP status that ended a request.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("sip: %d %s", e.Code, e.Reason) }

// Refer asks the caller's endpoint to call target itself (blind transfer,
// RFC 3515). It returns nil once the endpoint reports the new call is
// answered (NOTIFY with a 2xx sipfrag) or hangs up on us after accepting;
// ErrReferRefused (wrapping the status) when it will not or cannot.
// headers are added to the REFER (for context such as X-IVR-Intent);
// they are also carried into the Refer-To URI as embedded headers so the
// new INVITE takes them along.
func (c *Call) Refer(ctx context.Context, target string, headers map[string]string) error {
	if !c.inbound {
		return errors.New("sip: refer on an outbound call")
	}
	var uri gosip.Uri
	if err := gosip.ParseUri(target, &uri); err != nil {
		return fmt.Errorf("sip: refer target %q: %w", target, err)
	}
	notifies := make(chan string, 8)
	c.mu.Lock()
	c.notifies = notifies
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.notifies = nil
		c.mu.Unlock()
	}()

	remote := c.dtx.InviteRequest.Contact().Address
	req := gosip.NewRequest(gosip.REFER, remote)
	referTo := "<" + uri.String() + embeddedHeaders(headers) + ">"
	req.AppendHeader(gosip.NewHeader("Refer-To", referTo))
	req.AppendHeader(gosip.NewHeader("Referred-By", "<"+c.contact().(*gosip.ContactHeader).Address.String()+">"))
	for k, v := range headers {
		req.AppendHeader(gosip.NewHeader(k, v))
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	res, err := c.dtx.Do(rctx, req)
	cancel()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrReferRefused, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %w", ErrReferRefused, &StatusError{Code: res.StatusCode, Reason: res.Reason})
	}
	c.log.Info("REFER accepted", "target", target, "status", res.StatusCode)
	// Follow the implicit subscription (RFC 3515 section 2.4.4).
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case frag := <-notifies:
			code := sipfragCode(frag)
			switch {
			case code >= 100 && code < 200:
				continue
			case code >= 200 && code < 300:
				return nil
			default:
				return fmt.Errorf("%w: %w", ErrReferRefused, &StatusError{Code: code, Reason: frag})
			}
		case <-c.done:
			return nil // the endpoint left us for the target
		case <-timeout.C:
			return fmt.Errorf("%w: no NOTIFY after 202", ErrReferRefused)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func sipfragCode(frag string) int {
	f := strings.Fields(frag)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// embeddedHeaders renders headers as URI headers (RFC 3261 section 19.1.1).
func embeddedHeaders(h map[string]string) string {
	if len(h) == 0 {
		return ""
	}
	var parts []string
	for k, v := range h {
		parts = append(parts, escapeHeader(k)+"="+escapeHeader(v))
	}
	return "?" + strings.Join(parts, "&")
}

func escapeHeader(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("-_.!~*'()", ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// noResponseTimeout is how long an outbound INVITE may go without any
// response before the target counts as unreachable.
const noResponseTimeout = 4 * time.Second

// DialOptions describe an outbound call.
type DialOptions struct {
	// From is the URI we call from; default sip:<FromUser>@<public ip>.
	From string
	// FromUser is the user part of the default From (the caller's number
	// when bridging, so the agent sees who is calling). Default "ivr".
	FromUser string
	// DisplayName is shown to the called party.
	DisplayName string
	// Headers go on the INVITE (X-IVR-* context for agents).
	Headers map[string]string
	// RingTimeout cancels the call if unanswered; default 30 s.
	RingTimeout time.Duration
	// Username and Password answer a 401 or 407 challenge to the INVITE
	// (digest authentication, as a provider's trunk asks).
	Username, Password string
	// Proxy, when set, is a SIP URI the INVITE is sent through (a loose
	// Route, RFC 3261 section 8.1.2), such as a trunk's outbound proxy.
	Proxy string
	// fromListener sends a UDP INVITE from our listening socket (a
	// trunk's calls leave from where it registered).
	fromListener bool
}

// Dial places an outbound call to uri and returns it answered, with media
// running. The caller owns the returned call and must Hangup and Close it.
func (s *Server) Dial(ctx context.Context, uri string, opts DialOptions) (*Call, error) {
	var recipient gosip.Uri
	if err := gosip.ParseUri(uri, &recipient); err != nil {
		return nil, fmt.Errorf("sip: dial %q: %w", uri, err)
	}
	if opts.RingTimeout <= 0 {
		opts.RingTimeout = 30 * time.Second
	}
	conn, err := s.ports.Listen()
	if err != nil {
		return nil, err
	}
	local := sdp.Local{Addr: s.cfg.PublicIP, Port: conn.LocalAddr().(*net.UDPAddr).Port, SessionID: rand.Uint64() >> 1, Version: 1}
	offer := sdp.Offer(local, s.cfg.Codecs, sdp.SendRecv)

	transport := "udp"
	if p := recipient.UriParams; p != nil {
		if t, ok := p.Get("transport"); ok {
			transport = strings.ToLower(t)
		}
	}
	contact := s.contact(transport)
	dua := &sipgo.DialogUA{Client: s.client, ContactHDR: *contact}
	req := gosip.NewRequest(gosip.INVITE, recipient)
	req.SetBody(offer)
	req.AppendHeader(gosip.NewHeader("Content-Type", "application/sdp"))
	from := opts.From
	if from == "" {
		user := opts.FromUser
		if user == "" {
			user = "ivr"
		}
		from = "sip:" + user + "@" + s.cfg.PublicIP.String()
	}
	var fromURI gosip.Uri
	if err := gosip.ParseUri(from, &fromURI); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sip: dial from %q: %w", from, err)
	}
	fh := &gosip.FromHeader{DisplayName: opts.DisplayName, Address: fromURI, Params: gosip.NewParams()}
	fh.Params.Add("tag", strconv.FormatUint(rand.Uint64(), 36))
	req.AppendHeader(fh)
	req.AppendHeader(gosip.NewHeader("User-Agent", s.cfg.UserAgent))
	req.AppendHeader(gosip.NewHeader("Allow", allowed))
	for k, v := range opts.Headers {
		req.AppendHeader(gosip.NewHeader(k, v))
	}
	if opts.Proxy != "" {
		var route gosip.Uri
		if err := gosip.ParseUri(opts.Proxy, &route); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sip: dial proxy %q: %w", opts.Proxy, err)
		}
		req.AppendHeader(&gosip.RouteHeader{Address: route})
	}
	if opts.fromListener {
		if la, ok := s.listenerAddr(transport); ok {
			req.Laddr = la
		}
	}
	rctx, cancel := context.WithTimeout(ctx, opts.RingTimeout)
	defer cancel()
	dcs, err := dua.WriteInvite(rctx, req)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sip: dial %s: %w", uri, err)
	}
	// A target that sends nothing at all (not even 100 Trying) within a
	// few seconds is not there: give up rather than wait for Timer B (32 s).
	heard := make(chan struct{})
	var heardOnce sync.Once
	wctx, stopWait := context.WithCancelCause(rctx)
	defer stopWait(nil)
	go func() {
		select {
		case <-heard:
		case <-wctx.Done():
		case <-time.After(noResponseTimeout):
			// Nothing to CANCEL before a provisional response (RFC 3261
			// section 9.1): abandon the transaction at once.
			stopWait(sipgo.WaitAnswerForceCancelErr)
		}
	}()
	err = dcs.WaitAnswer(wctx, sipgo.AnswerOptions{Username: opts.Username, Password: opts.Password, OnResponse: func(*gosip.Response) error {
		heardOnce.Do(func() { close(heard) })
		return nil
	}})
	heardOnce.Do(func() { close(heard) })
	if err != nil {
		conn.Close()
		dcs.Close()
		var re *sipgo.ErrDialogResponse
		if errors.As(err, &re) {
			return nil, &StatusError{Code: re.Res.StatusCode, Reason: re.Res.Reason}
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return nil, ErrNoAnswer
		}
		return nil, fmt.Errorf("sip: dial %s: %w", uri, err)
	}
	if err := dcs.Ack(ctx); err != nil {
		conn.Close()
		dcs.Close()
		return nil, fmt.Errorf("sip: dial %s: ack: %w", uri, err)
	}
	res := dcs.InviteResponse
	c := &Call{
		srv: s, dcs: dcs, invite: req, transport: transport, id: callID(req), started: time.Now(),
		from: from, to: uri, toUser: recipient.User, fromUser: fromURI.User,
		digits: make(chan dtmf.Digit, 32), done: make(chan struct{}),
	}
	c.log = s.log.With(slog.String("call_id", c.id), slog.String("leg", "outbound"))
	// Requests from the called party carry our tag in To: key the dialog
	// the way lookup computes it.
	toTag, _ := res.To().Params.Get("tag")
	c.dialogID = gosip.DialogIDMake(c.id, fh.Params.GetOr("tag", ""), toTag)
	m, err := sdp.Parse(res.Body())
	var neg *sdp.Negotiated
	if err == nil {
		neg, err = sdp.Negotiate(m, s.cfg.Codecs)
	}
	if err != nil {
		conn.Close()
		dcs.Bye(ctx)
		dcs.Close()
		return nil, fmt.Errorf("sip: dial %s: answer: %w", uri, err)
	}
	c.mu.Lock()
	c.offer, c.neg, c.local, c.conn, c.answered = m, neg, local, conn, time.Now()
	c.startMediaLocked()
	c.mu.Unlock()
	if !s.add(c) {
		c.Hangup(ctx)
		c.Close()
		return nil, errors.New("sip: at capacity")
	}
	c.log.Info("outbound call answered", "to", uri, "codec", neg.Codec.Name())
	return c, nil
}

// Close releases an outbound call's media and dialog (inbound calls are
// released by the server when their handler returns).
func (c *Call) Close() {
	if !c.inbound {
		c.cleanup()
	}
}

// Bridge relays audio both ways between two answered calls until either
// ends or ctx is done, and returns which one ended first (nil when ctx
// ended it). Media passes through each leg's own outbound clock; keys go
// across as RFC 4733 events.
func Bridge(ctx context.Context, a, b *Call) *Call {
	switch bridge.Connect(ctx, a, b) {
	case a:
		return a
	case b:
		return b
	}
	return nil
}
