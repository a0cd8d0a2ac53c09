package journey

import (
	"context"
	"sync"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/speech"
)

// textCall is a call in text mode: prompts are shown, not played; the
// caller types (a dialog.TextListener) and presses keys.
type textCall struct {
	caller  string
	ears    *dialog.TextListener
	digits  chan dtmf.Digit
	quiet   chan struct{}
	done    chan struct{}
	once    sync.Once
	started time.Time
}

func newTextCall(callerID string, clf speech.Classifier) *textCall {
	return &textCall{caller: callerID, ears: dialog.NewTextListener(clf), digits: make(chan dtmf.Digit, 64), quiet: make(chan struct{}, 1),
		done: make(chan struct{}), started: time.Now()}
}

func (c *textCall) ID() string                   { return "journey-" + c.started.Format("150405.000000") }
func (c *textCall) From() string                 { return "sip:" + c.caller + "@journey.invalid" }
func (c *textCall) FromUser() string             { return c.caller }
func (c *textCall) To() string                   { return "sip:ivr@journey.invalid" }
func (c *textCall) Channel() string              { return "text" }
func (c *textCall) StartedAt() time.Time         { return c.started }
func (c *textCall) Answer(context.Context) error { return nil }
func (c *textCall) Hangup(context.Context) error { c.hangup(); return nil }
func (c *textCall) StopPlayback()                {}
func (c *textCall) Digits() <-chan dtmf.Digit    { return c.digits }
func (c *textCall) Done() <-chan struct{}        { return c.done }
func (c *textCall) SampleRate() int              { return audio.Rate8k }
func (c *textCall) SetSink(func(audio.Frame))    {}
func (c *textCall) Silence() <-chan struct{}     { return c.quiet }
func (c *textCall) Play(audio.Source) <-chan struct{} {
	ch := make(chan struct{})
	close(ch) // shown at once
	return ch
}

func (c *textCall) say(_ context.Context, text string) error { return c.ears.Type(text) }

func (c *textCall) press(ctx context.Context, keys string) error {
	for i := 0; i < len(keys); i++ {
		select {
		case c.digits <- dtmf.Digit{Key: keys[i], Source: dtmf.SIPInfo}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (c *textCall) silence() {
	select {
	case c.quiet <- struct{}{}:
	default:
	}
}

func (c *textCall) hangup() { c.once.Do(func() { close(c.done) }) }

// textPrompts renders no audio: in text mode prompts are their words.
type textPrompts struct{ cfg *config.Config }

func (p textPrompts) Clip(_ context.Context, name string, rate int) (audio.Clip, error) {
	return audio.Clip{Rate: rate}, nil
}
func (p textPrompts) Text(name string) string { return p.cfg.Prompts.Items[name].Text }
func (p textPrompts) Say(_ context.Context, text string, rate int) (audio.Clip, error) {
	return audio.Clip{Rate: rate}, nil
}
