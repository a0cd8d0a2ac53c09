// Package acd distributes calls to agents: it keeps the agents' states
// (available, ringing, busy, wrap-up, away, offline), holds callers in
// queues ordered by priority and arrival, picks whom to ring by the
// queue's strategy (ring-all, sequential, round-robin, longest-idle,
// skills), rings them through a Ringer, and hands the answered agent's
// leg to the waiting call. Callbacks keep their caller's place, survive a
// restart (through the Store), reserve an agent when their turn comes and
// call the caller back.
//
// The package knows nothing of SIP, browsers or the dialog: devices
// ring behind Ringer, callbacks are placed by a CallbackFunc, and calls
// appear only as bridge.Legs.
package acd

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
)

// State is an agent's state as the queues see it.
type State string

// Agent states.
const (
	Offline   State = "offline"   // no device can ring: not registered, page closed
	Available State = "available" // can take a call
	Ringing   State = "ringing"   // a call is being offered (or reserved for a callback)
	Busy      State = "busy"      // on a call
	WrapUp    State = "wrap_up"   // resting after a call
	Away      State = "away"      // signed in but not taking calls
)

// Ringer rings agents' devices: phones registered to the IVR, static SIP
// URIs, the agent web page.
type Ringer interface {
	// Reachable reports whether the agent has a device that can ring now.
	Reachable(agent string) bool
	// Ring offers a call to the agent and returns their answered leg. It
	// returns an error when the agent declines, is busy, or does not
	// answer before ctx ends (the ring timeout, or the caller left).
	Ring(ctx context.Context, agent string, o Offer) (bridge.Leg, error)
}

// Offer is a call offered to an agent.
type Offer struct {
	Ticket string
	Queue  string
	Pop    models.ScreenPop
}

// Store keeps what must outlive the process.
type Store interface {
	// SaveCallback inserts or updates a callback.
	SaveCallback(ctx context.Context, cb *models.QueueCallback) error
	// PendingCallbacks returns the callbacks still to be placed.
	PendingCallbacks(ctx context.Context) ([]*models.QueueCallback, error)
	// NoteAgent remembers that caller last spoke with agent.
	NoteAgent(ctx context.Context, caller, agent string, at time.Time) error
	// LastAgent is the agent caller last spoke with since then ("" if none).
	LastAgent(ctx context.Context, caller string, since time.Time) (string, error)
}

// CallbackFunc places a callback: it calls cb.Number and, once the
// caller answers, calls t.CallerReady and serves the call (waiting for
// t.Ready and bridging, as for any ticket). When the caller cannot be
// reached it calls t.Leave(models.QueueNoAnswer). It runs on its own
// goroutine; whatever it leaves unfinished is finished when it returns.
type CallbackFunc func(ctx context.Context, cb models.QueueCallback, t *Ticket)

// Options configure a Center.
type Options struct {
	Config   *config.Config
	Ringer   Ringer
	Store    Store        // nil: callbacks and last agents are not kept
	Callback CallbackFunc // nil: callbacks cannot be placed (requests are refused)
	Logger   *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// Tick is how often the center looks again without a reason (agents
	// registering, timers). Default 250 ms.
	Tick time.Duration
	// CallbackGrace is how long a new callback waits before its first
	// attempt, so the caller has hung up before the phone rings again.
	// Default 5s.
	CallbackGrace time.Duration
}

// Errors.
var (
	ErrNoQueue      = errors.New("acd: no such queue")
	ErrNoAgent      = errors.New("acd: no such agent")
	ErrTicketClosed = errors.New("acd: the ticket is no longer waiting")
	ErrNoCallbacks  = errors.New("acd: callbacks are not configured")
	ErrBadState     = errors.New("acd: agents can set themselves available or away only")
)

