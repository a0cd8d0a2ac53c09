package dialog

import (
	"errors"
	"strings"
	"sync"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/speech"
)

// TrainClassifier trains a line's intent classifier: its intents plus the
// escape phrases as EscapeIntent. It returns nil, nil when the line has
// neither (a keypad-only line).
func TrainClassifier(cfg *config.Config) (*nlu.Classifier, error) {
	intents := append([]nlu.Intent(nil), cfg.Intents...)
	if len(cfg.Flow.Escape.Phrases) > 0 {
		intents = append(intents, nlu.Intent{Name: EscapeIntent, Description: "talk to a person", Examples: cfg.Flow.Escape.Phrases})
	}
	if len(intents) == 0 {
		return nil, nil
	}
	return nlu.Train(intents, nlu.Options{OutOfScope: cfg.OutOfScope})
}

// TextListener is a Listener for typed input: what the caller types goes
// straight to the classifier and comes out as a recognition result, the
// way a spoken turn would. It serves text conversations (a chat box beside
// the call widget) and `ivr test` journeys in text mode.
type TextListener struct {
	clf    speech.Classifier
	events chan speech.Event

	mu     sync.Mutex
	closed bool
}

// ErrListenerFull means typed turns arrive faster than the call reads them.
var ErrListenerFull = errors.New("dialog: text listener full")

// NewTextListener returns a listener that classifies typed text with clf
// (nil: no intents, entities only).
func NewTextListener(clf speech.Classifier) *TextListener {
	return &TextListener{clf: clf, events: make(chan speech.Event, 16)}
}

// Type delivers one typed turn: a SpeechStarted event, then a Final with
// the text in recognizer form (lower case, single spaces) and its intent.
// It never blocks.
func (l *TextListener) Type(text string) error {
	text = strings.ToLower(strings.Join(strings.Fields(text), " "))
	ev := speech.Event{Type: speech.Final, Result: asr.Result{Text: text, Confidence: 1, Final: true}}
	if l.clf != nil && text != "" {
		r := l.clf.Classify(text)
		ev.Intent = &r
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return speech.ErrClosed
	}
	if len(l.events)+2 > cap(l.events) {
		return ErrListenerFull
	}
	l.events <- speech.Event{Type: speech.SpeechStarted}
	l.events <- ev
	return nil
}

// WriteFrame ignores audio: the caller types.
func (l *TextListener) WriteFrame(audio.Frame) error { return nil }

// Events delivers the typed turns.
func (l *TextListener) Events() <-chan speech.Event { return l.events }

// SetHints does nothing: typed text needs no recognizer hints.
func (l *TextListener) SetHints(asr.Hints) {}

// Reset does nothing: typed turns are whole.
func (l *TextListener) Reset() {}

// Close stops accepting turns.
func (l *TextListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return nil
}

var _ Listener = (*TextListener)(nil)
