// Package sdp does the SDP offer/answer exchange of RFC 3264 for audio
// calls: it reads a peer's offer (or answer), picks a codec in the peer's
// order of preference, and writes our side.
package sdp

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/openivr/ivr/codec"
)

// Errors the SIP layer maps to responses.
var (
	// ErrNoCommonCodec means the offer has no audio format we support (488).
	ErrNoCommonCodec = errors.New("sdp: no common audio codec")
	// ErrNoAudio means the offer has no usable audio stream (488).
	ErrNoAudio = errors.New("sdp: no audio stream")
	// ErrMalformed means the body is not valid SDP (400).
	ErrMalformed = errors.New("sdp: malformed")
)

// Direction is the media direction attribute of RFC 3264 section 5.1.
type Direction string

const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Reverse is the direction an answerer uses for an offered direction.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Format is one RTP payload format of an audio stream.
type Format struct {
	PayloadType uint8
	Name        string // encoding name, e.g. "PCMU", "telephone-event"
	ClockRate   int
	Fmtp        string
}

// Media is the audio part of a session description, as the peer wrote it.
type Media struct {
	Addr      net.IP // where to send RTP; unspecified (0.0.0.0) means hold
	Port      int    // 0 means the stream is refused
	Proto     string // RTP/AVP, RTP/SAVP, ...
	Formats   []Format
	Direction Direction
	Ptime     int // ms, 0 when absent
}

// OnHold reports whether the peer asked us not to send (RFC 3264 section 8.4,
// and the older c=0.0.0.0 form of RFC 2543).
func (m *Media) OnHold() bool {
	return m.Direction == SendOnly || m.Direction == Inactive || m.Addr.IsUnspecified()
}

// Parse reads the first audio stream of an SDP body.
func Parse(body []byte) (*Media, error) {
	var s psdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	sessDir := directionOf(s.Attributes, SendRecv)
	var sessAddr net.IP
	if s.ConnectionInformation != nil && s.ConnectionInformation.Address != nil {
		sessAddr = net.ParseIP(s.ConnectionInformation.Address.Address)
	}
	for _, md := range s.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		m := &Media{
			Port:      md.MediaName.Port.Value,
			Proto:     strings.Join(md.MediaName.Protos, "/"),
			Direction: directionOf(md.Attributes, sessDir),
			Addr:      sessAddr,
		}
		if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
			m.Addr = net.ParseIP(md.ConnectionInformation.Address.Address)
		}
		if m.Port != 0 && m.Addr == nil {
			return nil, fmt.Errorf("%w: audio stream without a usable connection address", ErrMalformed)
		}
		if v, ok := attr(md.Attributes, "ptime"); ok {
			m.Ptime, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		for _, f := range md.MediaName.Formats {
			pt, err := strconv.Atoi(f)
			if err != nil || pt < 0 || pt > 127 {
				continue // RFC 4566 allows non-RTP formats; not ours
			}
			m.Formats = append(m.Formats, formatOf(uint8(pt), md.Attributes))
		}
		return m, nil
	}
	return nil, ErrNoAudio
}

// staticFormats are RFC 3551 static payload types, used when no rtpmap names them.
var staticFormats = map[uint8]Format{
	0: {PayloadType: 0, Name: "PCMU", ClockRate: 8000},
	8: {PayloadType: 8, Name: "PCMA", ClockRate: 8000},
	9: {PayloadType: 9, Name: "G722", ClockRate: 8000},
}

func formatOf(pt uint8, attrs []psdp.Attribute) Format {
	f, ok := staticFormats[pt]
	if !ok {
		f = Format{PayloadType: pt}
	}
	prefix := strconv.Itoa(int(pt)) + " "
	for _, a := range attrs {
		switch a.Key {
		case "rtpmap":
			if rest, ok := strings.CutPrefix(a.Value, prefix); ok {
				name, rate, _ := strings.Cut(strings.TrimSpace(rest), "/")
				rate, _, _ = strings.Cut(rate, "/") // drop channel count
				f.Name = name
				f.ClockRate, _ = strconv.Atoi(rate)
			}
		case "fmtp":
			if rest, ok := strings.CutPrefix(a.Value, prefix); ok {
				f.Fmtp = strings.TrimSpace(rest)
			}
		}
	}
	return f
}

