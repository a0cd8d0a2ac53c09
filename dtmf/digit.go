package dtmf

import (
	"errors"
	"fmt"
	"time"
)

// Source says how a digit reached the receiver.
type Source uint8

// The three ways a call carries DTMF.
const (
	// RFC4733 is a telephone-event carried in RTP (RFC 4733, formerly RFC 2833).
	RFC4733 Source = iota + 1
	// SIPInfo is a SIP INFO request with an application/dtmf-relay or
	// application/dtmf body.
	SIPInfo
	// InBand is a dual tone found in the decoded audio.
	InBand
)

// String names the source for logs and call records.
func (s Source) String() string {
	switch s {
	case RFC4733:
		return "rfc4733"
	case SIPInfo:
		return "sip-info"
	case InBand:
		return "in-band"
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// Digit is one key press as emitted by a Receiver.
type Digit struct {
	// Key is '0'-'9', '*', '#' or 'A'-'D'.
	Key byte
	// Source is the input that reported the press first.
	Source Source
	// Duration is how long the key had been down when the digit was
	// emitted. The receiver emits at key-down for low latency, so this is
	// the duration known at that moment: the event duration of the first
	// RFC 4733 packet seen (the whole press when only end packets arrived),
	// the Duration field of a SIP INFO dtmf-relay body, or the tone length
	// the in-band detector had measured when it declared the digit.
	Duration time.Duration
	// At is when the receiver emitted the digit, from its clock.
	At time.Time
}

// String formats the digit for logs, e.g. "5 (rfc4733, 60ms)".
func (d Digit) String() string {
	return fmt.Sprintf("%c (%s, %s)", d.Key, d.Source, d.Duration)
}

// Errors returned by the parsers; callers can branch on them with errors.Is.
var (
	// ErrInvalidKey reports a key that is not one of 0-9, *, #, A-D.
	ErrInvalidKey = errors.New("dtmf: invalid key")
	// ErrShortPayload reports an RFC 4733 payload that is not a whole number
	// of 4-byte event blocks.
	ErrShortPayload = errors.New("dtmf: rfc4733 payload is not a multiple of 4 bytes")
	// ErrContentType reports a SIP INFO body type that does not carry DTMF.
	ErrContentType = errors.New("dtmf: unsupported content type")
	// ErrBody reports a SIP INFO body that names no valid digit.
	ErrBody = errors.New("dtmf: malformed body")
)

// keys lists the DTMF keys in RFC 4733 event-code order (RFC 4733 §3.2:
// events 0-9 are the digits, 10 is '*', 11 is '#', 12-15 are A-D).
const keys = "0123456789*#ABCD"

// ValidKey reports whether k is one of 0-9, *, #, A-D (upper case).
func ValidKey(k byte) bool { return EventCode(k) >= 0 }

// EventCode returns the RFC 4733 event code of key k, or -1 for an invalid
// key. Lower-case a-d are accepted.
func EventCode(k byte) int {
	switch {
	case k >= '0' && k <= '9':
		return int(k - '0')
	case k == '*':
		return 10
	case k == '#':
		return 11
	case k >= 'A' && k <= 'D':
		return int(k-'A') + 12
	case k >= 'a' && k <= 'd':
		return int(k-'a') + 12
	}
	return -1
}

// KeyOf returns the key of RFC 4733 event code c and whether c is a DTMF
// event (codes 0-15); other events (flash, modem and fax tones) are not keys.
func KeyOf(c uint8) (byte, bool) {
	if int(c) < len(keys) {
		return keys[c], true
	}
	return 0, false
}

// normalizeKey maps a-d to A-D and reports whether k is a key.
func normalizeKey(k byte) (byte, bool) {
	c := EventCode(k)
	if c < 0 {
		return 0, false
	}
	return keys[c], true
}