// Center is the call distributor. Its methods are safe for concurrent use.
type Center struct {
	ringer   Ringer
	store    Store
	callback CallbackFunc
	log      *slog.Logger
	now      func() time.Time
	tick     time.Duration
	grace    time.Duration

	mu       sync.Mutex
	cfg      *config.Config
	agents   map[string]*agent
	queues   map[string]*queue
	tickets  map[string]*Ticket
	watchers map[string]map[*watcher]bool // agent -> watchers
	seq      uint64

	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type agent struct {
	name     string
	presence State // Available or Away: what the agent chose
	activity State // "" (idle), Ringing, Busy or WrapUp
	since    time.Time
	idleFrom time.Time // when the last call ended (longest idle)
	wrapEnd  time.Time
	ticket   *Ticket // offered, reserved or connected
	calls    int
	// reachable is the last answer of the Ringer, refreshed every tick.
	reachable bool
	version   uint64 // see AgentStatus.Version
}

type queue struct {
	name    string
	rrNext  int             // round robin: index of the next member to try
	handles []time.Duration // recent handle times, newest last
}

// maxHandles is how many recent handle times the wait estimate uses.
const maxHandles = 20

// New starts a center on cfg's agents and queues and loads the pending
// callbacks from the store.
func New(o Options) (*Center, error) {
	if o.Config == nil || o.Ringer == nil {
		return nil, errors.New("acd: config and ringer are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = 250 * time.Millisecond
	}
	if o.CallbackGrace <= 0 {
		o.CallbackGrace = 5 * time.Second
	}
	c := &Center{ringer: o.Ringer, store: o.Store, callback: o.Callback, log: o.Logger, now: o.Now, tick: o.Tick, grace: o.CallbackGrace,
		agents: map[string]*agent{}, queues: map[string]*queue{}, tickets: map[string]*Ticket{},
		watchers: map[string]map[*watcher]bool{}, kick: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.Reload(o.Config)
	if c.store != nil {
		cbs, err := c.store.PendingCallbacks(c.ctx)
		if err != nil {
			c.cancel()
			return nil, fmt.Errorf("acd: pending callbacks: %w", err)
		}
		c.mu.Lock()
		for _, cb := range cbs {
			if _, ok := c.queues[cb.Queue]; !ok {
				c.log.Warn("callback for a queue that no longer exists is kept but not placed", "queue", cb.Queue, "number", cb.Number)
				continue
			}
			if cb.Status == models.CallbackDialing {
				cb.Status = models.CallbackPending // the process stopped mid-call
			}
			t := c.newTicketLocked(cb.Queue, derefPop(cb.Pop), cb.Priority)
			delete(c.tickets, t.id)
			t.id, t.joined, t.cb = cb.ID, cb.JoinedAt, cb
			if cb.NextAttempt != nil {
				t.nextTry = *cb.NextAttempt
			}
			c.tickets[t.id] = t
			c.log.Info("callback restored", "queue", cb.Queue, "number", cb.Number, "attempts", cb.Attempts)
		}
		c.mu.Unlock()
	}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

func derefPop(p *models.ScreenPop) models.ScreenPop {
	if p == nil {
		return models.ScreenPop{}
	}
	return *p
}

// Reload applies a new config: agents and queues come and go; agents
// keep their state and calls.
func (c *Center) Reload(cfg *config.Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg = cfg
	now := c.now()
	for name := range cfg.Agents {
		if _, ok := c.agents[name]; !ok {
			c.agents[name] = &agent{name: name, presence: Available, since: now, idleFrom: now}
		}
	}
	for name, a := range c.agents {
		if _, ok := cfg.Agents[name]; !ok && a.ticket == nil {
			delete(c.agents, name)
		}
	}
	for name := range cfg.Queues {
		if _, ok := c.queues[name]; !ok {
			c.queues[name] = &queue{name: name}
		}
	}
	c.poke()
}

// Close stops the center: rings are cancelled, waiting tickets end, and
// callbacks stay pending in the store.
func (c *Center) Close() {
	c.cancel()
	c.wg.Wait()
}

// poke asks the run loop to look again.
func (c *Center) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *Center) run() {
	defer c.wg.Done()
	t := time.NewTicker(c.tick)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			c.mu.Lock()
			for _, tk := range c.tickets {
				tk.endLocked(models.QueueFailed)
			}
			c.mu.Unlock()
			return
		case <-c.kick:
		case <-t.C:
		}
		c.refreshReach()
		c.mu.Lock()
		c.dispatchLocked()
		c.mu.Unlock()
	}
}

// refreshReach asks the Ringer which agents can ring, outside the lock.
func (c *Center) refreshReach() {
	c.mu.Lock()
	names := make([]string, 0, len(c.agents))
	for n := range c.agents {
		names = append(names, n)
	}
	c.mu.Unlock()
	reach := make(map[string]bool, len(names))
	for _, n := range names {
		reach[n] = c.ringer.Reachable(n)
	}
	c.mu.Lock()
	for n, r := range reach {
		if a, ok := c.agents[n]; ok && a.reachable != r {
			a.reachable = r
			a.since = c.now()
			c.notifyLocked(a)
		}
	}
	c.mu.Unlock()
}

// state is the agent's effective state.
func (a *agent) state() State {
	if a.activity != "" {
		return a.activity
	}
	if !a.reachable {
		return Offline
	}
	return a.presence
}

// free reports whether the agent can be offered a call now.
func (a *agent) free() bool { return a.state() == Available }

// waitingLocked returns the tickets still waiting for an agent, in
// service order: priority first, then arrival.
func (c *Center) waitingLocked() []*Ticket {
	var ts []*Ticket
	for _, t := range c.tickets {
		if t.status == statusWaiting || t.status == statusOffering {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].before(ts[j]) })
	return ts
}