func attr(attrs []psdp.Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

func directionOf(attrs []psdp.Attribute, def Direction) Direction {
	for _, a := range attrs {
		switch Direction(a.Key) {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return Direction(a.Key)
		}
	}
	return def
}

// Negotiated is the outcome of offer/answer for one call.
type Negotiated struct {
	Codec     codec.Codec
	PT        uint8 // payload type of Codec in this session
	DTMFPT    int   // telephone-event payload type, -1 when not agreed
	Remote    *net.UDPAddr
	Direction Direction // our direction
	Ptime     int       // ms
}

// Negotiate picks, in the offerer's order, the first format whose codec is
// in supported (names as in SDP, e.g. "PCMU"), and telephone-event at the
// codec's clock rate when offered.
func Negotiate(offer *Media, supported []string) (*Negotiated, error) {
	if offer.Port == 0 {
		return nil, ErrNoAudio
	}
	if offer.Proto != "RTP/AVP" && offer.Proto != "RTP/AVPF" {
		return nil, fmt.Errorf("%w: transport %s", ErrNoCommonCodec, offer.Proto)
	}
	allowed := map[string]bool{}
	for _, s := range supported {
		allowed[strings.ToUpper(s)] = true
	}
	n := &Negotiated{DTMFPT: -1, Direction: offer.Direction.Reverse(), Ptime: 20}
	for _, f := range offer.Formats {
		if !allowed[strings.ToUpper(f.Name)] {
			continue
		}
		c, ok := codec.Lookup(f.Name, f.ClockRate)
		if !ok {
			continue
		}
		n.Codec, n.PT = c, f.PayloadType
		break
	}
	if n.Codec == nil {
		return nil, ErrNoCommonCodec
	}
	for _, f := range offer.Formats {
		if strings.EqualFold(f.Name, "telephone-event") && f.ClockRate == n.Codec.ClockRate() {
			n.DTMFPT = int(f.PayloadType)
			break
		}
	}
	n.Remote = &net.UDPAddr{IP: offer.Addr, Port: offer.Port}
	return n, nil
}

// Local describes our end of the session for writing SDP.
type Local struct {
	Addr      net.IP // address the peer sends RTP to
	Port      int
	SessionID uint64
	Version   uint64 // incremented on every change of our description (RFC 3264 section 8)
}

// Answer writes our answer for a negotiated session.
func Answer(l Local, n *Negotiated) []byte {
	formats := []Format{{PayloadType: n.PT, Name: n.Codec.Name(), ClockRate: n.Codec.ClockRate()}}
	if n.DTMFPT >= 0 {
		formats = append(formats, Format{PayloadType: uint8(n.DTMFPT), Name: "telephone-event", ClockRate: n.Codec.ClockRate(), Fmtp: "0-16"})
	}
	return write(l, formats, n.Direction)
}

// Offer writes an offer listing codecs (SDP names) in our preference, with
// telephone-event at 8 kHz as payload type 101.
func Offer(l Local, codecs []string, dir Direction) []byte {
	var formats []Format
	for _, name := range codecs {
		c, ok := codec.Lookup(name, 8000)
		if !ok {
			continue
		}
		pt := c.PayloadType()
		if pt < 0 {
			continue // dynamic codecs need a payload type allocator; none yet
		}
		formats = append(formats, Format{PayloadType: uint8(pt), Name: c.Name(), ClockRate: c.ClockRate()})
	}
	formats = append(formats, Format{PayloadType: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"})
	return write(l, formats, dir)
}

func write(l Local, formats []Format, dir Direction) []byte {
	ip := l.Addr.String()
	addrType := "IP4"
	if l.Addr.To4() == nil {
		addrType = "IP6"
	}
	s := psdp.SessionDescription{
		Origin: psdp.Origin{
			Username: "-", SessionID: l.SessionID, SessionVersion: l.Version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip,
		},
		SessionName: "ivr",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &psdp.Address{Address: ip},
		},
		TimeDescriptions: []psdp.TimeDescription{{}},
	}
	md := &psdp.MediaDescription{
		MediaName: psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: l.Port}, Protos: []string{"RTP", "AVP"}},
	}
	for _, f := range formats {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(f.PayloadType)))
	}
	for _, f := range formats {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/%d", f.PayloadType, f.Name, f.ClockRate)))
		if f.Fmtp != "" {
			md.Attributes = append(md.Attributes, psdp.NewAttribute("fmtp", fmt.Sprintf("%d %s", f.PayloadType, f.Fmtp)))
		}
	}
	md.Attributes = append(md.Attributes, psdp.NewAttribute("ptime", "20"), psdp.NewPropertyAttribute(string(dir)))
	s.MediaDescriptions = []*psdp.MediaDescription{md}
	b, err := s.Marshal()
	if err != nil {
		// Marshal fails only on impossible structures; we built a valid one.
		return nil
	}
	return b
}
