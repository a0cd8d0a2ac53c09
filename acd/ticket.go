package acd

import (
	"context"
	"time"

	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/models"
)

type ticketStatus int

const (
	statusWaiting   ticketStatus = iota // in the queue
	statusOffering                      // agents are ringing
	statusConnected                     // an agent answered
	statusDone                          // finished or left
)

// Ticket is a caller's place in a queue (or a callback's).
type Ticket struct {
	c        *Center
	id       string
	seq      uint64
	queue    string
	pop      models.ScreenPop
	caller   string
	priority int
	joined   time.Time
	position int // at joining

	// Guarded by c.mu.
	status      ticketStatus
	tried       map[string]bool // agents rung in this round
	nextTry     time.Time
	cancelOffer context.CancelFunc
	ringing     int
	agent       string
	leg         bridge.Leg
	connected   time.Time
	lastAgent   string
	outcome     string
	ready       chan struct{}
	// Callbacks.
	cb          *models.QueueCallback
	callerReady bool
	reserved    *agent
	gen         int // callback attempt, so a stale attempt cannot settle a new one
}

// before orders tickets: higher priority first, then earlier arrival.
func (t *Ticket) before(o *Ticket) bool {
	if t.priority != o.priority {
		return t.priority > o.priority
	}
	if !t.joined.Equal(o.joined) {
		return t.joined.Before(o.joined)
	}
	return t.seq < o.seq
}

// ID identifies the ticket (a callback's ID is its ticket's).
func (t *Ticket) ID() string { return t.id }

// Queue is the queue's name.
func (t *Ticket) Queue() string { return t.queue }

// JoinedAt is when the caller joined (a callback keeps the original time).
func (t *Ticket) JoinedAt() time.Time { return t.joined }

// JoinPosition is the caller's place when they joined.
func (t *Ticket) JoinPosition() int { return t.position }

// VIP reports whether the caller was on the queue's VIP list.
func (t *Ticket) VIP() bool { return t.pop.VIP }

// LastAgent is the agent the caller spoke to last, tried first.
func (t *Ticket) LastAgent() string {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.lastAgent
}

// Position is the caller's place now (1 = next); 0 once connected or gone.
func (t *Ticket) Position() int {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.status != statusWaiting && t.status != statusOffering {
		return 0
	}
	return t.c.positionLocked(t)
}

// EstimatedWait is the expected wait from now (0: unknown, nobody is
// signed in).
func (t *Ticket) EstimatedWait() time.Duration {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.status != statusWaiting && t.status != statusOffering {
		return 0
	}
	return t.c.estimateLocked(t.queue, t.c.positionLocked(t))
}

// Staffed reports whether any member of the queue is signed in (not
// offline or away).
func (t *Ticket) Staffed() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	qc := t.c.cfg.Queues[t.queue]
	if qc == nil {
		return false
	}
	for _, m := range qc.Members {
		if a := t.c.agents[m]; a != nil {
			switch a.state() {
			case Offline, Away:
			default:
				return true
			}
		}
	}
	return false
}

// Ready closes when an agent answered, or the ticket ended (Agent then
// returns a nil leg).
func (t *Ticket) Ready() <-chan struct{} { return t.ready }

// Agent returns the agent who answered and their leg, after Ready.
func (t *Ticket) Agent() (string, bridge.Leg) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.status != statusConnected {
		return "", nil
	}
	return t.agent, t.leg
}

// Outcome is how the ticket ended ("" while it lives).
func (t *Ticket) Outcome() string {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.outcome
}

// Leave takes the caller out of the queue (they hung up, waited too
// long...). For a callback that went unanswered (models.QueueNoAnswer)
// the callback is tried again later, up to the queue's attempts. Leaving
// a connected ticket does nothing: use Finish.
func (t *Ticket) Leave(outcome string) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.leaveLocked(outcome)
}

func (t *Ticket) leaveLocked(outcome string) {
	c := t.c
	if t.status == statusConnected || t.status == statusDone {
		return
	}
	if t.cb == nil {
		t.endLocked(outcome)
		return
	}
	t.releaseReservedLocked()
	if t.cancelOffer != nil {
		t.cancelOffer()
	}
	now := c.now()
	max := 1
	if qc := c.cfg.Queues[t.queue]; qc != nil && qc.Callback != nil {
		max = qc.Callback.Attempts
		if outcome == models.QueueNoAnswer && t.cb.Attempts < max {
			next := now.Add(qc.Callback.RetryAfter)
			t.cb.Status, t.cb.NextAttempt, t.cb.UpdatedAt = models.CallbackPending, &next, now.UTC()
			t.status, t.nextTry, t.callerReady = statusWaiting, next, false
			t.gen++
			cb := *t.cb
			c.saveCallback(&cb)
			c.log.Info("callback unanswered, will try again", "queue", t.queue, "number", t.cb.Number, "attempts", t.cb.Attempts, "next", next)
			c.poke()
			return
		}
	}
	t.cb.Status, t.cb.UpdatedAt = models.CallbackFailed, now.UTC()
	cb := *t.cb
	c.saveCallback(&cb)
	c.log.Info("callback given up", "queue", t.queue, "number", t.cb.Number, "attempts", t.cb.Attempts, "outcome", outcome)
	t.endLocked(outcome)
}