// dispatchLocked offers waiting callers to free agents.
func (c *Center) dispatchLocked() {
	now := c.now()
	free := false
	for _, a := range c.agents {
		if a.activity == WrapUp && !now.Before(a.wrapEnd) {
			c.setActivityLocked(a, "")
		}
		// A reserved agent's callback becomes offerable once the caller answers.
		free = free || a.free() || a.ticket != nil && a.ticket.reserved == a && a.ticket.callerReady
	}
	if !free {
		return // nobody to ring, nobody to reserve: the common case in a busy queue
	}
	for _, t := range c.waitingLocked() {
		if t.status != statusWaiting || now.Before(t.nextTry) {
			continue
		}
		qc := c.cfg.Queues[t.queue]
		if qc == nil {
			continue
		}
		if t.cb != nil && !t.callerReady {
			// A callback's turn: reserve one agent, then call the caller.
			if t.reserved != nil || c.callback == nil {
				continue
			}
			picked := c.pickLocked(t, qc, true)
			if len(picked) == 0 {
				continue
			}
			c.reserveLocked(t, picked[0])
			continue
		}
		var picked []*agent
		if t.reserved != nil {
			if t.reserved.activity == Ringing && t.reserved.ticket == t {
				picked = []*agent{t.reserved}
			}
			t.reserved = nil
		}
		if len(picked) == 0 {
			picked = c.pickLocked(t, qc, false)
		}
		if len(picked) == 0 {
			continue
		}
		c.offerLocked(t, qc, picked)
	}
}

