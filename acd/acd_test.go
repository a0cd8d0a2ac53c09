package acd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// leg is an agent's answered device in these tests (the far end is not
// part of the package).
type leg struct {
	id   string
	done chan struct{}
	once sync.Once
}

func newLeg(id string) *leg                      { return &leg{id: id, done: make(chan struct{})} }
func (l *leg) ID() string                        { return l.id }
func (l *leg) SetSink(func(audio.Frame))         {}
func (l *leg) Play(audio.Source) <-chan struct{} { return make(chan struct{}) }
func (l *leg) StopPlayback()                     {}
func (l *leg) Digits() <-chan dtmf.Digit         { return nil }
func (l *leg) Done() <-chan struct{}             { return l.done }
func (l *leg) SampleRate() int                   { return 8000 }
func (l *leg) Hangup(ctx context.Context) error  { l.once.Do(func() { close(l.done) }); return nil }
func (l *leg) hungUp() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// ringer scripts each agent's device: answer after a delay, decline, or
// ring out. It records who rang, in order.
type ringer struct {
	mu      sync.Mutex
	reach   map[string]bool
	answer  map[string]time.Duration // absent: rings until the timeout
	decline map[string]bool
	rang    []string
	legs    []*leg
	active  map[string]int // rings in progress per agent
	maxBoth int            // most agents ringing at once
}

func newRinger(agents ...string) *ringer {
	r := &ringer{reach: map[string]bool{}, answer: map[string]time.Duration{}, decline: map[string]bool{}, active: map[string]int{}}
	for _, a := range agents {
		r.reach[a] = true
	}
	return r
}

func (r *ringer) Reachable(a string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reach[a]
}

func (r *ringer) Ring(ctx context.Context, a string, o Offer) (bridge.Leg, error) {
	r.mu.Lock()
	r.rang = append(r.rang, a)
	r.active[a]++
	n := 0
	for _, v := range r.active {
		n += v
	}
	r.maxBoth = max(r.maxBoth, n)
	d, answers := r.answer[a]
	dec := r.decline[a]
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.active[a]--
		r.mu.Unlock()
	}()
	if dec {
		return nil, errors.New("486 busy here")
	}
	if !answers {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	l := newLeg(a + "/" + o.Ticket)
	r.mu.Lock()
	r.legs = append(r.legs, l)
	r.mu.Unlock()
	return l, nil
}

func (r *ringer) set(f func(r *ringer)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *ringer) rung() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rang)
}

const baseYAML = `
flow:
  start: q
  nodes:
    q: {type: queue, queue: support}
lists:
  vip: ["+44 7700 900001"]
agents:
  alice: {uri: "sip:alice@127.0.0.1", skills: {billing: 9}}
  bob:   {uri: "sip:bob@127.0.0.1", skills: {billing: 5, french: 7}}
  carol: {uri: "sip:carol@127.0.0.1"}
queues:
  support:
    strategy: %s
    members: [alice, bob, carol]
    vip: vip
    skills: {billing: 1}
    callback: {attempts: 2}
`

