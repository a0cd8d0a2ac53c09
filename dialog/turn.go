package dialog

import (
	"strings"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/speech"
)

// Listener hears the caller: inbound frames in, speech events out. The
// speech package's Listener is one.
type Listener interface {
	WriteFrame(f audio.Frame) error
	Events() <-chan speech.Event
	SetHints(h asr.Hints)
	Reset()
	Close() error
}

// AudioSink is implemented by calls that hand over the caller's audio.
type AudioSink interface {
	// SetSink sets where decoded caller audio goes (nil stops it). The
	// function runs on the media goroutine and must not block.
	SetSink(fn func(audio.Frame))
}

// Silencer is implemented by calls whose caller can say "I stay silent"
// outright (typed conversations, journey tests): the IVR takes it as no
// input at once instead of waiting out its timer.
type Silencer interface {
	Silence() <-chan struct{}
}

// segment is one piece of what the IVR says in a turn: a named prompt, or
// generated text (keypad lists, confirmations) synthesized and cached.
type segment struct {
	prompt string
	text   string
}

func refs(r config.PromptRefs) []segment {
	out := make([]segment, 0, len(r))
	for _, p := range r {
		out = append(out, segment{prompt: p})
	}
	return out
}

// input is what a turn brought back.
type input struct {
	key      byte          // a key, or 0
	speech   *speech.Event // a Final recognition result, or nil
	noInput  bool          // nothing within the timeout
	bargedIn bool          // the caller interrupted the prompt
}

// turnOpts tune one turn.
type turnOpts struct {
	bargeIn bool          // keys and speech stop the prompt
	listen  bool          // speech counts as an answer
	wait    time.Duration // how long to wait after the prompt; 0 = do not wait
	hints   *asr.Hints    // recognizer hints for this turn
}

// maxUtterance bounds how long a turn waits for a recognition result once
// the caller started speaking.
const maxUtterance = 20 * time.Second

// turn plays segments and waits for a key or an utterance. It is the one
// place a call's goroutine waits on the caller: context, hang-up, keys,
// speech events, prompt ends and the no-input timer, in one select.
func (s *session) turn(node string, segs []segment, o turnOpts) (input, error) {
	var in input
	if s.ears != nil && o.listen {
		if o.hints != nil {
			s.ears.SetHints(*o.hints)
		}
		s.ears.Reset()
	}
	var events <-chan speech.Event
	if s.ears != nil {
		events = s.ears.Events()
	}
	speaking := false
	rate := s.call.SampleRate()
	var done <-chan struct{}
	next := 0
	startNext := func() {
		for next < len(segs) {
			clip, text, err := s.clip(segs[next], rate)
			next++
			if err != nil {
				// A missing prompt must not strand the caller: log and go on.
				s.log.Error("prompt unavailable", "prompt", segs[next-1].prompt, "err", err)
				continue
			}
			s.event("prompt", node, text)
			if cp, ok := s.call.(Captioner); ok {
				cp.Caption("ivr", text)
			}
			done = s.call.Play(audio.NewClipSource(clip))
			return
		}
		done = nil
	}
	startNext()
	var timer *time.Timer
	var timeout <-chan time.Time
	var silence <-chan struct{}
	armTimer := func(d time.Duration) {
		if timer != nil {
			timer.Stop()
		}
		timer = time.NewTimer(d)
		timeout = timer.C
	}
	waitInput := func() {
		armTimer(o.wait)
		if sc, ok := s.call.(Silencer); ok {
			silence = sc.Silence()
		}
		s.waiting(node)
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	stopPrompt := func() {
		if done != nil {
			s.call.StopPlayback()
			done, next = nil, len(segs)
		}
	}
	if done == nil && o.wait > 0 {
		waitInput()
	}
	for {
		if done == nil && timeout == nil && !speaking {
			// Prompt over and nothing to wait for.
			return in, nil
		}
		select {
		case <-s.ctx.Done():
			stopPrompt()
			return in, s.ctx.Err()
		case <-s.call.Done():
			return in, errCallerGone
		case <-done:
			startNext()
			if done == nil {
				if o.wait > 0 && !speaking {
					waitInput()
				} else if !speaking {
					return in, nil
				}
			}
		case d := <-s.call.Digits():
			s.digit(d)
			if o.bargeIn || done == nil {
				stopPrompt()
				in.key, in.bargedIn = d.Key, done != nil
				return in, nil
			}
			s.pending = append(s.pending, d.Key)
		case ev := <-events:
			switch ev.Type {
			case speech.SpeechStarted:
				if !o.listen {
					continue
				}
				if done != nil && !o.bargeIn {
					continue // a prompt that must be heard whole (a legal notice)
				}
				speaking = true
				if done != nil {
					in.bargedIn = true
					s.event("barge_in", node, "")
				}
				stopPrompt()
				armTimer(maxUtterance)
			case speech.Final:
				if !o.listen || !speaking && done != nil && !o.bargeIn {
					continue
				}
				stopPrompt()
				e := ev
				in.speech = &e
				s.heard(node, e)
				return in, nil
			case speech.Error:
				s.log.Warn("recognition failed: keypad only for this turn", "err", ev.Err)
				s.event("asr_error", node, ev.Err.Error())
				speaking = false
				if done == nil {
					armTimer(o.wait)
				}
			}
		case <-silence:
			silence = nil
			if done == nil && !speaking {
				in.noInput = true
				return in, nil
			}
		case <-timeout:
			timeout = nil
			if speaking {
				speaking = false // a turn that never finished
			}
			if done == nil {
				in.noInput = true
				return in, nil
			}
		}
	}
}

// heard records and captions what the caller said.
func (s *session) heard(node string, e speech.Event) {
	text := e.Result.Text
	if s.masking {
		// A spoken PIN stays out of the record, the captions and the agent's context.
		s.event("speech", node, "(secret)")
		return
	}
	detail := text
	if e.Intent != nil && e.Intent.Intent != "" {
		detail += " => " + e.Intent.Intent
		s.rec.Vars["last_intent"] = e.Intent.Intent
	}
	s.rec.Vars["last_utterance"] = text
	s.event("speech", node, detail)
	if cp, ok := s.call.(Captioner); ok && text != "" {
		cp.Caption("caller", text)
	}
}

// clip renders a segment at rate and returns it with its text.
func (s *session) clip(seg segment, rate int) (audio.Clip, string, error) {
	if seg.prompt != "" {
		if t := s.e.cfg.PromptTemplate(seg.prompt); t != nil {
			// A prompt that says variables ("your balance is ...") is
			// rendered per call; the synthesizer's cache keeps repeats cheap.
			text := t.Render(s.Var, sayasSafe)
			c, err := s.e.prompts.Say(s.ctx, text, rate)
			return c, text, err
		}
		c, err := s.e.prompts.Clip(s.ctx, seg.prompt, rate)
		return c, s.e.prompts.Text(seg.prompt), err
	}
	c, err := s.e.prompts.Say(s.ctx, seg.text, rate)
	return c, seg.text, err
}

// sayasSafe keeps values from a backend or a caller from being read as
// say-as markup or breaking it: braces and angle brackets go.
func sayasSafe(v string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '{', '}', '<', '>':
			return -1
		}
		return r
	}, v)
}
