package vad

import (
	"fmt"
	"time"
)

// Event is what an Endpointer reports after a frame.
type Event int

// Events, in the order a turn normally produces them.
const (
	// None: nothing changed.
	None Event = iota
	// SpeechStart: the caller has been speaking for at least MinSpeech
	// (barge-in: stop the prompt). SpeechOnset says when it began.
	SpeechStart
	// SpeechEnd: the caller has been silent for TrailingSilence after
	// speech, or EndEarly was called during speech; the turn is over.
	SpeechEnd
	// MaxUtterance: the caller has spoken for MaxUtterance without a pause
	// long enough to end the turn; the turn is cut.
	MaxUtterance
	// NoInput: no speech started within NoInputTimeout of arming.
	NoInput
)

// String names the event.
func (e Event) String() string {
	switch e {
	case None:
		return "none"
	case SpeechStart:
		return "speech-start"
	case SpeechEnd:
		return "speech-end"
	case MaxUtterance:
		return "max-utterance"
	case NoInput:
		return "no-input"
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// EndpointConfig tunes an Endpointer. Zero fields take the defaults noted.
type EndpointConfig struct {
	// Frame is the time one Push covers. Default 20 ms.
	Frame time.Duration
	// Threshold is the probability at or above which a frame is speech.
	// Default 0.5.
	Threshold float32
	// SilenceThreshold is the probability below which a frame counts as
	// silence; frames between it and Threshold keep the current state
	// (hysteresis). Default Threshold - 0.15, at least 0.
	SilenceThreshold float32
	// MinSpeech is how long speech must last before SpeechStart, so a
	// cough or a click does not barge in. Default 100 ms.
	MinSpeech time.Duration
	// TrailingSilence is the silence after speech that ends the turn.
	// Default 500 ms.
	TrailingSilence time.Duration
	// MaxUtterance cuts a turn that lasts this long. Default 20 s;
	// negative disables.
	MaxUtterance time.Duration
	// NoInputTimeout reports NoInput when no speech starts this long after
	// arming. Default 5 s; negative disables.
	NoInputTimeout time.Duration
}

// DefaultEndpointConfig returns the defaults spelled out.
func DefaultEndpointConfig() EndpointConfig {
	return EndpointConfig{}.withDefaults()
}

func (c EndpointConfig) withDefaults() EndpointConfig {
	if c.Frame <= 0 {
		c.Frame = 20 * time.Millisecond
	}
	if c.Threshold <= 0 {
		c.Threshold = 0.5
	}
	if c.SilenceThreshold <= 0 || c.SilenceThreshold > c.Threshold {
		c.SilenceThreshold = max(0, c.Threshold-0.15)
	}
	if c.MinSpeech <= 0 {
		c.MinSpeech = 100 * time.Millisecond
	}
	if c.TrailingSilence <= 0 {
		c.TrailingSilence = 500 * time.Millisecond
	}
	if c.MaxUtterance == 0 {
		c.MaxUtterance = 20 * time.Second
	}
	if c.NoInputTimeout == 0 {
		c.NoInputTimeout = 5 * time.Second
	}
	return c
}

// frames converts a duration to a frame count, rounding up, at least 1.
func (c EndpointConfig) frames(d time.Duration) int {
	n := int((d + c.Frame - 1) / c.Frame)
	return max(n, 1)
}

type epState int

const (
	stIdle      epState = iota // waiting for speech
	stSpeech                   // inside an utterance
	stWaitQuiet                // after MaxUtterance: wait for silence before re-arming
)

// Endpointer turns per-frame speech probabilities into turn events. It
// counts frames instead of reading a clock, so it is deterministic and
// needs no goroutine: feed it one probability per frame with Push. Not
// safe for concurrent use.
//
// After SpeechEnd, MaxUtterance or NoInput it re-arms itself for the next
// utterance (with a fresh no-input timer, after MaxUtterance once the caller
// pauses); Reset re-arms it explicitly, e.g. when a new prompt starts.
type Endpointer struct {
	cfg                      EndpointConfig
	minSpeech, trail, maxUtt int // in frames
	noInput                  int // in frames; 0 disables
	state                    epState
	frame                    int // frames pushed since New
	armedAt                  int // frame at which the no-input timer started
	noInputSent              bool
	run                      int // speech frames counted towards MinSpeech
	onset                    int // first frame of the candidate or current utterance
	silence                  int // consecutive silent frames inside an utterance
}

// NewEndpointer returns an armed endpointer.
func NewEndpointer(cfg EndpointConfig) *Endpointer {
	cfg = cfg.withDefaults()
	e := &Endpointer{cfg: cfg}
	e.minSpeech = cfg.frames(cfg.MinSpeech)
	e.trail = cfg.frames(cfg.TrailingSilence)
	if cfg.MaxUtterance > 0 {
		e.maxUtt = cfg.frames(cfg.MaxUtterance)
	}
	if cfg.NoInputTimeout > 0 {
		e.noInput = cfg.frames(cfg.NoInputTimeout)
	}
	return e
}

// Config returns the configuration in effect, defaults filled in.
func (e *Endpointer) Config() EndpointConfig { return e.cfg }

// Reset re-arms the endpointer: any utterance in progress is forgotten and
// the no-input timer restarts from the next frame.
func (e *Endpointer) Reset() {
	e.state = stIdle
	e.arm()
}

func (e *Endpointer) arm() {
	e.armedAt = e.frame
	e.noInputSent = false
	e.run, e.silence = 0, 0
}

// InSpeech reports whether an utterance is in progress (after SpeechStart,
// before its end event).
func (e *Endpointer) InSpeech() bool { return e.state == stSpeech }

// Quiet is how long the caller has been silent inside the current
// utterance (0 outside one, or while speaking).
func (e *Endpointer) Quiet() time.Duration {
	if e.state != stSpeech {
		return 0
	}
	return time.Duration(e.silence) * e.cfg.Frame
}

// Elapsed is the stream time pushed so far.
func (e *Endpointer) Elapsed() time.Duration { return time.Duration(e.frame) * e.cfg.Frame }

// SpeechOnset is the stream time at which the current (or last) utterance
// began: the first speech frame of the run that produced SpeechStart. A
// recognizer uses it to include the audio from before SpeechStart.
func (e *Endpointer) SpeechOnset() time.Duration { return time.Duration(e.onset) * e.cfg.Frame }

// EndEarly ends the current utterance now, for a recognizer that knows the
// caller has finished (a complete account number, a grammar's final state).
// It returns SpeechEnd and re-arms when an utterance was in progress, and
// None otherwise.
func (e *Endpointer) EndEarly() Event {
	if e.state != stSpeech {
		return None
	}
	e.state = stIdle
	e.arm()
	return SpeechEnd
}

// Push takes the speech probability of the next frame and returns the event
// it causes, if any. Probabilities outside [0, 1] and NaN are clamped (NaN
// counts as silence).
func (e *Endpointer) Push(prob float32) Event {
	if !(prob >= 0) { // also catches NaN
		prob = 0
	}
	now := e.frame
	e.frame++
	speech := prob >= e.cfg.Threshold
	quiet := prob < e.cfg.SilenceThreshold

	switch e.state {
	case stIdle:
		switch {
		case speech:
			if e.run == 0 {
				e.onset = now
			}
			e.run++
			if e.run >= e.minSpeech {
				e.state = stSpeech
				e.silence = 0
				return SpeechStart
			}
		case quiet:
			e.run = 0
		}
		if e.noInput > 0 && !e.noInputSent && e.run == 0 && e.frame-e.armedAt >= e.noInput {
			e.noInputSent = true
			e.arm()
			e.noInputSent = true
			return NoInput
		}
	case stSpeech:
		switch {
		case speech:
			e.silence = 0
		case quiet:
			e.silence++
		}
		if e.silence >= e.trail {
			e.state = stIdle
			e.arm()
			return SpeechEnd
		}
		if e.maxUtt > 0 && e.frame-e.onset >= e.maxUtt {
			e.state = stWaitQuiet
			e.arm()
			return MaxUtterance
		}
	case stWaitQuiet:
		if quiet {
			e.state = stIdle
			e.arm()
		}
	}
	return None
}
