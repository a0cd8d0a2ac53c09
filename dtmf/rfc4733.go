package dtmf

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Event is one RFC 4733 event block (RFC 4733 §2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Event struct {
	// Code is the event code (§2.3.1); 0-15 are DTMF keys (§3.2).
	Code uint8
	// End is the E bit (§2.3.2): this packet reports the end of the event.
	End bool
	// Volume is the power level of the tone as -dBm0, 0 to 63 (§2.3.4).
	Volume uint8
	// Duration is the event's length so far in RTP timestamp units, from
	// the event's (segment's) RTP timestamp (§2.3.5).
	Duration uint16
}

// EventSize is the length of one event block on the wire.
const EventSize = 4

// Key returns the DTMF key of the event and whether the event is a key.
func (e Event) Key() (byte, bool) { return KeyOf(e.Code) }

// EncodeEvent appends the 4-byte wire form of ev to dst (RFC 4733 §2.3).
// The R bit is sent as zero; Volume is truncated to its 6 bits.
func EncodeEvent(dst []byte, ev Event) []byte {
	b1 := ev.Volume & 0x3f
	if ev.End {
		b1 |= 0x80
	}
	return append(dst, ev.Code, b1, byte(ev.Duration>>8), byte(ev.Duration))
}

// DecodeEvent decodes the first event block of payload. The R bit is
// ignored, as §2.3.3 tells receivers to do.
func DecodeEvent(payload []byte) (Event, error) {
	if len(payload) < EventSize {
		return Event{}, fmt.Errorf("%w: %d bytes", ErrShortPayload, len(payload))
	}
	return Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}, nil
}

// ParseEvents appends every event block of an RFC 4733 payload to dst. A
// payload may carry several blocks (§2.5.1.5); it must be a whole number of
// blocks and at least one. It allocates nothing when dst has room.
func ParseEvents(dst []Event, payload []byte) ([]Event, error) {
	if len(payload) == 0 || len(payload)%EventSize != 0 {
		return dst, fmt.Errorf("%w: %d bytes", ErrShortPayload, len(payload))
	}
	for len(payload) >= EventSize {
		ev, _ := DecodeEvent(payload)
		dst = append(dst, ev)
		payload = payload[EventSize:]
	}
	return dst, nil
}

// Packet is one RTP packet of a telephone-event as a sender emits it.
type Packet struct {
	// At is when to send the packet, counted from the key-down.
	At time.Duration
	// Marker is the RTP marker bit: set on the first packet of the event
	// only (§2.5.1.2).
	Marker bool
	// TimestampOffset is added to the RTP timestamp chosen for the key-down
	// (the event's start). It is non-zero only for the later segments of a
	// long event (§2.5.1.3).
	TimestampOffset uint32
	// Event is the payload; encode it with EncodeEvent.
	Event Event
}

// ScheduleOptions tunes Schedule. Zero fields take the defaults shown.
type ScheduleOptions struct {
	// ClockRate is the telephone-event RTP clock, Hz (default 8000; WebRTC
	// peers negotiate telephone-event/48000).
	ClockRate int
	// Interval is the spacing of updates while the key is down (default
	// 50 ms, the interval RFC 4733 §2.5.1.2 suggests).
	Interval time.Duration
	// EndSpacing separates the three end packets (default 20 ms).
	EndSpacing time.Duration
	// Volume is the tone power reported, as -dBm0 (default 10).
	Volume uint8
}

// maxEventDuration bounds Schedule so that a bad argument cannot make it
// produce millions of packets.
const maxEventDuration = 10 * time.Minute

