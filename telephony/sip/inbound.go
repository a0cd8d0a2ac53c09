package sip

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/telephony/sdp"
)

// onInvite takes a new call (or a re-INVITE within one).
func (s *Server) onInvite(req *gosip.Request, tx gosip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		c := s.lookup(req)
		if c == nil {
			respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
		c.readReInvite(req, tx)
		return
	}
	select {
	case <-s.base.Done():
		respond(tx, req, 503, "Service Unavailable", gosip.NewHeader("Retry-After", "5"))
		return
	default:
	}
	respond(tx, req, 100, "Trying")

	var offer *sdp.Media
	var neg *sdp.Negotiated
	if len(req.Body()) > 0 {
		if ct := req.ContentType(); ct != nil && !strings.EqualFold(mediaType(ct.Value()), "application/sdp") {
			respond(tx, req, 415, "Unsupported Media Type", gosip.NewHeader("Accept", "application/sdp"))
			return
		}
		m, err := sdp.Parse(req.Body())
		if err != nil {
			s.log.Info("INVITE with bad SDP refused", "call_id", callID(req), "err", err)
			if errors.Is(err, sdp.ErrMalformed) {
				respond(tx, req, 400, "Bad Request - Malformed SDP")
			} else {
				respond(tx, req, 488, "Not Acceptable Here", gosip.NewHeader("Warning", `304 - "Media type not available"`))
			}
			return
		}
		n, err := sdp.Negotiate(m, s.cfg.Codecs)
		if err != nil {
			s.log.Info("INVITE without a common codec refused", "call_id", callID(req), "err", err)
			respond(tx, req, 488, "Not Acceptable Here", gosip.NewHeader("Warning", `305 - "Incompatible media format"`))
			return
		}
		offer, neg = m, n
	}

	if req.Contact() == nil {
		// RFC 2543 callers may omit Contact (RFC 4475 section 3.4.1): the
		// From URI is where they take requests.
		if f := req.From(); f != nil {
			req.AppendHeader(&gosip.ContactHeader{Address: f.Address})
		}
	}
	dua := &sipgo.DialogUA{Client: s.client, ContactHDR: *s.contact(transportOf(req))}
	dtx, err := dua.ReadInvite(req, tx)
	if err != nil {
		s.log.Info("INVITE refused", "call_id", callID(req), "err", err)
		respond(tx, req, 400, "Bad Request - "+err.Error())
		return
	}
	c := &Call{
		srv: s, dialogID: dtx.ID, inbound: true, dtx: dtx, tx: tx, invite: req, transport: transportOf(req),
		id: callID(req), started: time.Now(), offer: offer, neg: neg,
		digits: make(chan dtmf.Digit, 32), done: make(chan struct{}), settled: make(chan struct{}),
	}
	if f := req.From(); f != nil {
		c.from, c.fromUser = f.Address.String(), f.Address.User
	}
	if t := req.To(); t != nil {
		c.to = t.Address.String()
	}
	c.toUser = req.Recipient.User
	c.log = s.log.With(slog.String("call_id", c.id))
	if !s.add(c) {
		s.log.Warn("call refused: at capacity", "max_calls", s.cfg.MaxCalls)
		respond(tx, req, 503, "Service Unavailable", gosip.NewHeader("Retry-After", "10"))
		return
	}
	c.log.Info("incoming call", "from", c.from, "to", c.to, "transport", c.transport)
	go func() {
		defer s.wg.Done()
		defer c.cleanup()
		// A cancelled INVITE ends the call before the handler answers.
		stop := watchCancel(dtx, c)
		defer stop()
		s.handler.HandleCall(s.base, c)
		if c.AnsweredAt().IsZero() {
			if c.Cause() == endNone {
				c.Reject(480, "Temporarily Unavailable")
			}
			c.end(EndFailed)
			return
		}
		c.Hangup(s.base)
	}()
	// sipgo terminates the INVITE transaction when this handler returns:
	// stay until the call has its final response.
	<-c.settled
}

// watchCancel ends the call when the INVITE transaction is cancelled
// before the answer.
func watchCancel(dtx *sipgo.DialogServerSession, c *Call) func() bool {
	stop := make(chan struct{})
	go func() {
		select {
		case <-dtx.Context().Done():
			if c.AnsweredAt().IsZero() {
				c.end(EndCancel)
			}
		case <-c.done:
		case <-stop:
		}
	}()
	return func() bool { close(stop); return true }
}

func (s *Server) contact(transport string) *gosip.ContactHeader {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.contacts[transport]
	if !ok {
		ch = s.contacts["udp"]
		if ch.Address.Host == "" {
			for _, v := range s.contacts {
				ch = v
				break
			}
		}
	}
	return &ch
}

func callID(req *gosip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func mediaType(ct string) string {
	t, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(t)
}