// pickLocked chooses the agents to ring for t by the queue's strategy.
// one asks for a single agent even for ring-all (a callback reservation).
func (c *Center) pickLocked(t *Ticket, qc *config.Queue, one bool) []*agent {
	q := c.queues[t.queue]
	var cands []*agent
	for _, m := range qc.Members {
		a := c.agents[m]
		if a != nil && a.free() && !t.tried[m] && c.skilled(m, qc) {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		// Everyone free was tried: start a new round.
		if len(t.tried) > 0 {
			t.tried = map[string]bool{}
			for _, m := range qc.Members {
				a := c.agents[m]
				if a != nil && a.free() && c.skilled(m, qc) {
					cands = append(cands, a)
				}
			}
		}
		if len(cands) == 0 {
			return nil
		}
	}
	// A returning caller waits a while for the agent they spoke to last,
	// while that agent is signed in.
	if t.lastAgent != "" && c.now().Before(t.joined.Add(qc.LastAgentWait)) {
		if la := c.agents[t.lastAgent]; la != nil && slices.Contains(qc.Members, t.lastAgent) {
			switch la.state() {
			case Offline, Away:
				// not coming: any agent will do
			default:
				if la.free() && !t.tried[la.name] {
					return []*agent{la}
				}
				return nil
			}
		}
	}
	switch qc.Strategy {
	case config.StrategyRingAll:
		if one {
			return []*agent{longestIdle(cands)}
		}
		return cands
	case config.StrategySequential:
		return cands[:1]
	case config.StrategyRoundRobin:
		n := len(qc.Members)
		for i := 0; i < n; i++ {
			m := qc.Members[(q.rrNext+i)%n]
			for _, a := range cands {
				if a.name == m {
					q.rrNext = (q.rrNext + i + 1) % n
					return []*agent{a}
				}
			}
		}
		return cands[:1]
	case config.StrategySkills:
		sort.SliceStable(cands, func(i, j int) bool {
			si, sj := c.skillScore(cands[i].name, qc), c.skillScore(cands[j].name, qc)
			if si != sj {
				return si > sj
			}
			return cands[i].idleFrom.Before(cands[j].idleFrom)
		})
		return cands[:1]
	default: // longest idle
		return []*agent{longestIdle(cands)}
	}
}

func longestIdle(as []*agent) *agent {
	best := as[0]
	for _, a := range as[1:] {
		if a.idleFrom.Before(best.idleFrom) {
			best = a
		}
	}
	return best
}

// skilled reports whether agent m meets the queue's skill levels (any
// agent does when the queue needs none).
func (c *Center) skilled(m string, qc *config.Queue) bool {
	ac := c.cfg.Agents[m]
	for s, lvl := range qc.Skills {
		if ac == nil || ac.Skills[s] < lvl {
			return false
		}
	}
	return true
}

func (c *Center) skillScore(m string, qc *config.Queue) int {
	ac := c.cfg.Agents[m]
	n := 0
	for s := range qc.Skills {
		if ac != nil {
			n += ac.Skills[s]
		}
	}
	return n
}

// reserveLocked holds an agent for a callback and starts calling the
// caller back.
func (c *Center) reserveLocked(t *Ticket, a *agent) {
	t.reserved = a
	a.ticket = t
	c.setActivityLocked(a, Ringing)
	t.cb.Status = models.CallbackDialing
	t.cb.Attempts++
	t.cb.UpdatedAt = c.now().UTC()
	cb := *t.cb
	c.saveCallback(&cb)
	c.log.Info("callback: agent reserved, calling the caller", "queue", t.queue, "number", cb.Number, "agent", a.name, "attempt", cb.Attempts)
	gen := t.gen
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.callback(c.ctx, cb, t)
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.gen == gen && t.status != statusDone && t.cb != nil && !t.callerReady {
			// The func returned without reaching the caller.
			t.leaveLocked(models.QueueNoAnswer)
		} else if t.gen == gen && t.status != statusDone && t.callerReady {
			t.leaveLocked(models.QueueFailed)
		}
	}()
}

// offerLocked rings the picked agents for t; the first to answer wins.
func (c *Center) offerLocked(t *Ticket, qc *config.Queue, picked []*agent) {
	t.status = statusOffering
	ctx, cancel := context.WithTimeout(c.ctx, qc.RingTimeout)
	t.cancelOffer = cancel
	t.ringing = len(picked)
	pop := t.pop
	pop.Queue = t.queue
	pop.WaitedMS = c.now().Sub(t.joined).Milliseconds()
	pop.Callback = t.cb != nil
	o := Offer{Ticket: t.id, Queue: t.queue, Pop: pop}
	for _, a := range picked {
		a.ticket = t
		c.setActivityLocked(a, Ringing)
		t.tried[a.name] = true
		c.log.Info("offering call", "queue", t.queue, "ticket", t.id, "agent", a.name)
		c.wg.Add(1)
		go func(a *agent) {
			defer c.wg.Done()
			leg, err := c.ringer.Ring(ctx, a.name, o)
			c.mu.Lock()
			defer c.mu.Unlock()
			c.ringDoneLocked(t, qc, a, leg, err)
		}(a)
	}
}

