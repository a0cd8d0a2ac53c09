package agentdesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/openivr/ivr/acd"
	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/telephony/webrtc"
)

// ringKey names one offer to one agent.
type ringKey struct{ agent, ticket string }

// ring is an offer waiting in an agent's page. Its fields are guarded by
// Desk.mu.
type ring struct {
	offer    acd.Offer
	answered chan *webrtc.Call // buffered 1: the page's leg, sent once
	declined chan struct{}     // closed by Decline
	gone     chan struct{}     // closed when the agent's page went away
	taken    bool              // an answer is being made (or was)
	shut     bool              // declined or gone: the channels above are closed
	over     bool              // Ring returned: nobody reads answered any more
}

// Ring offers a call to the agent's page and returns their leg once the
// agent answered and the browser connected. The page learns of the call
// from its status stream (state "ringing", the screen pop and the
// ticket), sends its WebRTC offer with the ticket, and gets the answer.
// Ring fails with ErrDeclined when the agent declines, ErrOffline when
// the page is not open (or goes away, or switches to the phone), and
// ctx's error when ctx ends first (the ring timeout, the caller left).
func (d *Desk) Ring(ctx context.Context, agent string, o acd.Offer) (bridge.Leg, error) {
	key := ringKey{agent, o.Ticket}
	r := &ring{offer: o, answered: make(chan *webrtc.Call, 1), declined: make(chan struct{}), gone: make(chan struct{})}
	d.mu.Lock()
	switch {
	case d.closed:
		d.mu.Unlock()
		return nil, ErrClosed
	case !d.onlineLocked(agent):
		d.mu.Unlock()
		return nil, ErrOffline
	case d.rings[key] != nil:
		d.mu.Unlock()
		return nil, ErrRinging
	}
	d.rings[key] = r
	close(d.ringAdded)
	d.ringAdded = make(chan struct{})
	d.mu.Unlock()
	d.log.Info("ringing agent page", "agent", agent, "ticket", o.Ticket, "queue", o.Queue, "caller", o.Pop.Caller)

	defer func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		r.over = true
		if d.rings[key] == r {
			delete(d.rings, key)
		}
		// An answer that arrived as we gave up: nobody will bridge it.
		select {
		case leg := <-r.answered:
			go leg.Hangup(context.Background())
		default:
		}
	}()

	var leg *webrtc.Call
	select {
	case leg = <-r.answered:
	case <-r.declined:
		d.log.Info("agent declined", "agent", agent, "ticket", o.Ticket)
		return nil, ErrDeclined
	case <-r.gone:
		return nil, ErrOffline
	case <-d.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("agentdesk: not answered: %w", context.Cause(ctx))
	}
	// The page answered: wait for its browser to connect (ICE, DTLS).
	if err := leg.Answer(ctx); err != nil {
		leg.Hangup(context.Background())
		d.log.Info("agent page did not connect", "agent", agent, "ticket", o.Ticket, "err", err)
		return nil, fmt.Errorf("agentdesk: the agent's browser did not connect: %w", err)
	}
	d.mu.Lock()
	p := d.presenceLocked(agent)
	p.pruneLocked()
	p.legs = append(p.legs, leg)
	d.mu.Unlock()
	d.log.Info("agent answered in the page", "agent", agent, "ticket", o.Ticket, "call_id", leg.ID(), "codec", leg.Codec())
	return leg, nil
}

// dropRingsLocked ends the agent's rings that nobody is answering yet:
// their page went away or switched to the phone.
func (d *Desk) dropRingsLocked(agent string) {
	for k, r := range d.rings {
		if k.agent == agent && !r.taken && !r.shut {
			r.shut = true
			close(r.gone)
		}
	}
}

