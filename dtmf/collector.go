package dtmf

import (
	"errors"
	"fmt"
	"time"
)

// CollectSpec describes one digit collection ("enter your 8-digit account
// number followed by hash").
type CollectSpec struct {
	// MinLen is the fewest digits that make a valid answer (0 allows an
	// empty answer ended by the terminator).
	MinLen int
	// MaxLen ends the collection as soon as it is reached; 0 means no limit
	// (then a terminator or an inter-digit timeout must end it).
	MaxLen int
	// Terminator is the key that ends input early and is not part of the
	// answer, usually '#'; 0 means none.
	Terminator byte
	// FirstDigitTimeout is how long to wait for the first digit after
	// Begin; 0 waits for ever.
	FirstDigitTimeout time.Duration
	// InterDigitTimeout is how long to wait after each digit for the next;
	// 0 waits for ever.
	InterDigitTimeout time.Duration
	// FlushTypeAhead discards digits pressed before Begin instead of using
	// them as the start of the answer.
	FlushTypeAhead bool
}

// Validate reports a spec that could never finish or contradicts itself.
func (s CollectSpec) Validate() error {
	switch {
	case s.MinLen < 0 || s.MaxLen < 0:
		return errors.New("dtmf: collect lengths must not be negative")
	case s.MaxLen > 0 && s.MinLen > s.MaxLen:
		return fmt.Errorf("dtmf: collect min length %d exceeds max length %d", s.MinLen, s.MaxLen)
	case s.Terminator != 0 && !ValidKey(s.Terminator):
		return fmt.Errorf("%w: terminator %q", ErrInvalidKey, s.Terminator)
	case s.FirstDigitTimeout < 0 || s.InterDigitTimeout < 0:
		return errors.New("dtmf: collect timeouts must not be negative")
	case s.MaxLen == 0 && s.Terminator == 0 && s.InterDigitTimeout == 0:
		return errors.New("dtmf: collect needs a max length, a terminator or an inter-digit timeout to finish")
	}
	return nil
}

// Reason says why a collection finished.
type Reason uint8

// Reasons a collection ends. Complete answers end with ReasonMaxLength,
// ReasonTerminator or ReasonTimeout.
const (
	ReasonNone       Reason = iota // still collecting, or never started
	ReasonMaxLength                // MaxLen digits were entered
	ReasonTerminator               // the terminator was pressed
	ReasonTimeout                  // the inter-digit timeout expired with enough digits
	ReasonNoInput                  // no digit before the first-digit timeout
	ReasonTooShort                 // ended by terminator or timeout with fewer than MinLen digits
	ReasonCancelled                // Cancel was called
)

// String names the reason for logs and call records.
func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return "none"
	case ReasonMaxLength:
		return "max-length"
	case ReasonTerminator:
		return "terminator"
	case ReasonTimeout:
		return "timeout"
	case ReasonNoInput:
		return "no-input"
	case ReasonTooShort:
		return "too-short"
	case ReasonCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Result is a finished collection.
type Result struct {
	Digits string // without the terminator
	Reason Reason
}

// OK reports whether the result is a complete answer.
func (r Result) OK() bool {
	return r.Reason == ReasonMaxLength || r.Reason == ReasonTerminator || r.Reason == ReasonTimeout
}

// Collector gathers digits for the dialog. It is pure logic: the caller
// feeds digits and the current time and asks for the next deadline, so it
// needs no goroutine or timer of its own. Between collections (while a
// prompt plays, say) digits go to a bounded type-ahead buffer; Begin starts
// a collection with them unless the spec flushes them. A Collector is not
// safe for concurrent use; it belongs to the call's dialog goroutine.
type Collector struct {
	spec      CollectSpec
	active    bool
	digits    []byte
	deadline  time.Time
	result    Result
	done      bool
	typeAhead []byte
	maxAhead  int
	dropped   int
}

// NewCollector returns an idle collector whose type-ahead buffer keeps up to
// maxTypeAhead digits (32 when maxTypeAhead <= 0); digits beyond that are
// dropped and counted.
func NewCollector(maxTypeAhead int) *Collector {
	if maxTypeAhead <= 0 {
		maxTypeAhead = 32
	}
	return &Collector{maxAhead: maxTypeAhead}
}

