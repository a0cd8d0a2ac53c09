package dialog

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/speech"
)

// scriptedEars stands in for the recognizer in tests: the test decides
// what the caller "said".
type scriptedEars struct {
	events chan speech.Event
	mu     sync.Mutex
	hints  []asr.Hints
	closed bool
}

func (l *scriptedEars) WriteFrame(audio.Frame) error { return nil }
func (l *scriptedEars) Events() <-chan speech.Event  { return l.events }
func (l *scriptedEars) Reset()                       {}
func (l *scriptedEars) Close() error                 { l.mu.Lock(); l.closed = true; l.mu.Unlock(); return nil }
func (l *scriptedEars) SetHints(h asr.Hints) {
	l.mu.Lock()
	l.hints = append(l.hints, h)
	l.mu.Unlock()
}
func (l *scriptedEars) say(text, intent string, conf float64, alts ...nlu.Scored) {
	l.sayTurn(text, intent, conf, 0, alts...)
}

// sayTurn is say with the listener's turn confidence (0: none given).
func (l *scriptedEars) sayTurn(text, intent string, conf, turn float64, alts ...nlu.Scored) {
	l.events <- speech.Event{Type: speech.SpeechStarted}
	r := &nlu.Result{Intent: intent, Confidence: conf, Alternatives: append([]nlu.Scored{{Intent: intent, Confidence: conf}}, alts...)}
	if intent == "" {
		r.OutOfScope = true
	}
	l.events <- speech.Event{Type: speech.Final, Result: asr.Result{Text: text, Final: true}, Intent: r, Confidence: turn}
}

// speechCall is a testCall that hands over audio.
type speechCall struct{ *testCall }

func (speechCall) SetSink(func(audio.Frame)) {}

const speechFlow = `
intents:
  - {name: lost_card, description: report a lost card, examples: [I lost my card, my card was stolen]}
  - {name: balance, description: check your balance, examples: [what is my balance, how much money do I have]}
prompts:
  items:
    open: {text: "How can I help?"}
    lost: {text: "Your card is blocked."}
    bal: {text: "Your balance is ten pounds."}
    hold: {text: "Connecting you."}
targets:
  agent: {uri: "sip:agent@example.com"}
flow:
  start: main
  escape: {key: "0", node: human}
  nodes:
    main:
      type: menu
      prompt: open
      timeout: 150ms
      options:
        - {key: "1", intent: lost_card, goto: lost}
        - {key: "2", intent: balance, goto: bal}
    lost: {type: hangup, prompt: lost}
    bal: {type: hangup, prompt: bal}
    human: {type: transfer, prompt: hold, target: agent}
`

func speechEngine(t *testing.T, ears *scriptedEars) (*Engine, *records, *transfers) {
	t.Helper()
	cfg, err := config.Parse([]byte(speechFlow), "speech.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Speech.ConfirmTurnBelow = 0.6
	ps := prompts{}
	for name, p := range cfg.Prompts.Items {
		ps[name] = p.Text
	}
	recs := &records{}
	tr := &transfers{res: TransferResult{Outcome: "answered", CallerLeft: true, EndReason: "transferred"}}
	e, err := NewEngine(cfg, Options{Prompts: ps, Records: recs, Transfers: tr,
		Ears: func(ctx context.Context, rate int) (Listener, error) { return ears, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return e, recs, tr
}

func TestSpeechMenu(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(c *testCall, l *scriptedEars)
		path   string
		heard  []string // must appear in order among the prompts heard
	}{
		{"confident intent", func(c *testCall, l *scriptedEars) {
			<-c.playing
			l.say("I lost my card", "lost_card", 0.9)
		}, "main>lost", []string{"How can I help?", "Your card is blocked."}},
		{"weak intent confirmed", func(c *testCall, l *scriptedEars) {
			<-c.playing
			l.say("my card", "lost_card", 0.3)
			<-c.playing // the question
			l.say("yes", "", 0)
		}, "main>lost", []string{"Did you want to report a lost card? Please say yes or no.", "Your card is blocked."}},
		{"confident intent from a doubtful turn confirmed", func(c *testCall, l *scriptedEars) {
			<-c.playing
			l.sayTurn("I lost my card", "lost_card", 0.9, 0.4)
			<-c.playing // the question
			l.say("yes", "", 0)
		}, "main>lost", []string{"Did you want to report a lost card? Please say yes or no.", "Your card is blocked."}},
		{"confident intent from a sure turn goes on", func(c *testCall, l *scriptedEars) {
			<-c.playing
			l.sayTurn("I lost my card", "lost_card", 0.9, 0.8)
		}, "main>lost", []string{"How can I help?", "Your card is blocked."}},
		{"close intents clarified", func(c *testCall, l *scriptedEars) {
			<-c.playing
			l.say("my card balance", "lost_card", 0.45, nlu.Scored{Intent: "balance", Confidence: 0.40})
			<-c.playing
			l.say("the second one", "", 0)
		}, "main>bal", []string{"Did you want to report a lost card, or check your balance?", "Your balance is ten pounds."}},
		{"no match twice, then the keypad list", func(c *testCall, l *scriptedEars) {
			<-c.playing
			l.say("bananas", "", 0)
			<-c.playing // sorry
			<-c.playing // open question again
			l.say("pears", "", 0)
			<-c.playing // sorry
			<-c.playing // keypad list
			c.press("2")
		}, "main>bal", []string{"Sorry, I didn't catch that.", "How can I help?", "Sorry, I didn't catch that.",
			"You can also use your keypad. To report a lost card, press 1. To check your balance, press 2. To speak to someone, press 0."}},
		{"escape phrase", func(c *testCall, l *scriptedEars) {
			<-c.playing
			l.say("agent please", EscapeIntent, 0.8)
		}, "main>human", []string{"Connecting you."}},
		{"silence ladder ends with a human", nil, "main>human", []string{"Sorry, I didn't hear anything.", "You can also use your keypad."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ears := &scriptedEars{events: make(chan speech.Event, 8)}
			e, recs, _ := speechEngine(t, ears)
			tc2 := newTestCall(time.Millisecond)
			c := speechCall{tc2}
			done := make(chan struct{})
			go func() { e.Run(context.Background(), c); close(done) }()
			if tc.script != nil {
				tc.script(tc2, ears)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				tc2.callerLeaves()
				<-done
				t.Fatal("call did not end")
			}
			if got := strings.Join(recs.last.Path, ">"); got != tc.path {
				t.Errorf("path %s, want %s", got, tc.path)
			}
			heard := strings.Join(tc2.heard, "|")
			pos := 0
			for _, h := range tc.heard {
				i := strings.Index(heard[pos:], h)
				if i < 0 {
					t.Fatalf("did not hear %q (in order) in:\n%s", h, strings.ReplaceAll(heard, "|", "\n"))
				}
				pos += i + len(h)
			}
			if !ears.closed {
				t.Error("listener not closed at the end of the call")
			}
		})
	}
}