// center builds a center on strategy with fast timers.
func center(t *testing.T, strategy string, r *ringer, st Store, cb CallbackFunc, tweak func(q *config.Queue)) *Center {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(baseYAML, strategy)), "acd_test.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Queues["support"]
	if strategy != config.StrategySkills {
		q.Skills = nil
	}
	q.RingTimeout, q.Retry, q.WrapUp = 300*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond
	q.Callback.RetryAfter = 50 * time.Millisecond
	if tweak != nil {
		tweak(q)
	}
	c, err := New(Options{Config: cfg, Ringer: r, Store: st, Callback: cb, Tick: 10 * time.Millisecond, CallbackGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func waitReady(t *testing.T, tk *Ticket, d time.Duration) (string, bridge.Leg) {
	t.Helper()
	select {
	case <-tk.Ready():
	case <-time.After(d):
		t.Fatalf("ticket %s not answered within %s", tk.ID(), d)
	}
	return tk.Agent()
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pop(caller string) models.ScreenPop {
	return models.ScreenPop{CallID: "call-" + caller, Caller: caller}
}

func TestLongestIdleTwoAgentsThreeCallers(t *testing.T) {
	r := newRinger("alice", "bob")
	r.answer["alice"], r.answer["bob"] = 0, 0
	c := center(t, config.StrategyLongestIdle, r, nil, nil, func(q *config.Queue) { q.Members = []string{"alice", "bob"} })
	ctx := context.Background()
	t1, _ := c.Join(ctx, "support", pop("1001"), 0)
	a1, l1 := waitReady(t, t1, 2*time.Second)
	t2, _ := c.Join(ctx, "support", pop("1002"), 0)
	a2, _ := waitReady(t, t2, 2*time.Second)
	if a1 == a2 || l1 == nil {
		t.Fatalf("two callers got agents %q and %q", a1, a2)
	}
	t3, _ := c.Join(ctx, "support", pop("1003"), 0)
	if p := t3.Position(); p != 1 {
		t.Errorf("third caller position %d, want 1", p)
	}
	if w := t3.EstimatedWait(); w <= 0 {
		t.Errorf("estimated wait %s with both agents busy, want > 0", w)
	}
	if st, _ := c.Agent(a1); st.State != Busy || st.Call == nil || st.Call.Caller != "1001" {
		t.Errorf("agent %s status %+v, want busy with caller 1001", a1, st)
	}
	select {
	case <-t3.Ready():
		t.Fatal("third caller connected while both agents are busy")
	case <-time.After(100 * time.Millisecond):
	}
	t1.Finish(true)
	if st, _ := c.Agent(a1); st.State != WrapUp {
		t.Errorf("after the call %s is %s, want wrap_up", a1, st.State)
	}
	a3, _ := waitReady(t, t3, 2*time.Second)
	if a3 != a1 {
		t.Errorf("third caller got %q, want %q (the one who finished)", a3, a1)
	}
	t2.Finish(false)
	t3.Finish(false)
	qs := c.Queues()
	if len(qs) != 1 || qs[0].Waiting != 0 || qs[0].HandleTimeMS < 0 {
		t.Errorf("queue status %+v", qs)
	}
}

func TestRingAllFirstAnswerWins(t *testing.T) {
	r := newRinger("alice", "bob", "carol")
	r.answer["bob"] = 30 * time.Millisecond
	r.answer["carol"] = 200 * time.Millisecond
	c := center(t, config.StrategyRingAll, r, nil, nil, nil)
	tk, _ := c.Join(context.Background(), "support", pop("1001"), 0)
	a, _ := waitReady(t, tk, 2*time.Second)
	if a != "bob" {
		t.Fatalf("answered by %q, want bob (first to answer)", a)
	}
	if r.maxBoth != 3 {
		t.Errorf("at most %d agents rang at once, want 3", r.maxBoth)
	}
	eventually(t, "the others to stop ringing", func() bool {
		al, _ := c.Agent("alice")
		ca, _ := c.Agent("carol")
		return al.State == Available && ca.State == Available
	})
	if len(r.legs) != 1 {
		t.Errorf("%d agents answered; a late answer must not connect", len(r.legs))
	}
	tk.Finish(false)
}

func TestSequentialAndRoundRobin(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		want     []string
	}{
		// alice declines every time; sequential always starts from her.
		{config.StrategySequential, []string{"alice", "bob", "alice", "bob"}},
		// round robin starts after the last one rung: carol, not alice.
		{config.StrategyRoundRobin, []string{"alice", "bob", "carol"}},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			r := newRinger("alice", "bob", "carol")
			r.decline["alice"] = true
			r.answer["bob"], r.answer["carol"] = 0, 0
			c := center(t, tc.strategy, r, nil, nil, func(q *config.Queue) { q.WrapUp = 0 })
			for i := 0; i < 2; i++ {
				tk, _ := c.Join(context.Background(), "support", pop(fmt.Sprint(1000+i)), 0)
				waitReady(t, tk, 2*time.Second)
				tk.Finish(false)
			}
			if got := r.rung(); !slices.Equal(got, tc.want) {
				t.Errorf("rang %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSkillsPicksBestLevel(t *testing.T) {
	r := newRinger("alice", "bob", "carol")
	r.answer["alice"], r.answer["bob"], r.answer["carol"] = 0, 0, 0
	c := center(t, config.StrategySkills, r, nil, nil, nil)
	tk, _ := c.Join(context.Background(), "support", pop("1001"), 0)
	if a, _ := waitReady(t, tk, 2*time.Second); a != "alice" {
		t.Errorf("answered by %q, want alice (billing 9)", a)
	}
	tk2, _ := c.Join(context.Background(), "support", pop("1002"), 0)
	if a, _ := waitReady(t, tk2, 2*time.Second); a != "bob" {
		t.Errorf("second answered by %q, want bob (billing 5); carol has no billing", a)
	}
	tk3, _ := c.Join(context.Background(), "support", pop("1003"), 0)
	select {
	case <-tk3.Ready():
		t.Error("carol (no billing skill) got a billing call")
	case <-time.After(100 * time.Millisecond):
	}
	tk3.Leave(models.QueueAbandoned)
	tk.Finish(false)
	tk2.Finish(false)
}

func TestRingTimeoutMovesOnAndLeaveCancels(t *testing.T) {
	r := newRinger("alice", "bob", "carol")
	c := center(t, config.StrategySequential, r, nil, nil, nil)
	tk, _ := c.Join(context.Background(), "support", pop("1001"), 0)
	eventually(t, "alice to ring out and bob to ring", func() bool { return len(r.rung()) >= 2 })
	if got := r.rung()[:2]; !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("rang %v, want alice then bob", got)
	}
	if st, _ := c.Agent("alice"); st.State != Available {
		t.Errorf("alice is %s after ringing out, want available", st.State)
	}
	tk.Leave(models.QueueAbandoned)
	eventually(t, "bob to stop ringing", func() bool { st, _ := c.Agent("bob"); return st.State == Available })
	if tk.Outcome() != models.QueueAbandoned || tk.Position() != 0 {
		t.Errorf("outcome %q position %d", tk.Outcome(), tk.Position())
	}
	if _, l := tk.Agent(); l != nil {
		t.Error("a left ticket has an agent leg")
	}
}

func TestAgentStates(t *testing.T) {
	r := newRinger("alice")
	r.answer["bob"] = 0
	c := center(t, config.StrategyLongestIdle, r, nil, nil, nil)
	ch, stop, err := c.Watch("bob")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	eventually(t, "bob offline", func() bool { st, _ := c.Agent("bob"); return st.State == Offline })
	if err := c.SetState("alice", Away); err != nil {
		t.Fatal(err)
	}
	if err := c.SetState("alice", Busy); !errors.Is(err, ErrBadState) {
		t.Errorf("setting busy from outside: %v", err)
	}
	tk, _ := c.Join(context.Background(), "support", pop("1001"), 0)
	if tk.Staffed() {
		t.Error("queue staffed with alice away and bob offline")
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(r.rung()); n != 0 {
		t.Fatalf("rang %v while nobody is available", r.rung())
	}
	r.set(func(r *ringer) { r.reach["bob"] = true }) // bob's phone registers
	a, _ := waitReady(t, tk, 2*time.Second)
	if a != "bob" {
		t.Fatalf("answered by %q", a)
	}
	var seen []State
	var lastVersion uint64
	timeout := time.After(time.Second)
	for !slices.Contains(seen, Busy) {
		select {
		case st := <-ch:
			if len(seen) > 0 && st.Version <= lastVersion {
				t.Errorf("status version %d after %d: a page could not tell the newer status", st.Version, lastVersion)
			}
			lastVersion = st.Version
			seen = append(seen, st.State)
			if st.State == Busy && (st.Call == nil || st.Call.Caller != "1001" || st.Ticket != tk.ID()) {
				t.Errorf("busy status without the call: %+v", st)
			}
		case <-timeout:
			t.Fatalf("watch saw %v", seen)
		}
	}
	if !slices.Contains(seen, Offline) || !slices.Contains(seen, Ringing) {
		t.Errorf("watch saw %v, want offline, ringing, busy", seen)
	}
	if !c.Authenticate("alice", "") == false || c.Authenticate("nobody", "x") {
		t.Error("authentication accepted a bad login")
	}
	tk.Finish(false)
}

func TestVIPJumpsTheQueue(t *testing.T) {
	r := newRinger("alice")
	c := center(t, config.StrategyLongestIdle, r, nil, nil, func(q *config.Queue) { q.Members = []string{"alice"} })
	ctx := context.Background()
	t1, _ := c.Join(ctx, "support", pop("1001"), 0)
	eventually(t, "alice ringing", func() bool { return len(r.rung()) == 1 })
	t2, _ := c.Join(ctx, "support", pop("1002"), 0)
	vip, _ := c.Join(ctx, "support", pop("447700900001"), 0)
	if !vip.VIP() || vip.Position() != 1 || t2.Position() != 3 || t1.Position() != 2 {
		t.Errorf("positions: first %d, second %d, vip %d (vip=%v); want 2, 3, 1", t1.Position(), t2.Position(), vip.Position(), vip.VIP())
	}
	r.set(func(r *ringer) { r.answer["alice"] = 0 })
	// alice rings out for t1 (it was offered first); the VIP goes next.
	a, _ := waitReady(t, vip, 3*time.Second)
	if a != "alice" {
		t.Fatalf("vip answered by %q", a)
	}
	for _, tk := range []*Ticket{t1, t2} {
		tk.Leave(models.QueueAbandoned)
	}
	vip.Finish(false)
}

func TestReturningCallerGetsLastAgent(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := newRinger("alice", "bob")
	r.answer["alice"], r.answer["bob"] = 0, 0
	c := center(t, config.StrategyLongestIdle, r, st, nil, func(q *config.Queue) {
		q.Members = []string{"alice", "bob"}
		q.LastAgentWait = 400 * time.Millisecond
		q.WrapUp = 300 * time.Millisecond
	})
	ctx := context.Background()
	// bob has been idle longest, so the first call goes to alice... make
	// it deterministic: alice away for the first call.
	c.SetState("alice", Away)
	first, _ := c.Join(ctx, "support", pop("1001"), 0)
	if a, _ := waitReady(t, first, 2*time.Second); a != "bob" {
		t.Fatalf("first call answered by %q", a)
	}
	first.Finish(false) // bob wraps up for 300 ms
	c.SetState("alice", Available)
	eventually(t, "last agent noted", func() bool { a, _ := st.LastAgent(ctx, "1001", time.Time{}); return a == "bob" })
	again, _ := c.Join(ctx, "support", pop("1001"), 0)
	if again.LastAgent() != "bob" {
		t.Fatalf("last agent %q", again.LastAgent())
	}
	a, _ := waitReady(t, again, 2*time.Second)
	if a != "bob" {
		t.Errorf("returning caller answered by %q, want bob (waited through his wrap-up while alice was free)", a)
	}
	again.Finish(false)
	// A caller whose last agent is away gets anyone at once.
	c.SetState("bob", Away)
	third, _ := c.Join(ctx, "support", pop("1001"), 0)
	if a, _ := waitReady(t, third, time.Second); a != "alice" {
		t.Errorf("with bob away answered by %q, want alice", a)
	}
	third.Finish(false)
}

// callbacks places callbacks in tests: the caller answers when answer is
// true.
type callbacks struct {
	mu      sync.Mutex
	answer  bool
	placed  []models.QueueCallback
	tickets []*Ticket
	legs    chan bridge.Leg
}

func (cb *callbacks) place(ctx context.Context, q models.QueueCallback, t *Ticket) {
	cb.mu.Lock()
	cb.placed = append(cb.placed, q)
	cb.tickets = append(cb.tickets, t)
	answer := cb.answer
	cb.mu.Unlock()
	if !answer {
		t.Leave(models.QueueNoAnswer)
		return
	}
	t.CallerReady("out-" + q.Number)
	select {
	case <-t.Ready():
	case <-ctx.Done():
		return
	}
	if _, l := t.Agent(); l != nil {
		cb.legs <- l
		t.Finish(false)
	}
}

func (cb *callbacks) count() int {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return len(cb.placed)
}

func TestCallbackKeepsPlaceRetriesAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := newRinger("alice")
	cbs := &callbacks{legs: make(chan bridge.Leg, 4)}
	c := center(t, config.StrategyLongestIdle, r, st, cbs.place, func(q *config.Queue) { q.Members = []string{"alice"} })
	ctx := context.Background()
	busy, _ := c.Join(ctx, "support", pop("1000"), 0)
	r.set(func(r *ringer) { r.answer["alice"] = 0 })
	waitReady(t, busy, 2*time.Second)
	tk, _ := c.Join(ctx, "support", pop("1001"), 0)
	later, _ := c.Join(ctx, "support", pop("1002"), 0)
	if _, err := tk.Callback("1001"); err != nil {
		t.Fatal(err)
	}
	if later.Position() != 2 {
		t.Errorf("a caller behind a callback is at %d, want 2 (the callback keeps its place)", later.Position())
	}
	pending, _ := st.PendingCallbacks(ctx)
	if len(pending) != 1 || pending[0].Number != "1001" || pending[0].Status != models.CallbackPending {
		t.Fatalf("stored callbacks %+v", pending)
	}
	later.Leave(models.QueueAbandoned)
	// Restart before alice is free: the callback comes back from the store.
	c.Close()
	busy.Finish(false)
	r2 := newRinger("alice")
	r2.answer["alice"] = 0
	c2 := center(t, config.StrategyLongestIdle, r2, st, cbs.place, func(q *config.Queue) {
		q.Members = []string{"alice"}
		q.Callback.RetryAfter = 50 * time.Millisecond
	})
	qs := c2.Queues()
	if qs[0].Callbacks != 1 {
		t.Fatalf("after restart the queue holds %d callbacks, want 1", qs[0].Callbacks)
	}
	// First attempt: nobody answers; the agent is released; second
	// attempt answers and reaches alice.
	eventually(t, "the first attempt", func() bool { return cbs.count() >= 1 })
	eventually(t, "alice released", func() bool { a, _ := c2.Agent("alice"); return a.State == Available || cbs.count() >= 2 })
	cbs.mu.Lock()
	cbs.answer = true
	cbs.mu.Unlock()
	select {
	case l := <-cbs.legs:
		if l == nil {
			t.Fatal("no agent leg")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the callback never reached an agent")
	}
	all, _ := st.Callbacks(ctx)
	if len(all) != 1 || all[0].Status != models.CallbackAnswered || all[0].Attempts != 2 || all[0].Agent != "alice" || all[0].LastCallID != "out-1001" {
		t.Errorf("callback after answering: %+v", all[0])
	}
	if got := r2.rung(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("rang %v: the reserved agent is rung once, after the caller answers", got)
	}
	if n, _ := st.PendingCallbacks(ctx); len(n) != 0 {
		t.Errorf("%d callbacks still pending", len(n))
	}
}

func TestCallbackGivesUpAfterAttempts(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := newRinger("alice")
	cbs := &callbacks{legs: make(chan bridge.Leg, 4)}
	c := center(t, config.StrategyLongestIdle, r, st, cbs.place, nil)
	tk, _ := c.Join(context.Background(), "support", pop("1001"), 0)
	if _, err := tk.Callback("1001"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "failed", func() bool { return tk.Outcome() == models.QueueNoAnswer })
	if cbs.count() != 2 {
		t.Errorf("%d attempts, want 2", cbs.count())
	}
	all, _ := st.Callbacks(context.Background())
	if len(all) != 1 || all[0].Status != models.CallbackFailed {
		t.Errorf("stored %+v", all)
	}
	for _, a := range c.Agents() {
		if a.State == Ringing {
			t.Errorf("%s still reserved", a.Name)
		}
	}
}
