package dialog

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testCall is a scripted caller: it plays prompts instantly (or holds them
// for a while), records what it heard, and presses keys when asked.
type testCall struct {
	mu       sync.Mutex
	heard    []string // prompt texts, via Caption
	digits   chan dtmf.Digit
	done     chan struct{}
	doneOnce sync.Once
	hungUp   bool
	promptMS time.Duration // how long each prompt "plays"
	playing  chan struct{} // signalled when a prompt starts
}

func newTestCall(promptDur time.Duration) *testCall {
	return &testCall{digits: make(chan dtmf.Digit, 16), done: make(chan struct{}), promptMS: promptDur, playing: make(chan struct{}, 64)}
}

func (c *testCall) ID() string                       { return "call-1" }
func (c *testCall) From() string                     { return "sip:447700900123@example.com" }
func (c *testCall) FromUser() string                 { return "447700900123" }
func (c *testCall) To() string                       { return "sip:ivr@example.com" }
func (c *testCall) Channel() string                  { return "sip" }
func (c *testCall) StartedAt() time.Time             { return time.Unix(1000, 0) }
func (c *testCall) Answer(ctx context.Context) error { return nil }
func (c *testCall) SampleRate() int                  { return 8000 }
func (c *testCall) Digits() <-chan dtmf.Digit        { return c.digits }
func (c *testCall) Done() <-chan struct{}            { return c.done }
func (c *testCall) StopPlayback()                    {}
func (c *testCall) Caption(who, text string) {
	c.mu.Lock()
	c.heard = append(c.heard, text)
	c.mu.Unlock()
}
func (c *testCall) Hangup(ctx context.Context) error {
	c.mu.Lock()
	c.hungUp = true
	c.mu.Unlock()
	c.callerLeaves()
	return nil
}
func (c *testCall) callerLeaves() { c.doneOnce.Do(func() { close(c.done) }) }
func (c *testCall) Play(src audio.Source) <-chan struct{} {
	ch := make(chan struct{})
	c.playing <- struct{}{}
	time.AfterFunc(c.promptMS, func() { close(ch) })
	return ch
}
func (c *testCall) press(keys string) {
	for i := 0; i < len(keys); i++ {
		c.digits <- dtmf.Digit{Key: keys[i], Source: dtmf.RFC4733}
	}
}

// records keeps saved call records in memory.
type records struct {
	mu   sync.Mutex
	last *models.CallRecord
}

func (r *records) Save(ctx context.Context, rec *models.CallRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := *rec
	cp.Path = append([]string(nil), rec.Path...)
	r.last = &cp
	return nil
}

type prompts map[string]string

func (p prompts) Clip(ctx context.Context, name string, rate int) (audio.Clip, error) {
	if _, ok := p[name]; !ok {
		return audio.Clip{}, errors.New("no such prompt")
	}
	return audio.Clip{Rate: rate, Samples: make([]int16, 160)}, nil
}
func (p prompts) Text(name string) string { return p[name] }
func (p prompts) Say(ctx context.Context, text string, rate int) (audio.Clip, error) {
	return audio.Clip{Rate: rate, Samples: make([]int16, 160)}, nil
}

// transfers answers every transfer with res.
type transfers struct {
	res    TransferResult
	err    error
	target Target
}

func (t *transfers) Transfer(ctx context.Context, c Call, tgt Target) (TransferResult, error) {
	t.target = tgt
	return t.res, t.err
}

const flowYAML = `
prompts:
  items:
    menu: {text: "Press 1 for sales, 2 for hours."}
    invalid: {text: "That is not an option."}
    noinput: {text: "I did not hear a key."}
    hours: {text: "We are open nine to five."}
    hold: {text: "Connecting you."}
    sorry: {text: "Nobody is free."}
    bye: {text: "Goodbye."}
    notice: {text: "Calls are recorded."}
targets:
  agent: {uri: "sip:agent@example.com"}
flow:
  start: notice
  escape: {key: "0", node: human}
  nodes:
    notice: {type: say, prompt: notice, next: main, no_barge_in: true}
    main:
      type: menu
      prompt: menu
      timeout: 150ms
      retries: 1
      invalid_prompt: invalid
      no_input_prompt: noinput
      options:
        - {key: "1", goto: sales}
        - {key: "2", goto: hours}
    hours: {type: say, prompt: hours, next: main}
    sales: {type: transfer, prompt: hold, target: agent, failure_prompt: sorry, on_failure: bye}
    human: {type: transfer, prompt: hold, target: agent, failure_prompt: sorry, on_failure: bye}
    bye: {type: hangup, prompt: bye}
`

func engine(t *testing.T, tr Transferer) (*Engine, *records) {
	t.Helper()
	cfg, err := config.Parse([]byte(flowYAML), "flow.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	ps := prompts{}
	for name, p := range cfg.Prompts.Items {
		ps[name] = p.Text
	}
	recs := &records{}
	e, err := NewEngine(cfg, Options{Prompts: ps, Transfers: tr, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return e, recs
}

func run(t *testing.T, e *Engine, c *testCall, script func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { e.Run(context.Background(), c); close(done) }()
	if script != nil {
		script()
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.callerLeaves()
		<-done
		t.Fatal("the call did not end")
	}
}

func TestNoInputLadderThenHuman(t *testing.T) {
	tr := &transfers{res: TransferResult{Method: "bridge", Outcome: "answered", CallerLeft: true, EndReason: models.EndTransferred}}
	e, recs := engine(t, tr)
	c := newTestCall(time.Millisecond)
	run(t, e, c, nil)
	r := recs.last
	if want := "notice>main>human"; strings.Join(r.Path, ">") != want {
		t.Errorf("path %v, want %s", r.Path, want)
	}
	heard := strings.Join(c.heard, "|")
	if want := "Calls are recorded.|Press 1 for sales, 2 for hours.|I did not hear a key.|Press 1 for sales, 2 for hours.|Connecting you."; heard != want {
		t.Errorf("heard %q\nwant  %q", heard, want)
	}
	if r.EndReason != models.EndTransferred || r.Transfer == nil || r.Transfer.Target != "agent" || r.Transfer.Outcome != "answered" {
		t.Errorf("end %q transfer %+v", r.EndReason, r.Transfer)
	}
	if tr.target.Headers["X-IVR-Path"] != "notice,main,human" {
		t.Errorf("context headers %v", tr.target.Headers)
	}
}

func TestInvalidKeyThenValid(t *testing.T) {
	e, recs := engine(t, &transfers{})
	c := newTestCall(time.Millisecond)
	run(t, e, c, func() {
		c.press("9") // invalid during the notice (no barge-in): kept as type-ahead
		time.Sleep(50 * time.Millisecond)
		c.press("2") // hours, then back to the menu
		time.Sleep(50 * time.Millisecond)
		c.callerLeaves()
	})
	r := recs.last
	if want := "notice>main>hours>main"; strings.Join(r.Path, ">") != want {
		t.Errorf("path %v, want %s", r.Path, want)
	}
	if r.Digits != "92" || r.EndReason != models.EndCallerHangup {
		t.Errorf("digits %q end %q", r.Digits, r.EndReason)
	}
	if !strings.Contains(strings.Join(c.heard, "|"), "That is not an option.") {
		t.Errorf("no invalid prompt in %v", c.heard)
	}
}

func TestEscapeDuringPromptBargesIn(t *testing.T) {
	tr := &transfers{res: TransferResult{Outcome: "answered", CallerLeft: true, EndReason: models.EndTransferred}}
	e, recs := engine(t, tr)
	c := newTestCall(500 * time.Millisecond) // long prompts: the key must cut in
	run(t, e, c, func() {
		<-c.playing // the notice
		<-c.playing // the menu
		c.press("0")
	})
	r := recs.last
	if r.EscapeNode != "main" || strings.Join(r.Path, ">") != "notice>main>human" {
		t.Errorf("escape node %q path %v", r.EscapeNode, r.Path)
	}
}

func TestTransferFailsThenGoodbye(t *testing.T) {
	tr := &transfers{res: TransferResult{Method: "bridge", Outcome: "busy"}, err: errors.New("486 Busy Here")}
	e, recs := engine(t, tr)
	c := newTestCall(time.Millisecond)
	run(t, e, c, func() { c.press("1") })
	r := recs.last
	if want := "notice>main>sales>bye"; strings.Join(r.Path, ">") != want {
		t.Errorf("path %v, want %s", r.Path, want)
	}
	if r.Transfer == nil || r.Transfer.Outcome != "busy" || r.EndReason != models.EndIVRHangup {
		t.Errorf("transfer %+v end %q", r.Transfer, r.EndReason)
	}
	c.mu.Lock()
	hung := c.hungUp
	c.mu.Unlock()
	if !hung {
		t.Error("the IVR did not hang up after goodbye")
	}
	if !strings.HasSuffix(strings.Join(c.heard, "|"), "Nobody is free.|Goodbye.") {
		t.Errorf("heard %v", c.heard)
	}
}

func TestCallerHangsUpMidPrompt(t *testing.T) {
	e, recs := engine(t, &transfers{})
	c := newTestCall(time.Hour)
	run(t, e, c, func() {
		<-c.playing
		c.callerLeaves()
	})
	if r := recs.last; r.EndReason != models.EndCallerHangup || r.EndedAt == nil {
		t.Errorf("end %q at %v", r.EndReason, r.EndedAt)
	}
}