// Schedule appends to dst the packets an RTP sender emits for one key
// press of length dur (RFC 4733 §2.5.1): a first packet with the marker bit
// at key-down, an update every Interval with the duration so far, and the
// final packet with the E bit sent three times (§2.5.1.4). All packets of a
// segment share one RTP timestamp; an event longer than the 16-bit duration
// field is split into segments (§2.5.1.3): a segment closes with duration
// 0xFFFF and no E bit, and the next starts at TimestampOffset+0xFFFF without
// the marker.
func Schedule(dst []Packet, key byte, dur time.Duration, o ScheduleOptions) ([]Packet, error) {
	code := EventCode(key)
	if code < 0 {
		return dst, fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	if dur <= 0 || dur > maxEventDuration {
		return dst, fmt.Errorf("dtmf: event duration %s out of range (0, %s]", dur, maxEventDuration)
	}
	if o.ClockRate <= 0 {
		o.ClockRate = 8000
	}
	if o.ClockRate > 192000 {
		return dst, fmt.Errorf("dtmf: clock rate %d out of range", o.ClockRate)
	}
	if o.Interval <= 0 {
		o.Interval = 50 * time.Millisecond
	}
	if o.EndSpacing <= 0 {
		o.EndSpacing = 20 * time.Millisecond
	}
	if o.Volume > 63 {
		o.Volume = 63
	}
	units := func(d time.Duration) uint64 { return uint64(d) * uint64(o.ClockRate) / uint64(time.Second) }
	total := units(dur)
	const segMax = 0xFFFF
	var segStart uint64 // timestamp offset of the current segment
	ev := Event{Code: uint8(code), Volume: o.Volume}
	for at := time.Duration(0); at < dur; at += o.Interval {
		elapsed := units(at)
		for elapsed-segStart > segMax {
			// Close the segment at its maximum and open the next (§2.5.1.3).
			ev.Duration = segMax
			dst = append(dst, Packet{At: at, TimestampOffset: uint32(segStart), Event: ev})
			segStart += segMax
		}
		ev.Duration = uint16(elapsed - segStart)
		dst = append(dst, Packet{At: at, Marker: at == 0, TimestampOffset: uint32(segStart), Event: ev})
	}
	for total-segStart > segMax {
		ev.Duration = segMax
		dst = append(dst, Packet{At: dur, TimestampOffset: uint32(segStart), Event: ev})
		segStart += segMax
	}
	ev.End = true
	ev.Duration = uint16(total - segStart)
	for i := 0; i < 3; i++ {
		dst = append(dst, Packet{At: dur + time.Duration(i)*o.EndSpacing, TimestampOffset: uint32(segStart), Event: ev})
	}
	return dst, nil
}

// eventTracker follows the telephone-events of one RTP stream and decides
// which packets start a new key press (RFC 4733 §2.5.2). It is not safe for
// concurrent use; the Receiver locks around it.
//
// A new press is recognised by its RTP timestamp: every packet of an event
// (start, updates, retransmitted ends) carries the timestamp of the
// key-down, so the first packet that arrives with a new timestamp starts a
// press whether or not the marker packet was lost, and packets with the
// current or an earlier timestamp are duplicates or late arrivals. A later
// segment of a long event (§2.5.1.3, §2.5.2.3) has a new timestamp that
// continues the current event without an end; it is not a new press.
type eventTracker struct {
	have     bool
	code     uint8
	segTS    uint32 // RTP timestamp of the current segment
	dur      uint32 // largest duration seen in the current segment
	ended    bool
	lastSeen time.Time
	recent   [16]uint32 // start timestamps of earlier events, ring
	recentN  int
	stale    uint32 // how far back (timestamp units) a packet counts as late, not new
}

// trackResult says what one event block meant.
type trackResult uint8

const (
	trackDuplicate trackResult = iota // a packet of an event already reported, or late
	trackNew                          // the first packet seen of a new key press
)

// observe feeds one event block whose own start timestamp is ts.
func (t *eventTracker) observe(ts uint32, ev Event, now time.Time) trackResult {
	prev := t.lastSeen
	t.lastSeen = now
	if t.have && t.ended && restarted(now.Sub(prev), ev) {
		// The last event ended a while ago and a key is down again: a new
		// press even if its timestamp repeats or goes back (an endpoint
		// that restarts its clock, or a replayed capture such as SIPp's
		// RFC 2833 pcaps). Forget the old timestamps.
		t.recentN = 0
		t.have = false
	}
	if t.have {
		d := ts - t.segTS
		switch {
		case d == 0 && ev.Code == t.code:
			if uint32(ev.Duration) > t.dur {
				t.dur = uint32(ev.Duration)
			}
			if ev.End {
				t.ended = true
			}
			return trackDuplicate
		case ev.Code == t.code && !t.ended && d >= t.dur && d <= 0x10000 && t.dur >= 0xC000:
			// The next segment of a long event (§2.5.1.3).
			t.segTS, t.dur, t.ended = ts, uint32(ev.Duration), ev.End
			return trackDuplicate
		case int32(d) < 0 && -int64(int32(d)) <= int64(t.stale):
			// Older than the current event: a late or retransmitted packet.
			return trackDuplicate
		}
		for i := 0; i < len(t.recent) && i < t.recentN; i++ {
			if t.recent[i] == ts {
				return trackDuplicate
			}
		}
		t.recent[t.recentN%len(t.recent)] = t.segTS
		t.recentN++
		if t.recentN >= 2*len(t.recent) {
			t.recentN -= len(t.recent)
		}
	}
	t.have = true
	t.code, t.segTS, t.dur, t.ended = ev.Code, ts, uint32(ev.Duration), ev.End
	return trackNew
}

// newPressGap is the silence after an ended event beyond which a packet
// that is not an end packet starts a new press whatever its timestamp. End
// retransmissions follow the end within tens of milliseconds (RFC 4733
// section 2.5.1.4); a press and its release take at least 40 + 40 ms.
const newPressGap = 250 * time.Millisecond

func restarted(gap time.Duration, ev Event) bool {
	return gap >= newPressGap && !ev.End || gap >= 4*newPressGap
}

// activeKey returns the key of an event that is down (started, not ended,
// heard from within maxAge) and whether there is one.
func (t *eventTracker) activeKey(now time.Time, maxAge time.Duration) (byte, bool) {
	if !t.have || t.ended || now.Sub(t.lastSeen) > maxAge {
		return 0, false
	}
	return KeyOf(t.code)
}
