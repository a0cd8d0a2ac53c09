package dialog

import (
	"fmt"
	"strings"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/nlu/entity"
	"github.com/openivr/ivr/speech"
)

// EscapeIntent is the intent the classifier gives the escape phrases
// ("agent", "a real person"): the way out to a human from any node.
const EscapeIntent = "_escape"

// Built-in wording for the speech ladder when the config gives none.
const (
	textNoMatch     = "Sorry, I didn't catch that."
	textNoInput     = "Sorry, I didn't hear anything."
	textKeypadIntro = "You can also use your keypad."
)

// openEars starts listening when the engine has a recognizer, the flow
// takes spoken answers, and the call hands over its audio.
func (s *session) openEars() {
	if !s.e.Speech() {
		return
	}
	_, ok := s.call.(AudioSink)
	if !ok {
		return
	}
	l, err := s.e.ears(s.ctx, s.call.SampleRate())
	if err != nil {
		s.log.Warn("speech unavailable for this call: keypad only", "err", err)
		s.event("asr_error", "", err.Error())
		return
	}
	s.ears = l
	s.ensureSink()
}

// ensureSink routes the caller's audio to the listener and, while a
// voicemail records, to the recording. It runs on the media goroutine.
func (s *session) ensureSink() {
	sink, ok := s.call.(AudioSink)
	if !ok || s.sinkSet {
		return
	}
	s.sinkSet = true
	l := s.ears
	sink.SetSink(func(f audio.Frame) {
		if l != nil {
			l.WriteFrame(f)
		}
		if r := s.tap.Load(); r != nil {
			r.write(f)
		}
	})
}

func (s *session) closeEars() {
	if s.sinkSet {
		if sink, ok := s.call.(AudioSink); ok {
			sink.SetSink(nil)
		}
	}
	if s.ears != nil {
		s.ears.Close()
	}
}

// menuHints builds each speech menu's recognizer hints: its intents'
// phrases and the escape phrases.
func menuHints(cfg *config.Config) map[string]*asr.Hints {
	out := map[string]*asr.Hints{}
	for name, n := range cfg.Flow.Nodes {
		if n == nil || n.Type != config.KindMenu {
			continue
		}
		var intents []nlu.Intent
		for _, o := range n.Options {
			if in, ok := cfg.Intent(o.Intent); ok {
				intents = append(intents, in)
			}
		}
		if len(intents) == 0 {
			continue
		}
		h := speech.HintsFromIntents(intents, nil, cfg.Flow.Escape.Phrases)
		out[name] = &h
	}
	return out
}

// isEscapeIntent reports a request for a human: the classifier's escape
// intent, backed by a word of the escape phrases in what was said. The
// word check matters: a classifier trained on few short phrases also puts
// unknown words ("bananas", "yes", "five") in the escape class, and a
// caller must not be sent to a queue for saying them.
func (e *Engine) isEscapeIntent(ev *speech.Event) bool {
	if ev.Intent == nil || ev.Intent.Intent != EscapeIntent || ev.Intent.OutOfScope {
		return false
	}
	for _, w := range strings.Fields(nlu.Normalize(ev.Result.Text)) {
		if e.escapeWords[w] {
			return true
		}
	}
	return false
}

// escapeStop are words of escape phrases that say nothing by themselves.
var escapeStop = map[string]bool{"a": true, "an": true, "the": true, "to": true, "i": true, "me": true, "my": true,
	"want": true, "please": true, "can": true, "real": true, "talk": true, "speak": true, "with": true, "some": true}

// escapeVocabulary is the telling words of the escape phrases.
func escapeVocabulary(phrases []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range phrases {
		for _, w := range strings.Fields(nlu.Normalize(p)) {
			if !escapeStop[w] {
				out[w] = true
			}
		}
	}
	return out
}

