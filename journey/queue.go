package journey

import (
	"context"
	"sync"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
)

// Stand-in queue timings: the agent answers after standInRing and hangs
// up first after standInTalk (so a survey after the agent can be tested).
const (
	standInRing = 200 * time.Millisecond
	standInTalk = 300 * time.Millisecond
)

// standInQueues serves queue nodes in journeys: no agents are rung; a
// stand-in agent answers (queue_outcome: answered, the default) or
// nobody ever will (no_agent: the wait ends at once as if max_wait had
// passed, and the call goes on to on_timeout).
type standInQueues struct{ outcome string }

func (q standInQueues) Join(ctx context.Context, queue string, pop models.ScreenPop, prio int) (dialog.QueueTicket, error) {
	t := &standInTicket{ready: make(chan struct{})}
	if q.outcome == "no_agent" {
		close(t.ready)
		return t, nil
	}
	t.timer = time.AfterFunc(standInRing, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.left {
			return
		}
		t.leg = newStandInLeg()
		close(t.ready)
	})
	return t, nil
}

type standInTicket struct {
	mu    sync.Mutex
	ready chan struct{}
	timer *time.Timer
	leg   *standInLeg
	left  bool
}

func (t *standInTicket) ID() string                   { return "journey-ticket" }
func (t *standInTicket) JoinPosition() int            { return 1 }
func (t *standInTicket) VIP() bool                    { return false }
func (t *standInTicket) LastAgent() string            { return "" }
func (t *standInTicket) Position() int                { return 1 }
func (t *standInTicket) EstimatedWait() time.Duration { return time.Minute }
func (t *standInTicket) Staffed() bool                { return true }
func (t *standInTicket) Ready() <-chan struct{}       { return t.ready }
func (t *standInTicket) CallerReady(string)           {}
func (t *standInTicket) Finish(bool)                  {}

func (t *standInTicket) Agent() (string, bridge.Leg) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.leg == nil {
		return "", nil
	}
	return "stand-in", t.leg
}

func (t *standInTicket) Leave(string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.left = true
	if t.timer != nil {
		t.timer.Stop()
	}
}

func (t *standInTicket) Callback(number string) (*models.QueueCallback, error) {
	t.Leave(models.QueueCalledBack)
	return &models.QueueCallback{ID: "journey-callback", Number: number, Status: models.CallbackPending}, nil
}

// standInLeg is the stand-in agent's side of the bridge: silent, hangs up
// after standInTalk.
type standInLeg struct {
	done chan struct{}
	once sync.Once
}

func newStandInLeg() *standInLeg {
	l := &standInLeg{done: make(chan struct{})}
	time.AfterFunc(standInTalk, func() { l.Hangup(context.Background()) })
	return l
}

func (l *standInLeg) ID() string                        { return "journey-agent" }
func (l *standInLeg) SetSink(func(audio.Frame))         {}
func (l *standInLeg) Play(audio.Source) <-chan struct{} { return make(chan struct{}) }
func (l *standInLeg) StopPlayback()                     {}
func (l *standInLeg) Digits() <-chan dtmf.Digit         { return nil }
func (l *standInLeg) Done() <-chan struct{}             { return l.done }
func (l *standInLeg) SampleRate() int                   { return audio.Rate8k }
func (l *standInLeg) Hangup(context.Context) error {
	l.once.Do(func() { close(l.done) })
	return nil
}
