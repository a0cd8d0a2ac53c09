package dialog

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/acd"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/speech"
)

const queueFlowYAML = `
intents:
  - {name: billing, examples: [a question about my bill]}
prompts:
  items:
    vm: {text: "Please leave a message."}
    rate: {text: "Rate us from 1 to 5."}
    storm: {text: "Storms are delaying repairs."}
announcements:
  storm: {prompt: storm}
agents:
  alice: {uri: "sip:alice@example.com"}
queues:
  support:
    members: [alice]
    override: storm
    callback: {uri: "sip:{{number}}@example.com"}
flow:
  start: wait
  nodes:
    wait: {type: queue, queue: support, next: survey, on_timeout: vm}
    vm: {type: hangup, prompt: vm}
    survey: {type: survey, prompt: rate, timeout: 100ms, retries: 0, next: done, on_failure: done}
    done: {type: hangup}
`

// legCall is a test caller that can be bridged.
type legCall struct{ *testCall }

func (legCall) SetSink(func(audio.Frame)) {}

// agentDevice rings an agent in tests: it answers (or not) and the agent
// hangs up after talk.
type agentDevice struct {
	mu     sync.Mutex
	reach  bool
	answer bool
	talk   time.Duration
}

func (d *agentDevice) set(f func(d *agentDevice)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

func (d *agentDevice) Reachable(string) bool { d.mu.Lock(); defer d.mu.Unlock(); return d.reach }
func (d *agentDevice) Ring(ctx context.Context, a string, o acd.Offer) (bridge.Leg, error) {
	d.mu.Lock()
	answer, talk := d.answer, d.talk
	d.mu.Unlock()
	if !answer {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	l := &agentLeg{done: make(chan struct{})}
	time.AfterFunc(talk, func() { l.Hangup(context.Background()) })
	return l, nil
}

type agentLeg struct {
	done chan struct{}
	once sync.Once
}

func (l *agentLeg) ID() string                        { return "agent-leg" }
func (l *agentLeg) SetSink(func(audio.Frame))         {}
func (l *agentLeg) Play(audio.Source) <-chan struct{} { return make(chan struct{}) }
func (l *agentLeg) StopPlayback()                     {}
func (l *agentLeg) Digits() <-chan dtmf.Digit         { return nil }
func (l *agentLeg) Done() <-chan struct{}             { return l.done }
func (l *agentLeg) SampleRate() int                   { return 8000 }
func (l *agentLeg) Hangup(context.Context) error      { l.once.Do(func() { close(l.done) }); return nil }

// holdRecorder is music on hold that notes what it announces.
type holdRecorder struct {
	mu    sync.Mutex
	clips int
}

type recPlayer struct{ h *holdRecorder }

func (p recPlayer) Rate() int                      { return 8000 }
func (p recPlayer) ReadPCM(b []int16) (int, error) { return len(b), nil }
func (p recPlayer) Stop()                          {}
func (p recPlayer) Pending() int                   { return 0 }
func (p recPlayer) Announce(c audio.Clip, urgent bool) <-chan struct{} {
	p.h.mu.Lock()
	p.h.clips++
	p.h.mu.Unlock()
	ch := make(chan struct{})
	close(ch)
	return ch
}

// switchable is an announcer whose storm message switches on mid-call.
type switchable struct {
	mu sync.Mutex
	on bool
}

func (s *switchable) Active() []models.Announcement {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.on {
		return nil
	}
	return []models.Announcement{{Name: "storm", Active: true}}
}

type queueSetup struct {
	e      *Engine
	recs   *records
	dev    *agentDevice
	hold   *holdRecorder
	storm  *switchable
	center *acd.Center
}

func queueEngine(t *testing.T, tweak func(q *config.Queue)) *queueSetup {
	return queueEngineEars(t, tweak, nil)
}

func queueEngineEars(t *testing.T, tweak func(q *config.Queue), ears Listener) *queueSetup {
	return queueEngineFlow(t, queueFlowYAML, tweak, ears)
}

func queueEngineFlow(t *testing.T, flow string, tweak func(q *config.Queue), ears Listener) *queueSetup {
	t.Helper()
	firstAnnouncement, overridePoll = 30*time.Millisecond, 20*time.Millisecond
	cfg, err := config.Parse([]byte(flow), "queue.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Queues["support"]
	q.Music = nil
	if tweak != nil {
		tweak(q)
	}
	qs := &queueSetup{recs: &records{}, dev: &agentDevice{}, hold: &holdRecorder{}, storm: &switchable{}}
	qs.center, err = acd.New(acd.Options{Config: cfg, Ringer: qs.dev, Tick: 10 * time.Millisecond,
		Callback: func(context.Context, models.QueueCallback, *acd.Ticket) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(qs.center.Close)
	ps := prompts{}
	for name, p := range cfg.Prompts.Items {
		ps[name] = p.Text
	}
	o := Options{Prompts: ps, Records: qs.recs, Queues: testQueues{qs.center}, Announcer: qs.storm,
		Hold: func([]string, int) HoldPlayer { return recPlayer{qs.hold} }}
	if ears != nil {
		o.Ears = func(context.Context, int) (Listener, error) { return ears, nil }
	}
	qs.e, err = NewEngine(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

type testQueues struct{ c *acd.Center }

func (q testQueues) Join(ctx context.Context, name string, pop models.ScreenPop, prio int) (QueueTicket, error) {
	return q.c.Join(ctx, name, pop, prio)
}

func runLeg(t *testing.T, e *Engine, c legCall, script func()) {
	t.Helper()
	if script == nil {
		script = func() {}
	}
	runCall(t, e, c, c.callerLeaves, script)
}

func TestQueueMaxWaitGoesToTimeoutNode(t *testing.T) {
	qs := queueEngine(t, func(q *config.Queue) { q.MaxWait = 300 * time.Millisecond })
	qs.dev.set(func(d *agentDevice) { d.reach = true }) // alice is signed in but never answers
	c := legCall{newTestCall(time.Millisecond)}
	runLeg(t, qs.e, c, nil)
	r := qs.recs.last
	if strings.Join(r.Path, ">") != "wait>vm" {
		t.Errorf("path %v, want wait>vm", r.Path)
	}
	if r.Queue == nil || r.Queue.Outcome != models.QueueTimeout || r.Queue.WaitMS < 300 || r.Queue.Announcements < 1 {
		t.Errorf("queue stats %+v", r.Queue)
	}
	qs.hold.mu.Lock()
	clips := qs.hold.clips
	qs.hold.mu.Unlock()
	if clips < 1 {
		t.Error("no announcement over the music")
	}
}

func TestQueueLeaveWhenEmpty(t *testing.T) {
	qs := queueEngine(t, func(q *config.Queue) { q.LeaveWhenEmpty = true })
	c := legCall{newTestCall(time.Millisecond)}
	runLeg(t, qs.e, c, nil)
	r := qs.recs.last
	if r.Queue == nil || r.Queue.Outcome != models.QueueEmpty || strings.Join(r.Path, ">") != "wait>vm" {
		t.Errorf("path %v stats %+v: nobody signed in, straight to on_timeout", r.Path, r.Queue)
	}
}

func TestQueueOverrideAtBreakThenAgentThenSurvey(t *testing.T) {
	qs := queueEngine(t, nil)
	qs.dev.set(func(d *agentDevice) { d.answer, d.talk = true, 50*time.Millisecond })
	c := legCall{newTestCall(time.Millisecond)}
	runLeg(t, qs.e, c, func() {
		time.Sleep(150 * time.Millisecond) // waiting: nobody is signed in yet
		qs.storm.mu.Lock()
		qs.storm.on = true
		qs.storm.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		qs.dev.set(func(d *agentDevice) { d.reach = true }) // alice signs in and answers
	})
	r := qs.recs.last
	if strings.Join(r.Path, ">") != "wait>survey>done" {
		t.Errorf("path %v: the agent hung up first, so the survey follows", r.Path)
	}
	var storm bool
	for _, ev := range r.Events {
		storm = storm || ev.Kind == "announcement" && ev.Text == "storm"
	}
	if !storm {
		t.Errorf("the override was not announced: %+v", r.Events)
	}
	q := r.Queue
	if q == nil || q.Outcome != models.QueueAnswered || q.Agent != "alice" || !q.AgentHungUp || q.WaitMS < 250 {
		t.Errorf("queue stats %+v", q)
	}
}

func TestQueueCallbackByKeyKeepsPlace(t *testing.T) {
	qs := queueEngine(t, nil)
	c := legCall{newTestCall(time.Millisecond)}
	runLeg(t, qs.e, c, func() {
		time.Sleep(100 * time.Millisecond)
		c.press("1") // a callback...
		time.Sleep(100 * time.Millisecond)
		c.press("1") // ...on the number I call from
	})
	r := qs.recs.last
	q := r.Queue
	if q == nil || q.Outcome != models.QueueCalledBack || q.Callback == nil || q.Callback.Number != "447700900123" {
		t.Fatalf("queue stats %+v", q)
	}
	if r.EndReason != models.EndCallbackRequested {
		t.Errorf("end %q", r.EndReason)
	}
	if st := qs.center.Queues(); st[0].Callbacks != 1 {
		t.Errorf("queue holds %d callbacks, want 1", st[0].Callbacks)
	}
	if !strings.Contains(strings.Join(c.heard, "|"), "you keep your place") && !strings.Contains(strings.Join(c.heard, "|"), "You keep your place") {
		t.Errorf("heard %v", c.heard)
	}
}

func TestQueueCallbackBySpeech(t *testing.T) {
	ears := &scriptedEars{events: make(chan speech.Event, 8)}
	qs := queueEngineEars(t, nil, ears)
	c := legCall{newTestCall(time.Millisecond)}
	runLeg(t, qs.e, c, func() {
		time.Sleep(100 * time.Millisecond)
		ears.say("could you call me back please", "", 0.2)
		time.Sleep(100 * time.Millisecond)
		ears.say("yes", "", 0.2)
	})
	q := qs.recs.last.Queue
	if q == nil || q.Outcome != models.QueueCalledBack || q.Callback == nil || q.Callback.Number != "447700900123" {
		t.Fatalf("queue stats %+v", q)
	}
	ears.mu.Lock()
	defer ears.mu.Unlock()
	found := false
	for _, h := range ears.hints {
		for _, p := range h.Phrases {
			found = found || p == "call me back"
		}
	}
	if !found {
		t.Errorf("the wait did not tell the recognizer about callback phrases: %+v", ears.hints)
	}
}

func TestQueueMaxWaitOffersCallback(t *testing.T) {
	qs := queueEngine(t, func(q *config.Queue) { q.MaxWait = 200 * time.Millisecond })
	qs.e.cfg.Flow.Nodes["wait"].OnTimeout = ""
	c := legCall{newTestCall(time.Millisecond)}
	runLeg(t, qs.e, c, func() {
		time.Sleep(400 * time.Millisecond) // past max_wait: the callback is offered
		c.press("1")                       // yes, on this number
	})
	r := qs.recs.last
	if r.Queue == nil || r.Queue.Outcome != models.QueueCalledBack || r.Queue.Callback == nil {
		t.Fatalf("queue stats %+v: after max_wait the caller should be offered a callback", r.Queue)
	}
	var offered bool
	for _, ev := range r.Events {
		offered = offered || ev.Kind == "queue_max_wait"
	}
	if !offered || r.EndReason != models.EndCallbackRequested {
		t.Errorf("offered %v, end %q", offered, r.EndReason)
	}
}

// TestCallbackNodeTakesAPlaceInQueue: a callback node with queue: puts the
// request in the queue's callbacks (the distributor dials when an agent is
// free) instead of only recording it.
func TestCallbackNodeTakesAPlaceInQueue(t *testing.T) {
	flow := strings.Replace(queueFlowYAML, "  start: wait\n", "  start: cb\n", 1)
	flow = strings.Replace(flow, "    done: {type: hangup}\n", "    done: {type: hangup}\n    cb: {type: callback, queue: support, next: done}\n", 1)
	qs := queueEngineFlow(t, flow, nil, nil)
	c := legCall{newTestCall(time.Millisecond)}
	runLeg(t, qs.e, c, func() {
		time.Sleep(100 * time.Millisecond)
		c.press("1") // yes, the number I call from
	})
	r := qs.recs.last
	if r.Callback == nil || r.Callback.Queue != "support" || r.Callback.Number != "447700900123" {
		t.Fatalf("callback %+v", r.Callback)
	}
	if q := r.Queue; q == nil || q.Outcome != models.QueueCalledBack || q.Callback == nil || q.Callback.Number != "447700900123" {
		t.Fatalf("queue stats %+v", q)
	}
	if st := qs.center.Queues(); st[0].Callbacks != 1 {
		t.Errorf("queue holds %d callbacks, want 1", st[0].Callbacks)
	}
	if strings.Join(r.Path, ">") != "cb>done" {
		t.Errorf("path %v", r.Path)
	}
}