// menu asks for a choice. Keypad menus re-prompt Retries times. Speech
// menus walk the ladder: the open question (Reprompts more times after a
// no-match or silence), then the options read out with their keys, then
// OnFailure (by default the human). Close intents get "did you mean X or
// Y?"; a low-confidence one gets "did you want X?".
func (s *session) menu(name string, n *config.Node) (string, error) {
	n = s.visible(name, n)
	speechMenu := s.ears != nil && s.e.hints[name] != nil
	limit := 2
	if n.Retries != nil {
		limit = *n.Retries
	}
	if speechMenu {
		limit = *n.Reprompts + 1 // the reprompts, then the keypad list
	}
	segs := refs(n.Prompt)
	for failures := 0; ; {
		var in input
		var err error
		if len(s.pending) > 0 {
			in.key, s.pending = s.pending[0], s.pending[1:]
		} else {
			in, err = s.turn(name, segs, turnOpts{bargeIn: !n.NoBargeIn, listen: speechMenu, wait: n.Timeout, hints: s.e.hints[name]})
			if err != nil {
				return "", err
			}
		}
		var next string
		var matched bool
		switch {
		case in.key != 0:
			if s.isEscape(n, in.key) {
				return s.escape(name), nil
			}
			if o, ok := optionByKey(n, in.key); ok {
				s.event("option", name, s.e.cfg.OptionLabel(o))
				return o.Goto, nil
			}
			s.event("no_match", name, string(in.key))
		case in.speech != nil:
			if s.e.isEscapeIntent(in.speech) && s.escapeNode(n) != "" {
				return s.escape(name), nil
			}
			next, matched, err = s.spoken(name, n, in.speech)
			if err != nil || matched {
				return next, err
			}
		default:
			s.event("no_input", name, "")
		}
		failures++
		if failures > limit {
			s.log.Info("menu failed", "node", name, "attempts", failures)
			s.event("menu_failed", name, "")
			if n.OnFailure == "" {
				s.setEnd(models.EndNoInput)
				return "", nil
			}
			return n.OnFailure, nil
		}
		segs = s.reprompt(n, in, speechMenu && failures == limit)
	}
}

// reprompt is what a menu says after a failed attempt: the error message
// and the question again, or (last) the options read out with their keys.
func (s *session) reprompt(n *config.Node, in input, keypad bool) []segment {
	var segs []segment
	switch {
	case in.noInput:
		if len(n.NoInputPrompt) > 0 {
			segs = refs(n.NoInputPrompt)
		} else if s.ears != nil {
			segs = []segment{{text: textNoInput}}
		}
	case in.key != 0:
		if len(n.InvalidPrompt) > 0 {
			segs = refs(n.InvalidPrompt)
		} else if len(n.NoMatchPrompt) > 0 {
			segs = refs(n.NoMatchPrompt)
		}
	default: // an utterance that matched nothing
		switch {
		case len(n.NoMatchPrompt) > 0:
			segs = refs(n.NoMatchPrompt)
		case len(n.InvalidPrompt) > 0:
			segs = refs(n.InvalidPrompt)
		default:
			segs = []segment{{text: textNoMatch}}
		}
	}
	if keypad {
		if list := keypadList(s.e.cfg, n); list != "" {
			return append(segs, segment{text: list})
		}
	}
	return append(segs, refs(n.Prompt)...)
}

// keypadList reads a menu's options out with their keys.
func keypadList(cfg *config.Config, n *config.Node) string {
	var parts []string
	for _, o := range n.Options {
		if o.Key == "" {
			continue
		}
		parts = append(parts, fmt.Sprintf("To %s, press %s.", cfg.OptionLabel(o), spokenKey(o.Key)))
	}
	if len(parts) == 0 {
		return ""
	}
	if cfg.Flow.Escape.Key != "" && !n.NoEscape {
		parts = append(parts, fmt.Sprintf("To speak to someone, press %s.", spokenKey(cfg.Flow.Escape.Key)))
	}
	return textKeypadIntro + " " + strings.Join(parts, " ")
}

func spokenKey(k string) string {
	switch k {
	case "*":
		return "star"
	case "#":
		return "the hash key"
	}
	return k
}

func optionByKey(n *config.Node, key byte) (config.Option, bool) {
	for _, o := range n.Options {
		if o.Key == string(key) {
			return o, true
		}
	}
	return config.Option{}, false
}

func optionByIntent(n *config.Node, intent string) (config.Option, bool) {
	if intent == "" {
		return config.Option{}, false
	}
	for _, o := range n.Options {
		if o.Intent == intent {
			return o, true
		}
	}
	return config.Option{}, false
}