// findRing waits (briefly) for Ring to register the offer of ticket to
// agent: the page hears of the offer from the distributor a moment before
// Ring is called. Only the agent's current offer is waited for.
func (d *Desk) findRing(ctx context.Context, agent, ticket string) *ring {
	if ticket == "" || len(ticket) > maxName {
		return nil
	}
	if st, ok := d.center.Agent(agent); !ok || st.Ticket != ticket {
		d.mu.Lock()
		r := d.rings[ringKey{agent, ticket}]
		d.mu.Unlock()
		return r
	}
	t := time.NewTimer(d.ringWait)
	defer t.Stop()
	for {
		d.mu.Lock()
		r, added := d.rings[ringKey{agent, ticket}], d.ringAdded
		d.mu.Unlock()
		if r != nil {
			return r
		}
		select {
		case <-added:
		case <-t.C:
			return nil
		case <-ctx.Done():
			return nil
		case <-d.done:
			return nil
		}
	}
}

// handleAnswer answers the ringing call: the page's SDP offer becomes the
// agent's leg, which Ring hands to the distributor once connected.
func (d *Desk) handleAnswer(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	var req struct {
		Ticket string `json:"ticket"`
		SDP    string `json:"sdp"`
		Type   string `json:"type"`
	}
	if err := decodeBody(w, r, maxAnswerBody, &req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if req.Type != "" && req.Type != "offer" {
		writeError(w, http.StatusBadRequest, "type: want offer")
		return
	}
	rg := d.findRing(r.Context(), s.agent, req.Ticket)
	if rg == nil {
		writeError(w, http.StatusNotFound, "no such call is ringing you")
		return
	}
	d.mu.Lock()
	if rg.taken || rg.shut || rg.over {
		d.mu.Unlock()
		writeError(w, http.StatusConflict, "the call is no longer ringing")
		return
	}
	rg.taken = true
	d.mu.Unlock()
	leg, answer, err := d.rtc.AnswerLeg(r.Context(), req.SDP, "agent:"+s.agent)
	if err != nil {
		d.mu.Lock()
		rg.taken = false
		d.mu.Unlock()
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, webrtc.ErrBadRequest):
			code = http.StatusBadRequest
		case errors.Is(err, webrtc.ErrClosed):
			code = http.StatusServiceUnavailable
		}
		d.log.Info("agent answer refused", "agent", s.agent, "err", err)
		writeError(w, code, err.Error())
		return
	}
	d.mu.Lock()
	if rg.over {
		d.mu.Unlock()
		leg.Hangup(context.Background())
		writeError(w, http.StatusConflict, "the call is no longer ringing")
		return
	}
	rg.answered <- leg // buffered, sent once (taken)
	d.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"type": "answer", "sdp": answer, "id": leg.ID()})
}

// handleDecline turns the ringing call down; the distributor offers it
// to someone else.
func (d *Desk) handleDecline(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	var req struct {
		Ticket string `json:"ticket"`
	}
	if err := decodeBody(w, r, maxSmallBody, &req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	rg := d.findRing(r.Context(), s.agent, req.Ticket)
	if rg == nil {
		writeError(w, http.StatusNotFound, "no such call is ringing you")
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if rg.taken || rg.shut || rg.over {
		writeError(w, http.StatusConflict, "the call is no longer ringing")
		return
	}
	rg.shut = true
	close(rg.declined)
	w.WriteHeader(http.StatusNoContent)
}

// handleHangup ends the agent's calls answered in the page.
func (d *Desk) handleHangup(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	d.mu.Lock()
	var legs []*webrtc.Call
	if p := d.agents[s.agent]; p != nil {
		p.pruneLocked()
		legs = append(legs, p.legs...)
	}
	d.mu.Unlock()
	if len(legs) == 0 {
		writeError(w, http.StatusNotFound, "no call to hang up")
		return
	}
	for _, l := range legs {
		l.Hangup(r.Context())
	}
	d.log.Info("agent hung up", "agent", s.agent, "calls", len(legs))
	w.WriteHeader(http.StatusNoContent)
}