func (t *Ticket) releaseReservedLocked() {
	if a := t.reserved; a != nil {
		if a.ticket == t && a.activity == Ringing {
			t.c.setActivityLocked(a, "")
		}
		t.reserved = nil
	}
}

// endLocked removes the ticket and wakes its waiter.
func (t *Ticket) endLocked(outcome string) {
	if t.status == statusDone {
		return
	}
	if t.cancelOffer != nil {
		t.cancelOffer()
	}
	t.releaseReservedLocked()
	t.status, t.outcome = statusDone, outcome
	delete(t.c.tickets, t.id)
	select {
	case <-t.ready:
	default:
		close(t.ready)
	}
	t.c.poke()
}

// Callback turns the ticket into a callback to number, keeping the
// caller's place: the caller can hang up. It fails when an agent has
// already answered or callbacks cannot be placed.
func (t *Ticket) Callback(number string) (*models.QueueCallback, error) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.status != statusWaiting && t.status != statusOffering {
		return nil, ErrTicketClosed
	}
	qc := c.cfg.Queues[t.queue]
	if c.callback == nil || qc == nil || qc.Callback == nil {
		return nil, ErrNoCallbacks
	}
	if t.cancelOffer != nil {
		t.cancelOffer() // a late answer is hung up by ringDoneLocked
	}
	now := c.now()
	pop := t.pop
	pop.Queue = t.queue
	t.cb = &models.QueueCallback{ID: t.id, Queue: t.queue, Number: number, CallID: pop.CallID, JoinedAt: t.joined,
		RequestedAt: now.UTC(), Priority: t.priority, Status: models.CallbackPending, UpdatedAt: now.UTC(), Pop: &pop}
	t.status, t.nextTry = statusWaiting, now.Add(c.grace)
	t.tried = map[string]bool{}
	cb := *t.cb
	c.saveCallback(&cb)
	c.log.Info("callback requested", "queue", t.queue, "number", number, "call_id", pop.CallID)
	c.poke()
	return &cb, nil
}

// CallbackInfo is the ticket's callback ("nil" for a caller on the line).
func (t *Ticket) CallbackInfo() *models.QueueCallback {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.cb == nil {
		return nil
	}
	cb := *t.cb
	return &cb
}

// CallerReady says the called-back caller answered: ring the reserved
// agent now.
func (t *Ticket) CallerReady(callID string) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.status != statusWaiting || t.cb == nil {
		return
	}
	t.callerReady = true
	t.nextTry = time.Time{}
	t.cb.LastCallID, t.cb.UpdatedAt = callID, c.now().UTC()
	c.poke()
}

// Finish ends a connected ticket when the conversation is over: the
// agent rests for the queue's wrap-up time, and the talk time feeds the
// wait estimates.
func (t *Ticket) Finish(agentHungUp bool) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.status != statusConnected {
		return
	}
	now := c.now()
	t.status, t.outcome = statusDone, models.QueueAnswered
	delete(c.tickets, t.id)
	if q := c.queues[t.queue]; q != nil {
		q.handles = append(q.handles, now.Sub(t.connected))
		if len(q.handles) > maxHandles {
			q.handles = q.handles[len(q.handles)-maxHandles:]
		}
	}
	if a := c.agents[t.agent]; a != nil && a.ticket == t {
		a.idleFrom = now
		a.ticket = nil
		wrap := time.Duration(0)
		if qc := c.cfg.Queues[t.queue]; qc != nil {
			wrap = qc.WrapUp
		}
		if wrap > 0 {
			a.wrapEnd = now.Add(wrap)
			c.setActivityLocked(a, WrapUp)
		} else {
			c.setActivityLocked(a, "")
		}
	}
	c.log.Info("call finished", "queue", t.queue, "ticket", t.id, "agent", t.agent, "agent_hung_up", agentHungUp,
		"talk", now.Sub(t.connected).Round(time.Millisecond))
	c.poke()
}

// TalkTime is how long the caller has been connected to the agent.
func (t *Ticket) TalkTime() time.Duration {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.connected.IsZero() {
		return 0
	}
	return t.c.now().Sub(t.connected)
}
