package dtmf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SIP INFO content types that carry a key press. application/dtmf-relay is
// the Cisco-originated format ("Signal=5\r\nDuration=160\r\n", duration in
// ms) that most endpoints send; application/dtmf carries the bare key. Both
// are legacy INFO usages that RFC 6086 §9 leaves in place.
const (
	ContentTypeDTMFRelay = "application/dtmf-relay"
	ContentTypeDTMF      = "application/dtmf"
)

// maxInfoBody bounds the body a parser looks at; real bodies are ~30 bytes.
const maxInfoBody = 4096

// ParseSIPInfo returns the key and duration carried by a SIP INFO body.
// contentType is the Content-Type header value (parameters and case are
// ignored). Both formats are parsed leniently: keys are case-insensitive,
// white space and either line ending are accepted, a Signal may be given as
// its RFC 4733 event code (10 for '*'), and an application/dtmf body written
// in the dtmf-relay form is understood. A missing or unreadable Duration
// gives a zero duration. Errors wrap ErrContentType or ErrBody.
func ParseSIPInfo(contentType string, body []byte) (key byte, dur time.Duration, err error) {
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.ToLower(strings.TrimSpace(mt))
	if len(body) > maxInfoBody {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrBody, len(body))
	}
	switch mt {
	case ContentTypeDTMFRelay:
		return parseRelay(body)
	case ContentTypeDTMF:
		if bytes.IndexByte(body, '=') >= 0 {
			return parseRelay(body)
		}
		k, ok := parseSignal(string(bytes.TrimSpace(body)))
		if !ok {
			return 0, 0, fmt.Errorf("%w: %q", ErrBody, truncate(body))
		}
		return k, 0, nil
	}
	return 0, 0, fmt.Errorf("%w: %q", ErrContentType, truncate([]byte(contentType)))
}

// parseRelay reads "Signal=<key>" and an optional "Duration=<ms>" line.
func parseRelay(body []byte) (byte, time.Duration, error) {
	var key byte
	var haveKey bool
	var dur time.Duration
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		name, value, ok := bytes.Cut(line, []byte("="))
		if !ok {
			continue
		}
		n := strings.ToLower(string(bytes.TrimSpace(name)))
		v := string(bytes.TrimSpace(value))
		switch n {
		case "signal":
			k, ok := parseSignal(v)
			if !ok {
				return 0, 0, fmt.Errorf("%w: signal %q", ErrBody, truncate(value))
			}
			key, haveKey = k, true
		case "duration":
			if ms, err := strconv.ParseUint(v, 10, 32); err == nil && ms <= 3600_000 {
				dur = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if !haveKey {
		return 0, 0, fmt.Errorf("%w: no Signal line", ErrBody)
	}
	return key, dur, nil
}

// parseSignal accepts one key character or an RFC 4733 event code 0-15.
func parseSignal(v string) (byte, bool) {
	if len(v) == 1 {
		return normalizeKey(v[0])
	}
	if len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5' {
		return KeyOf(10 + v[1] - '0')
	}
	return 0, false
}

// FormatSIPInfo returns the Content-Type and body of a SIP INFO request that
// sends key as application/dtmf-relay, the format most peers accept.
func FormatSIPInfo(key byte, dur time.Duration) (contentType string, body []byte, err error) {
	k, ok := normalizeKey(key)
	if !ok {
		return "", nil, fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	if dur < 0 {
		dur = 0
	}
	body = fmt.Appendf(nil, "Signal=%c\r\nDuration=%d\r\n", k, dur.Milliseconds())
	return ContentTypeDTMFRelay, body, nil
}

// truncate shortens b for an error message.
func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}
