// Package agentdesk is the agent web page's server side: agents sign in
// with their configured password, set themselves available or away,
// choose where calls ring (the page itself, or their phone), watch their
// state as Server-Sent Events, see the screen pop of the call that rings
// them, and answer it in the browser over WebRTC.
//
// A Desk is one half of the acd.Ringer of `ivr serve`: Online says whether
// an agent's page can take a call now, and Ring offers one to the page and
// returns the agent's answered leg (a telephony/webrtc call that the
// dialog never runs). The call distributor bridges it to the caller.
//
// HTTP API (JSON; the page is same-origin, so cross-origin requests are
// refused):
//
//	GET  /agent                  the page (agent.html, agent.js, agent.css)
//	POST /api/agent/login        {"agent","password"} -> session cookie (HttpOnly, SameSite=Strict)
//	POST /api/agent/logout
//	GET  /api/agent/me           the signed-in agent's status (401 when not signed in)
//	GET  /api/agent/events       text/event-stream of the agent's status, with heartbeats
//	POST /api/agent/state        {"state":"available"|"away","device":"browser"|"phone"}
//	POST /api/agent/answer       {"ticket","sdp"} -> {"type":"answer","sdp"}
//	POST /api/agent/decline      {"ticket"}
//	POST /api/agent/hangup
//	GET  /api/agents             every agent's status (admin bearer token)
//	GET  /api/queues             every queue's status (admin bearer token)
package agentdesk

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/openivr/ivr/acd"
	"github.com/openivr/ivr/telephony/webrtc"
	"github.com/openivr/ivr/web"
)

// Answerer answers a browser's SDP offer with a call that is not run by
// the dialog; *webrtc.Server implements it.
type Answerer interface {
	AnswerLeg(ctx context.Context, offerSDP, label string) (*webrtc.Call, string, error)
}

// Devices: where an agent's calls ring.
const (
	DeviceBrowser = "browser" // the agent page answers over WebRTC
	DevicePhone   = "phone"   // the agent's SIP phone (the page only shows the screen pop)
)

// Errors of Ring.
var (
	ErrOffline  = errors.New("agentdesk: the agent's page is not open to answer calls")
	ErrDeclined = errors.New("agentdesk: the agent declined the call")
	ErrClosed   = errors.New("agentdesk: closed")
	ErrRinging  = errors.New("agentdesk: this call is already ringing the agent")
)

// Desk serves the agent page and rings agents in it. Its methods are
// safe for concurrent use.
type Desk struct {
	center *acd.Center
	rtc    Answerer
	log    *slog.Logger
	token  func() string
	page   http.Handler
	csrf   *http.CrossOriginProtection

	// Settings (options; tests shorten them).
	heartbeat  time.Duration // SSE comment period
	sessionTTL time.Duration // idle time after which a session expires
	sessionMax time.Duration // absolute session lifetime
	ringWait   time.Duration // how long answer/decline wait for Ring to register the offer
	now        func() time.Time
	failures   *failureLimiter

	mu        sync.Mutex
	sessions  map[string]*session // by token
	agents    map[string]*presence
	rings     map[ringKey]*ring
	ringAdded chan struct{} // closed and replaced when a ring is registered
	closed    bool
	done      chan struct{} // closed by Close
}

// presence is what the desk knows of one agent's pages.
type presence struct {
	device  string
	streams map[*stream]bool
	legs    []*webrtc.Call // answered in the page; pruned when done
}

// Option configures a Desk.
type Option func(*Desk)

// WithAdminToken protects GET /api/agents and /api/queues with
// "Authorization: Bearer <token>"; token returns the token in force ("" or
// no option: those endpoints are off).
func WithAdminToken(token func() string) Option { return func(d *Desk) { d.token = token } }

// WithHeartbeat sets the period of the event stream's heartbeat
// comments. Default 15 s.
func WithHeartbeat(p time.Duration) Option { return func(d *Desk) { d.heartbeat = p } }

// New makes a desk on center; rtc answers the page's WebRTC offers.
func New(center *acd.Center, rtc Answerer, log *slog.Logger, opts ...Option) *Desk {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Desk{center: center, rtc: rtc, log: log.With("component", "agentdesk"),
		csrf: http.NewCrossOriginProtection(), sessions: map[string]*session{}, agents: map[string]*presence{},
		rings: map[ringKey]*ring{}, ringAdded: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(d)
	}
	if d.token == nil {
		d.token = func() string { return "" }
	}
	if d.heartbeat <= 0 {
		d.heartbeat = 15 * time.Second
	}
	if d.sessionTTL <= 0 {
		d.sessionTTL = 12 * time.Hour
	}
	if d.sessionMax <= 0 {
		d.sessionMax = 7 * 24 * time.Hour
	}
	if d.ringWait <= 0 {
		d.ringWait = 3 * time.Second
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.failures = newFailureLimiter(5, time.Minute, d.now)
	d.page = web.AgentPage()
	return d
}

// Mount adds the page and the API to mux.
func (d *Desk) Mount(mux *http.ServeMux) {
	mux.Handle("GET /agent", d.page)
	mux.Handle("GET /agent.js", d.page)
	mux.Handle("GET /agent.css", d.page)
	mux.HandleFunc("POST /api/agent/login", d.api(d.handleLogin, false))
	mux.HandleFunc("POST /api/agent/logout", d.api(d.handleLogout, false))
	mux.HandleFunc("GET /api/agent/me", d.api(d.authed(d.handleMe), false))
	mux.HandleFunc("GET /api/agent/events", d.api(d.authed(d.handleEvents), false))
	mux.HandleFunc("POST /api/agent/state", d.api(d.authed(d.handleState), true))
	mux.HandleFunc("POST /api/agent/answer", d.api(d.authed(d.handleAnswer), true))
	mux.HandleFunc("POST /api/agent/decline", d.api(d.authed(d.handleDecline), true))
	mux.HandleFunc("POST /api/agent/hangup", d.api(d.authed(d.handleHangup), false))
	mux.HandleFunc("GET /api/agents", d.admin(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, d.center.Agents())
	}))
	mux.HandleFunc("GET /api/queues", d.admin(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, d.center.Queues())
	}))
}

// Online reports whether the agent's page is open and set to answer in
// the browser.
func (d *Desk) Online(agent string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.onlineLocked(agent)
}

func (d *Desk) onlineLocked(agent string) bool {
	p := d.agents[agent]
	return !d.closed && p != nil && p.device == DeviceBrowser && len(p.streams) > 0
}

func (d *Desk) presenceLocked(agent string) *presence {
	p := d.agents[agent]
	if p == nil {
		p = &presence{device: DeviceBrowser, streams: map[*stream]bool{}}
		d.agents[agent] = p
	}
	return p
}

// Close ends the event streams and the pending rings; calls answered in
// the browser go on (the WebRTC server ends them). Mount the desk's
// Close with http.Server.RegisterOnShutdown: event streams never go idle.
// It is idempotent.
func (d *Desk) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		close(d.done)
	}
}

// ActiveLegs counts the calls answered in agents' pages and still up.
func (d *Desk) ActiveLegs() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, p := range d.agents {
		p.pruneLocked()
		n += len(p.legs)
	}
	return n
}

// pruneLocked forgets the legs that ended.
func (p *presence) pruneLocked() {
	live := p.legs[:0]
	for _, l := range p.legs {
		select {
		case <-l.Done():
		default:
			live = append(live, l)
		}
	}
	clear(p.legs[len(live):])
	p.legs = live
}
