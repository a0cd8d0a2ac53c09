package webrtc

import (
	"context"
	"fmt"
	"strings"
)

// AnswerLeg answers a browser's SDP offer with a call that is not handed
// to the Handler: the caller of AnswerLeg owns it (the agent page's leg,
// bridged to a waiting caller by the call distributor). It goes through
// the same answer path as a widget call (codecs, ICE, DTLS-SRTP, the "ivr"
// data channel), counts in ActiveCalls, ends when hung up, when the
// browser leaves or fails to connect within Config.ConnectTimeout, or when
// the server closes, and its resources are released then. label names the
// leg in logs and in To ("webrtc:" + label); it should be short.
//
// The origin allowlist, rate limit and MaxCalls do not apply: the caller
// of AnswerLeg has authenticated the browser. Answer waits for the leg to
// connect.
func (s *Server) AnswerLeg(ctx context.Context, offerSDP, label string) (*Call, string, error) {
	if len(offerSDP) > maxSDP {
		return nil, "", fmt.Errorf("%w: SDP over %d bytes", ErrBadRequest, maxSDP)
	}
	if !strings.HasPrefix(offerSDP, "v=0") {
		return nil, "", fmt.Errorf("%w: SDP must start with v=0", ErrBadRequest)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, "", ErrClosed
	}
	c, answer, err := s.answer(ctx, offerRequest{Type: "offer", SDP: offerSDP, Flow: label}, label, "")
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.end(EndShutdown)
		c.cleanup()
		return nil, "", ErrClosed
	}
	s.calls[c.id] = c
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-c.done
		c.cleanup()
		s.mu.Lock()
		delete(s.calls, c.id)
		s.mu.Unlock()
	}()
	return c, answer, nil
}