// Begin starts a collection at now, first consuming type-ahead digits
// unless spec.FlushTypeAhead. It may finish at once (a caller who typed
// "1234#" ahead); check Done.
func (c *Collector) Begin(spec CollectSpec, now time.Time) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	c.spec, c.active, c.done = spec, true, false
	c.digits = c.digits[:0]
	c.result = Result{}
	c.deadline = time.Time{}
	if spec.FirstDigitTimeout > 0 {
		c.deadline = now.Add(spec.FirstDigitTimeout)
	}
	ahead := c.typeAhead
	c.typeAhead = nil
	if spec.FlushTypeAhead {
		ahead = nil
	}
	for i, k := range ahead {
		c.Feed(k, now)
		if !c.active {
			// Digits after the end of this answer stay for the next one.
			c.typeAhead = append(c.typeAhead, ahead[i+1:]...)
			break
		}
	}
	return nil
}

// Feed adds a key pressed at now. While idle it goes to the type-ahead
// buffer. It returns true when this key finished the collection. Invalid
// keys are ignored.
func (c *Collector) Feed(key byte, now time.Time) bool {
	k, ok := normalizeKey(key)
	if !ok {
		return false
	}
	if !c.active {
		if len(c.typeAhead) >= c.maxAhead {
			c.dropped++
			return false
		}
		c.typeAhead = append(c.typeAhead, k)
		return false
	}
	if c.spec.Terminator != 0 && k == c.spec.Terminator {
		if len(c.digits) < c.spec.MinLen {
			c.finish(ReasonTooShort)
		} else {
			c.finish(ReasonTerminator)
		}
		return true
	}
	c.digits = append(c.digits, k)
	if c.spec.MaxLen > 0 && len(c.digits) >= c.spec.MaxLen {
		c.finish(ReasonMaxLength)
		return true
	}
	c.deadline = time.Time{}
	if c.spec.InterDigitTimeout > 0 {
		c.deadline = now.Add(c.spec.InterDigitTimeout)
	}
	return false
}

// Deadline returns when Expire must next be called, and false when no
// timeout is pending.
func (c *Collector) Deadline() (time.Time, bool) {
	if !c.active || c.deadline.IsZero() {
		return time.Time{}, false
	}
	return c.deadline, true
}

// Expire finishes the collection if its deadline has passed at now, and
// reports whether the collection is done.
func (c *Collector) Expire(now time.Time) bool {
	if !c.active {
		return c.done
	}
	if c.deadline.IsZero() || now.Before(c.deadline) {
		return false
	}
	switch {
	case len(c.digits) == 0:
		c.finish(ReasonNoInput)
	case len(c.digits) < c.spec.MinLen:
		c.finish(ReasonTooShort)
	default:
		c.finish(ReasonTimeout)
	}
	return true
}

// Cancel abandons the collection (barge-in to a human, hang-up). Digits
// entered so far are returned in the result.
func (c *Collector) Cancel() {
	if c.active {
		c.finish(ReasonCancelled)
	}
}

func (c *Collector) finish(r Reason) {
	c.result = Result{Digits: string(c.digits), Reason: r}
	c.active, c.done = false, true
	c.deadline = time.Time{}
}

// Active reports whether a collection is in progress.
func (c *Collector) Active() bool { return c.active }

// Done reports whether the last collection has finished.
func (c *Collector) Done() bool { return c.done }

// Result returns the finished collection (zero while collecting).
func (c *Collector) Result() Result { return c.result }

// Entered returns the digits of the collection in progress.
func (c *Collector) Entered() string { return string(c.digits) }

// TypeAhead returns the buffered digits without removing them.
func (c *Collector) TypeAhead() string { return string(c.typeAhead) }

// Drain removes and returns the buffered digits (a menu that acts on the
// first key pressed during its prompt drains them itself).
func (c *Collector) Drain() string {
	s := string(c.typeAhead)
	c.typeAhead = c.typeAhead[:0]
	return s
}

// Dropped counts type-ahead digits lost to a full buffer.
func (c *Collector) Dropped() int { return c.dropped }
