// Package codec converts between linear PCM and the payload formats carried
// in RTP: G.711 mu-law and A-law (and, in their own files, wideband codecs).
package codec

import (
	"strings"

	"github.com/zaf/g711"
)

// Codec describes one audio payload format and converts frames of it.
// Encode and Decode append to dst and return it, so the 20 ms path can reuse
// buffers and allocate nothing.
type Codec interface {
	// Name is the SDP encoding name (rtpmap), e.g. "PCMU".
	Name() string
	// PayloadType is the static RTP payload type, or -1 when dynamic.
	PayloadType() int
	// ClockRate is the RTP timestamp rate (8000 for G.722 by RFC 3551 quirk).
	ClockRate() int
	// SampleRate is the PCM rate the codec consumes and produces.
	SampleRate() int
	Encode(dst []byte, pcm []int16) []byte
	Decode(dst []int16, payload []byte) []int16
}

// PCMU is G.711 mu-law (RFC 3551 payload type 0).
type PCMU struct{}

func (PCMU) Name() string     { return "PCMU" }
func (PCMU) PayloadType() int { return 0 }
func (PCMU) ClockRate() int   { return 8000 }
func (PCMU) SampleRate() int  { return 8000 }

// Encode appends mu-law bytes for pcm to dst.
func (PCMU) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, g711.EncodeUlawFrame(s))
	}
	return dst
}

// Decode appends linear samples for payload to dst.
func (PCMU) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		dst = append(dst, g711.DecodeUlawFrame(b))
	}
	return dst
}

// PCMA is G.711 A-law (RFC 3551 payload type 8).
type PCMA struct{}

func (PCMA) Name() string     { return "PCMA" }
func (PCMA) PayloadType() int { return 8 }
func (PCMA) ClockRate() int   { return 8000 }
func (PCMA) SampleRate() int  { return 8000 }

// Encode appends A-law bytes for pcm to dst.
func (PCMA) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, g711.EncodeAlawFrame(s))
	}
	return dst
}

// Decode appends linear samples for payload to dst.
func (PCMA) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		dst = append(dst, g711.DecodeAlawFrame(b))
	}
	return dst
}

var registry = map[string]Codec{}

// Register makes a codec available to Lookup by its SDP name.
// It is called from init functions only.
func Register(c Codec) { registry[strings.ToUpper(c.Name())] = c }

// Lookup finds a codec by SDP encoding name and clock rate.
func Lookup(name string, clockRate int) (Codec, bool) {
	c, ok := registry[strings.ToUpper(name)]
	if !ok || c.ClockRate() != clockRate {
		return nil, false
	}
	return c, true
}

func init() {
	Register(PCMU{})
	Register(PCMA{})
}

var (
	_ Codec = PCMU{}
	_ Codec = PCMA{}
)