// spoken handles an utterance in a menu: a confident intent goes on; two
// close ones are clarified; a weak one is confirmed; a spoken key ("two")
// counts as that key.
func (s *session) spoken(name string, n *config.Node, e *speech.Event) (string, bool, error) {
	if e.Intent != nil && !e.Intent.OutOfScope {
		if o, ok := optionByIntent(n, e.Intent.Intent); ok {
			r := e.Intent
			if r.Ambiguous(s.e.cfg.Speech.ClarifyMargin) {
				if o2, ok2 := optionByIntent(n, r.Alternatives[1].Intent); ok2 && o2.Goto != o.Goto {
					return s.clarify(name, n, o, o2)
				}
			}
			turnLow := e.Confidence > 0 && e.Confidence < s.e.cfg.Speech.ConfirmTurnBelow
			if r.Confidence < s.e.cfg.Speech.ConfirmBelow || turnLow {
				return s.confirm(name, n, o)
			}
			s.event("option", name, s.e.cfg.OptionLabel(o))
			return o.Goto, true, nil
		}
	}
	// "two", "press two": a key said aloud, for the keypad list.
	if d, ok := entity.Digits(e.Result.Text); ok && len(d) == 1 {
		if o, ok := optionByKey(n, d[0]); ok {
			s.event("option", name, s.e.cfg.OptionLabel(o))
			return o.Goto, true, nil
		}
	}
	s.event("no_match", name, e.Result.Text)
	return "", false, nil
}

// confirm asks "did you want to X?"; yes (or 1) goes there.
func (s *session) confirm(name string, n *config.Node, o config.Option) (string, bool, error) {
	q := fmt.Sprintf("Did you want to %s? Please say yes or no.", s.e.cfg.OptionLabel(o))
	s.event("confirm", name, s.e.cfg.OptionLabel(o))
	in, err := s.turn(name, []segment{{text: q}}, turnOpts{bargeIn: true, listen: true, wait: n.Timeout, hints: &asr.Hints{Grammar: asr.GrammarYesNo}})
	if err != nil {
		return "", false, err
	}
	yes, ok := false, false
	switch {
	case in.key == '1':
		yes, ok = true, true
	case in.key == '2':
		yes, ok = false, true
	case in.speech != nil:
		yes, ok = entity.YesNo(in.speech.Result.Text)
	}
	if ok && yes {
		s.event("option", name, s.e.cfg.OptionLabel(o))
		return o.Goto, true, nil
	}
	return "", false, nil
}

// clarify asks "did you mean X or Y?" and takes the answer by intent,
// ordinal ("the first one") or key.
func (s *session) clarify(name string, n *config.Node, a, b config.Option) (string, bool, error) {
	la, lb := s.e.cfg.OptionLabel(a), s.e.cfg.OptionLabel(b)
	q := fmt.Sprintf("Did you want to %s, or %s?", la, lb)
	s.event("clarify", name, la+" | "+lb)
	var h *asr.Hints
	if base := s.e.hints[name]; base != nil {
		c := *base
		c.Phrases = append(append([]string(nil), c.Phrases...), "the first one", "the second one", "first", "second")
		h = &c
	}
	in, err := s.turn(name, []segment{{text: q}}, turnOpts{bargeIn: true, listen: true, wait: n.Timeout, hints: h})
	if err != nil {
		return "", false, err
	}
	pick := func(o config.Option) (string, bool, error) {
		s.event("option", name, s.e.cfg.OptionLabel(o))
		return o.Goto, true, nil
	}
	switch {
	case in.key != 0:
		if a.Key == string(in.key) {
			return pick(a)
		}
		if b.Key == string(in.key) {
			return pick(b)
		}
	case in.speech != nil:
		if r := in.speech.Intent; r != nil && !r.OutOfScope {
			if r.Intent == a.Intent {
				return pick(a)
			}
			if r.Intent == b.Intent {
				return pick(b)
			}
		}
		if k, ok := entity.Ordinal(in.speech.Result.Text); ok {
			if k == 1 {
				return pick(a)
			}
			if k == 2 {
				return pick(b)
			}
		}
	}
	return "", false, nil
}

// visible returns the menu with only the options whose when: condition
// holds now (a parcel out for delivery offers "reschedule", not "report
// damage"). The config's node is shared and never modified.
func (s *session) visible(name string, n *config.Node) *config.Node {
	hidden := false
	for _, o := range n.Options {
		if o.Cond() != nil && !o.Cond().Eval(s) {
			hidden = true
			break
		}
	}
	if !hidden {
		return n
	}
	cp := *n
	cp.Options = nil
	var shown []string
	for _, o := range n.Options {
		if o.Cond() == nil || o.Cond().Eval(s) {
			cp.Options = append(cp.Options, o)
			shown = append(shown, s.e.cfg.OptionLabel(o))
		}
	}
	s.event("options", name, strings.Join(shown, " | "))
	return &cp
}