// ringDoneLocked settles one ring of an offer.
func (c *Center) ringDoneLocked(t *Ticket, qc *config.Queue, a *agent, leg bridge.Leg, err error) {
	t.ringing--
	won := err == nil && leg != nil && t.status == statusOffering
	switch {
	case won:
		t.status = statusConnected
		t.agent, t.leg, t.connected = a.name, leg, c.now()
		t.cancelOffer() // stop the others ringing
		a.calls++
		c.setActivityLocked(a, Busy)
		if t.cb != nil {
			t.cb.Status, t.cb.Agent, t.cb.UpdatedAt = models.CallbackAnswered, a.name, c.now().UTC()
			cb := *t.cb
			c.saveCallback(&cb)
		}
		if c.store != nil && t.caller != "" {
			caller, name := t.caller, a.name
			go c.store.NoteAgent(context.Background(), caller, name, c.now())
		}
		c.log.Info("agent answered", "queue", t.queue, "ticket", t.id, "agent", a.name)
		close(t.ready)
	case err == nil && leg != nil:
		// Answered too late: someone else won or the caller left.
		go leg.Hangup(context.Background())
		fallthrough
	default:
		if a.ticket == t && a.activity == Ringing {
			a.ticket = nil
			c.setActivityLocked(a, "")
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			c.log.Info("agent did not take the call", "queue", t.queue, "ticket", t.id, "agent", a.name, "err", err)
		}
	}
	if t.ringing == 0 && t.status == statusOffering {
		t.cancelOffer()
		t.status = statusWaiting
		t.nextTry = c.now().Add(qc.Retry)
	}
	c.poke()
}

func (c *Center) setActivityLocked(a *agent, s State) {
	if a.activity == s {
		return
	}
	if s == "" && a.activity != "" {
		a.ticket = nil
	}
	a.activity = s
	a.since = c.now()
	c.notifyLocked(a)
}

func (c *Center) saveCallback(cb *models.QueueCallback) {
	if c.store == nil {
		return
	}
	if err := c.store.SaveCallback(context.Background(), cb); err != nil {
		c.log.Error("callback not saved", "id", cb.ID, "err", err)
	}
}

