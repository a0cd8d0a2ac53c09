package dialog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/nlu/entity"
	"github.com/openivr/ivr/tts/sayas"
)

// Built-in wording for collect nodes when the config gives none.
const (
	textInvalid  = "Sorry, that doesn't look right."
	textTryAgain = "Let's try again."
)

// answer is the outcome of asking the caller for a value.
type answer struct {
	value string
	ok    bool   // a valid value
	next  string // when !ok: where the call goes (the escape node or on_failure; "" ends)
}

// collect asks for a typed value (digits, a number, an amount, a date, a
// time, yes or no) by keypad or voice, validates it, optionally reads it
// back for confirmation, and stores it in the node's variable.
func (s *session) collect(name string, n *config.Node) (string, error) {
	a, err := s.ask(name, n)
	if err != nil || !a.ok {
		return a.next, err
	}
	s.setVar(n.Var, a.value, n.Secret)
	return n.Next, nil
}

// keyable entities can be answered on the keypad.
func keyable(entityType string) bool {
	return entityType == "digits" || entityType == "number" || entityType == "yes_no"
}

// collectEscapeKey reports whether key is the escape hatch on a collect
// node: never when the key is part of the answer (a 0 in an account
// number), so there the escape is spoken ("agent").
func (s *session) collectEscapeKey(n *config.Node, key byte) bool {
	if !s.isEscape(n, key) {
		return false
	}
	switch n.Entity {
	case "digits", "number":
		return (key < '0' || key > '9') && string(key) != n.Terminator
	case "yes_no":
		return key != '1' && key != '2'
	}
	return true
}

func (s *session) collectHints(n *config.Node) *asr.Hints {
	h := &asr.Hints{EscapeWords: s.e.cfg.Flow.Escape.Phrases}
	switch n.Entity {
	case "digits", "number":
		h.Grammar = asr.GrammarDigits
	case "yes_no":
		h.Grammar = asr.GrammarYesNo
	case "date":
		h.Phrases = datePhrases
	case "time":
		h.Phrases = timePhrases
	}
	return h
}

// datePhrases and timePhrases guide the recognizer to what callers say
// for a day or a time.
var datePhrases, timePhrases = func() ([]string, []string) {
	d := []string{"today", "tomorrow", "the day after tomorrow", "next week", "this week"}
	for _, w := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		d = append(d, w, "on "+w, "next "+w, "this "+w)
	}
	for _, m := range []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"} {
		d = append(d, "the first of "+m, "the fifteenth of "+m, m+" the twentieth")
	}
	t := []string{"noon", "midday", "midnight", "in the morning", "in the afternoon", "in the evening"}
	for _, h := range []string{"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"} {
		t = append(t, h+" o'clock", h+" thirty", "half past "+h, "quarter past "+h, "quarter to "+h, h+" am", h+" pm")
	}
	return d, t
}()

// ask runs the attempts of a collect: the prompt, then a retry message
// and the prompt again after no input or an invalid answer, Retries times.
func (s *session) ask(name string, n *config.Node) (answer, error) {
	return s.askWith(name, n, refs(n.Prompt))
}

// askWith is ask with the question given as segments (generated text).
func (s *session) askWith(name string, n *config.Node, question []segment) (answer, error) {
	if n.Secret {
		s.masking = true
		defer func() { s.masking = false }()
	}
	limit := 2
	if n.Retries != nil {
		limit = *n.Retries
	}
	segs := question
	for failures := 0; ; {
		var in input
		var err error
		if len(s.pending) > 0 && keyable(n.Entity) {
			in.key, s.pending = s.pending[0], s.pending[1:]
		} else {
			in, err = s.turn(name, segs, turnOpts{bargeIn: !n.NoBargeIn, listen: s.ears != nil, wait: n.Timeout, hints: s.collectHints(n)})
			if err != nil {
				return answer{}, err
			}
		}
		var value string
		var got bool
		switch {
		case in.key != 0:
			if s.collectEscapeKey(n, in.key) {
				return answer{next: s.escape(name)}, nil
			}
			if keyable(n.Entity) {
				value, got, err = s.keyed(name, n, in.key)
				if err != nil {
					return answer{}, err
				}
			}
		case in.speech != nil:
			// A value first: "no" or "five" is an answer, not a request for a human.
			value, got = extract(n.Entity, in.speech.Result.Text, s.e.now())
			if !got && s.e.isEscapeIntent(in.speech) && s.escapeNode(n) != "" {
				return answer{next: s.escape(name)}, nil
			}
		}
		if got {
			if why := validate(n, value); why != "" {
				s.event("invalid", name, s.shown(n, value)+": "+why)
				got = false
			}
		}
		if got && n.Confirm {
			yes, err := s.confirmValue(name, n, value)
			if err != nil {
				return answer{}, err
			}
			if yes {
				s.event("collected", name, s.shown(n, value))
				return answer{value: value, ok: true}, nil
			}
			failures++
			if failures > limit {
				break
			}
			segs = append([]segment{{text: textTryAgain}}, question...)
			continue
		}
		if got {
			s.event("collected", name, s.shown(n, value))
			return answer{value: value, ok: true}, nil
		}
		if in.key == 0 && in.speech == nil {
			s.event("no_input", name, "")
		} else if in.speech != nil || in.key != 0 {
			s.event("no_match", name, "")
		}
		failures++
		if failures > limit {
			break
		}
		segs = s.collectReprompt(n, in, question)
	}
	s.log.Info("collect failed", "node", name)
	s.event("collect_failed", name, "")
	if n.OnFailure == "" {
		s.setEnd(models.EndNoInput)
	}
	return answer{next: n.OnFailure}, nil
}