// Join puts a caller in a queue.
func (c *Center) Join(ctx context.Context, queueName string, pop models.ScreenPop, priority int) (*Ticket, error) {
	c.mu.Lock()
	qc := c.cfg.Queues[queueName]
	c.mu.Unlock()
	if qc == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoQueue, queueName)
	}
	vip := qc.VIP != "" && inList(c.cfg.Lists[qc.VIP], pop.Caller)
	if vip {
		priority++
		pop.VIP = true
	}
	last := ""
	if qc.LastAgentWait > 0 && c.store != nil && pop.Caller != "" {
		var err error
		if last, err = c.store.LastAgent(ctx, pop.Caller, c.now().Add(-90*24*time.Hour)); err != nil {
			c.log.Warn("last agent unknown", "err", err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.newTicketLocked(queueName, pop, priority)
	t.lastAgent = last
	t.position = c.positionLocked(t)
	c.poke()
	return t, nil
}

// inList reports whether the caller's number is in list (comparing
// digits, so +44 20... and 4420... match).
func inList(list []string, caller string) bool {
	cd := digitsOf(caller)
	for _, v := range list {
		if v == caller || cd != "" && digitsOf(v) == cd {
			return true
		}
	}
	return false
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (c *Center) newTicketLocked(q string, pop models.ScreenPop, priority int) *Ticket {
	c.seq++
	t := &Ticket{c: c, id: "t" + strconv.FormatUint(c.seq, 10) + "-" + strconv.FormatInt(c.now().UnixNano()%1e9, 36),
		seq: c.seq, queue: q, pop: pop, caller: pop.Caller, priority: priority, joined: c.now(),
		status: statusWaiting, tried: map[string]bool{}, ready: make(chan struct{})}
	c.tickets[t.id] = t
	return t
}

// positionLocked is t's place among the tickets of its queue (1 = next).
func (c *Center) positionLocked(t *Ticket) int {
	n := 1
	for _, o := range c.tickets {
		if o != t && o.queue == t.queue && (o.status == statusWaiting || o.status == statusOffering) && o.before(t) {
			n++
		}
	}
	return n
}

// estimateLocked is the expected wait for someone at position pos.
func (c *Center) estimateLocked(q string, pos int) time.Duration {
	qc := c.cfg.Queues[q]
	if qc == nil {
		return 0
	}
	aht := qc.HandleTime
	if h := c.queues[q].handles; len(h) > 0 {
		var sum time.Duration
		for _, d := range h {
			sum += d
		}
		aht = sum / time.Duration(len(h))
	}
	staffed := 0
	for _, m := range qc.Members {
		if a := c.agents[m]; a != nil {
			switch a.state() {
			case Offline, Away:
			default:
				staffed++
			}
		}
	}
	if staffed == 0 {
		return 0 // unknown: nobody is signed in
	}
	return time.Duration(pos) * aht / time.Duration(staffed)
}

// SetState sets an agent available or away (the agent page, the admin
// API). Setting available during wrap-up ends the wrap-up.
func (c *Center) SetState(name string, s State) error {
	if s != Available && s != Away {
		return ErrBadState
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.agents[name]
	if a == nil {
		return ErrNoAgent
	}
	a.presence = s
	a.since = c.now()
	if s == Available && a.activity == WrapUp {
		a.activity = ""
	}
	c.notifyLocked(a)
	c.poke()
	return nil
}

// Authenticate checks an agent's password (constant time).
func (c *Center) Authenticate(name, password string) bool {
	c.mu.Lock()
	ac := c.cfg.Agents[name]
	c.mu.Unlock()
	if ac == nil || ac.Password == "" {
		subtle.ConstantTimeCompare([]byte(password), []byte("x"))
		return false
	}
	return subtle.ConstantTimeCompare([]byte(password), []byte(ac.Password)) == 1
}

// AgentStatus is what an agent page and the admin API see of an agent.
type AgentStatus struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	State       State     `json:"state"`
	Since       time.Time `json:"since"`
	Queues      []string  `json:"queues"`
	Calls       int       `json:"calls"`
	// Version grows with every change of the agent's status, so a page
	// can drop a status older than the one it shows.
	Version uint64 `json:"version"`
	// Call is the caller offered to or talking with the agent.
	Call *models.ScreenPop `json:"call,omitempty"`
	// Ticket identifies the offer (the agent page answers it).
	Ticket string `json:"ticket,omitempty"`
}

func (c *Center) statusLocked(a *agent) AgentStatus {
	st := AgentStatus{Name: a.name, DisplayName: a.name, State: a.state(), Since: a.since, Calls: a.calls, Queues: []string{},
		Version: a.version}
	if ac := c.cfg.Agents[a.name]; ac != nil {
		st.DisplayName = ac.DisplayName(a.name)
	}
	for q, qc := range c.cfg.Queues {
		if slices.Contains(qc.Members, a.name) {
			st.Queues = append(st.Queues, q)
		}
	}
	sort.Strings(st.Queues)
	if t := a.ticket; t != nil && (a.activity == Ringing || a.activity == Busy) && (t.cb == nil || t.callerReady) {
		pop := t.pop
		pop.Queue = t.queue
		pop.Callback = t.cb != nil
		pop.WaitedMS = c.now().Sub(t.joined).Milliseconds()
		st.Call, st.Ticket = &pop, t.id
	}
	return st
}

// Agent returns one agent's status.
func (c *Center) Agent(name string) (AgentStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.agents[name]
	if a == nil {
		return AgentStatus{}, false
	}
	return c.statusLocked(a), true
}

// Agents returns every agent's status, by name.
func (c *Center) Agents() []AgentStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]AgentStatus, 0, len(c.agents))
	for _, a := range c.agents {
		out = append(out, c.statusLocked(a))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// QueueStatus summarises a queue.
type QueueStatus struct {
	Name string `json:"name"`
	// Waiting counts callers on the line; Callbacks those to call back.
	Waiting   int `json:"waiting"`
	Callbacks int `json:"callbacks"`
	// LongestWaitMS is the longest current wait.
	LongestWaitMS   int64           `json:"longest_wait_ms"`
	EstimatedWaitMS int64           `json:"estimated_wait_ms"`
	Agents          map[State]int   `json:"agents"`
	HandleTimeMS    int64           `json:"handle_time_ms"` // recent average
	Pending         []CallbackBrief `json:"pending_callbacks,omitempty"`
}

// CallbackBrief is a pending callback in a queue's status.
type CallbackBrief struct {
	Number   string    `json:"number"`
	JoinedAt time.Time `json:"joined_at"`
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
}

// Queues returns every queue's status, by name.
func (c *Center) Queues() []QueueStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var out []QueueStatus
	for name, qc := range c.cfg.Queues {
		qs := QueueStatus{Name: name, Agents: map[State]int{}}
		for _, m := range qc.Members {
			if a := c.agents[m]; a != nil {
				qs.Agents[a.state()]++
			}
		}
		for _, t := range c.waitingLocked() {
			if t.queue != name {
				continue
			}
			if t.cb != nil && !t.callerReady {
				qs.Callbacks++
				qs.Pending = append(qs.Pending, CallbackBrief{Number: t.cb.Number, JoinedAt: t.joined, Status: t.cb.Status, Attempts: t.cb.Attempts})
			} else {
				qs.Waiting++
			}
			if w := now.Sub(t.joined).Milliseconds(); w > qs.LongestWaitMS {
				qs.LongestWaitMS = w
			}
		}
		qs.EstimatedWaitMS = c.estimateLocked(name, qs.Waiting+qs.Callbacks+1).Milliseconds()
		if h := c.queues[name].handles; len(h) > 0 {
			var sum time.Duration
			for _, d := range h {
				sum += d
			}
			qs.HandleTimeMS = (sum / time.Duration(len(h))).Milliseconds()
		}
		out = append(out, qs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// watcher receives an agent's status changes.
type watcher struct {
	ch     chan AgentStatus
	closed atomic.Bool
}

// Watch returns a channel of the agent's status, starting with the
// current one, and a func to stop watching. Slow readers miss
// intermediate states, never the latest.
func (c *Center) Watch(name string) (<-chan AgentStatus, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.agents[name]
	if a == nil {
		return nil, nil, ErrNoAgent
	}
	w := &watcher{ch: make(chan AgentStatus, 8)}
	if c.watchers[name] == nil {
		c.watchers[name] = map[*watcher]bool{}
	}
	c.watchers[name][w] = true
	w.ch <- c.statusLocked(a)
	stop := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if w.closed.CompareAndSwap(false, true) {
			delete(c.watchers[name], w)
			close(w.ch)
		}
	}
	return w.ch, stop, nil
}

// notifyLocked marks a change of the agent's status and sends it to the
// agent's watchers.
func (c *Center) notifyLocked(a *agent) {
	a.version++
	ws := c.watchers[a.name]
	if len(ws) == 0 {
		return
	}
	st := c.statusLocked(a)
	for w := range ws {
		for {
			select {
			case w.ch <- st:
			default:
				// Full: drop the oldest so the newest always gets in.
				select {
				case <-w.ch:
				default:
				}
				continue
			}
			break
		}
	}
}