func (s *session) collectReprompt(n *config.Node, in input, question []segment) []segment {
	var segs []segment
	switch {
	case in.noInput || in.key == 0 && in.speech == nil:
		if len(n.NoInputPrompt) > 0 {
			segs = refs(n.NoInputPrompt)
		} else {
			segs = []segment{{text: textNoInput}}
		}
	default:
		if len(n.InvalidPrompt) > 0 {
			segs = refs(n.InvalidPrompt)
		} else {
			segs = []segment{{text: textInvalid}}
		}
	}
	return append(segs, question...)
}

// shown is how a value appears in records: secrets never do.
func (s *session) shown(n *config.Node, v string) string {
	if n.Secret {
		return "(secret)"
	}
	return v
}

// keyed gathers the rest of a keyed answer after its first key, with the
// node's terminator and inter-digit timeout (dtmf.Collector).
func (s *session) keyed(name string, n *config.Node, first byte) (string, bool, error) {
	spec := dtmf.CollectSpec{MinLen: n.MinLength, MaxLen: n.MaxLength, InterDigitTimeout: n.InterDigitTimeout}
	if n.Terminator != "" {
		spec.Terminator = n.Terminator[0]
	}
	if n.Entity == "yes_no" {
		spec = dtmf.CollectSpec{MaxLen: 1}
	}
	col := dtmf.NewCollector(0)
	col.Feed(first, time.Now())
	for _, k := range s.pending {
		col.Feed(k, time.Now())
	}
	s.pending = nil
	if err := col.Begin(spec, time.Now()); err != nil {
		return "", false, nil // the config was validated; a bad spec is no answer
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for !col.Done() {
		var expire <-chan time.Time
		if dl, ok := col.Deadline(); ok {
			if timer != nil {
				timer.Stop()
			}
			timer = time.NewTimer(time.Until(dl))
			expire = timer.C
		}
		select {
		case <-s.ctx.Done():
			return "", false, s.ctx.Err()
		case <-s.call.Done():
			return "", false, errCallerGone
		case d := <-s.call.Digits():
			s.digit(d)
			col.Feed(d.Key, time.Now())
		case <-expire:
			col.Expire(time.Now())
		}
	}
	s.pending = append(s.pending, col.TypeAhead()...)
	r := col.Result()
	if !r.OK() {
		return "", false, nil
	}
	switch n.Entity {
	case "yes_no":
		switch r.Digits {
		case "1":
			return "yes", true, nil
		case "2":
			return "no", true, nil
		}
		return "", false, nil
	case "number":
		if r.Digits == "" {
			return "", false, nil
		}
		v, err := strconv.ParseInt(r.Digits, 10, 64)
		if err != nil {
			return "", false, nil
		}
		return strconv.FormatInt(v, 10), true, nil
	}
	return r.Digits, r.Digits != "" || n.MinLength == 0, nil
}

// extract finds a value of the entity type in what the caller said.
func extract(entityType, text string, now time.Time) (string, bool) {
	switch entityType {
	case "digits":
		return entity.Digits(text)
	case "number":
		v, ok := entity.Number(text)
		if !ok {
			return "", false
		}
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case "amount":
		m, ok := entity.Amount(text)
		if !ok {
			return "", false
		}
		v := fmt.Sprintf("%d.%02d", m.Cents/100, m.Cents%100)
		if m.Currency != "" {
			v += " " + m.Currency
		}
		return v, true
	case "date":
		d, ok := entity.Date(text, now)
		if !ok {
			return "", false
		}
		return d.Format("2006-01-02"), true
	case "time":
		c, ok := entity.Time(text)
		if !ok {
			return "", false
		}
		return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute), true
	case "yes_no":
		yes, ok := entity.YesNo(text)
		if !ok {
			return "", false
		}
		if yes {
			return "yes", true
		}
		return "no", true
	}
	return "", false
}

// validate checks a value against the node's lengths and pattern; it
// returns why it is invalid, or "".
func validate(n *config.Node, v string) string {
	if n.Entity == "digits" {
		if len(v) < n.MinLength {
			return fmt.Sprintf("%d digits, want at least %d", len(v), n.MinLength)
		}
		if n.MaxLength > 0 && len(v) > n.MaxLength {
			return fmt.Sprintf("%d digits, want at most %d", len(v), n.MaxLength)
		}
	}
	if re := n.PatternRE(); re != nil && !re.MatchString(v) {
		return "does not match " + re.String()
	}
	return ""
}

// readBack is how a value is said back to the caller, in say-as markup.
func readBack(entityType, v string) string {
	switch entityType {
	case "digits":
		return "{digits:" + v + "}"
	case "amount":
		if strings.Contains(v, " ") {
			return "{amount:" + v + "}"
		}
		return "{amount:" + v + " GBP}"
	case "date":
		return "{date:" + v + "}"
	case "time":
		return "{time:" + v + "}"
	}
	return sayasSafe(v)
}

// confirmValue reads the answer back and asks yes or no (1 or 2).
func (s *session) confirmValue(name string, n *config.Node, v string) (bool, error) {
	said := readBack(n.Entity, v)
	if _, err := sayas.Expand(said); err != nil {
		said = sayasSafe(v)
	}
	q := fmt.Sprintf("I have %s. Is that right? Say yes or no, or press 1 for yes and 2 for no.", said)
	s.event("confirm", name, v)
	in, err := s.turn(name, []segment{{text: q}}, turnOpts{bargeIn: true, listen: s.ears != nil, wait: n.Timeout, hints: &asr.Hints{Grammar: asr.GrammarYesNo}})
	if err != nil {
		return false, err
	}
	switch {
	case in.key == '1':
		return true, nil
	case in.key != 0:
		return false, nil
	case in.speech != nil:
		yes, ok := entity.YesNo(in.speech.Result.Text)
		return ok && yes, nil
	}
	return false, nil
}
