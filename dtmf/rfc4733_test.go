package dtmf

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestEventRoundTrip(t *testing.T) {
	for _, ev := range []Event{
		{Code: 0, Volume: 10, Duration: 0},
		{Code: 11, End: true, Volume: 63, Duration: 0xFFFF},
		{Code: 15, Volume: 7, Duration: 800},
	} {
		b := EncodeEvent(nil, ev)
		if len(b) != EventSize {
			t.Fatalf("%+v: %d bytes", ev, len(b))
		}
		got, err := DecodeEvent(b)
		if err != nil || got != ev {
			t.Errorf("round trip %+v: got %+v, %v", ev, got, err)
		}
	}
	// Wire layout from RFC 4733 §2.3: '5', E set, volume 10, duration 800.
	if b := EncodeEvent(nil, Event{Code: 5, End: true, Volume: 10, Duration: 800}); !bytes.Equal(b, []byte{5, 0x8a, 0x03, 0x20}) {
		t.Errorf("wire form % x", b)
	}
	// The R bit is ignored on receipt (§2.3.3).
	if ev, _ := DecodeEvent([]byte{1, 0x40 | 5, 0, 160}); ev != (Event{Code: 1, Volume: 5, Duration: 160}) {
		t.Errorf("R bit: %+v", ev)
	}
}

func TestParseEventsErrors(t *testing.T) {
	for _, p := range [][]byte{nil, {1}, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, err := ParseEvents(nil, p); !errors.Is(err, ErrShortPayload) {
			t.Errorf("% x: err %v", p, err)
		}
	}
	evs, err := ParseEvents(nil, []byte{1, 0x80, 0, 160, 2, 0, 0, 80})
	if err != nil || len(evs) != 2 || evs[1].Code != 2 {
		t.Errorf("two blocks: %+v %v", evs, err)
	}
}

func TestScheduleShortPress(t *testing.T) {
	pk, err := Schedule(nil, '7', 120*time.Millisecond, ScheduleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 0, 50, 100 ms updates, then three ends at 120 ms (+20, +40).
	if len(pk) != 6 {
		t.Fatalf("%d packets: %+v", len(pk), pk)
	}
	if !pk[0].Marker || pk[1].Marker || pk[0].At != 0 || pk[2].Event.Duration != 800 {
		t.Errorf("start/update packets wrong: %+v", pk[:3])
	}
	for i, p := range pk[3:] {
		if !p.Event.End || p.Event.Duration != 960 || p.Event.Code != 7 || p.At != 120*time.Millisecond+time.Duration(i)*20*time.Millisecond {
			t.Errorf("end packet %d: %+v", i, p)
		}
	}
}

func TestScheduleLongPressSegments(t *testing.T) {
	// 20 s at 8 kHz = 160000 units: segments of 65535, 65535, 28930.
	pk, err := Schedule(nil, '#', 20*time.Second, ScheduleOptions{Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var offsets []uint32
	for _, p := range pk {
		if len(offsets) == 0 || offsets[len(offsets)-1] != p.TimestampOffset {
			offsets = append(offsets, p.TimestampOffset)
		}
		if p.Marker && p.TimestampOffset != 0 {
			t.Errorf("marker on a later segment: %+v", p)
		}
	}
	if len(offsets) != 3 || offsets[1] != 0xFFFF || offsets[2] != 2*0xFFFF {
		t.Errorf("segment offsets %v", offsets)
	}
	last := pk[len(pk)-1]
	if !last.Event.End || uint32(last.Event.Duration) != 160000-2*0xFFFF {
		t.Errorf("last packet %+v", last)
	}
	// A receiver given these packets emits exactly one press.
	var got []Digit
	r := NewReceiver(8000, func(d Digit) { got = append(got, d) })
	for _, p := range pk {
		if err := r.WriteRFC4733(1000+p.TimestampOffset, p.Marker, EncodeEvent(nil, p.Event)); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Key != '#' {
		t.Errorf("long press gave %v", got)
	}
}

func TestScheduleErrors(t *testing.T) {
	if _, err := Schedule(nil, 'x', time.Second, ScheduleOptions{}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("bad key: %v", err)
	}
	for _, d := range []time.Duration{0, -time.Second, time.Hour} {
		if _, err := Schedule(nil, '1', d, ScheduleOptions{}); err == nil {
			t.Errorf("duration %s accepted", d)
		}
	}
}

// feedSchedule sends one press's packets to r, dropping those for which
// drop returns true, with the event starting at RTP timestamp ts.
func feedSchedule(t *testing.T, r *Receiver, key byte, ts uint32, drop func(i int, p Packet) bool) {
	t.Helper()
	pk, err := Schedule(nil, key, 100*time.Millisecond, ScheduleOptions{Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pk {
		if drop != nil && drop(i, p) {
			continue
		}
		if err := r.WriteRFC4733(ts+p.TimestampOffset, p.Marker, EncodeEvent(nil, p.Event)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRFC4733LossMatrix(t *testing.T) {
	// Each digit under each loss pattern must come out once (the livekit
	// digits x packet-loss matrix).
	patterns := map[string]func(i int, p Packet) bool{
		"none":           nil,
		"lost start":     func(i int, p Packet) bool { return p.Marker },
		"lost all ends":  func(i int, p Packet) bool { return p.Event.End },
		"only ends":      func(i int, p Packet) bool { return !p.Event.End },
		"only last end":  func(i int, p Packet) bool { return i != 7 },
		"every other":    func(i int, p Packet) bool { return i%2 == 1 },
		"all but update": func(i int, p Packet) bool { return i != 2 },
	}
	for name, drop := range patterns {
		var got []byte
		r := NewReceiver(8000, func(d Digit) { got = append(got, d.Key) })
		ts := uint32(0xFFFFF000) // crosses the 32-bit wrap
		for i := 0; i < len(keys); i++ {
			feedSchedule(t, r, keys[i], ts, drop)
			ts += 2000
		}
		if string(got) != keys {
			t.Errorf("%s: got %q, want %q", name, got, keys)
		}
	}
}

func TestRFC4733RepeatedKeyAndDuplicates(t *testing.T) {
	var got []Digit
	r := NewReceiver(8000, func(d Digit) { got = append(got, d) })
	send := func(ts uint32, m bool, ev Event) {
		if err := r.WriteRFC4733(ts, m, EncodeEvent(nil, ev)); err != nil {
			t.Fatal(err)
		}
	}
	// Two presses of 3 with different timestamps, each end sent 3 times,
	// plus a late duplicate of the first press's start.
	send(100, true, Event{Code: 3, Duration: 160})
	send(100, false, Event{Code: 3, End: true, Duration: 640})
	send(100, false, Event{Code: 3, End: true, Duration: 640})
	send(1000, true, Event{Code: 3, Duration: 160})
	send(100, true, Event{Code: 3, Duration: 160}) // late duplicate
	send(1000, false, Event{Code: 3, End: true, Duration: 480})
	send(1000, false, Event{Code: 3, End: true, Duration: 480})
	if len(got) != 2 || got[0].Key != '3' || got[1].Key != '3' || got[0].Source != RFC4733 {
		t.Fatalf("got %v", got)
	}
	if got[0].Duration != 20*time.Millisecond {
		t.Errorf("duration at key-down %s, want 20ms", got[0].Duration)
	}
	// A non-DTMF event (16, flash) is absorbed without a digit.
	send(5000, true, Event{Code: 16, Duration: 160})
	if len(got) != 2 {
		t.Errorf("flash emitted a digit: %v", got)
	}
	// A timestamp far in the past (sender restarted) is a new press.
	send(uint32(1<<32-195000), true, Event{Code: 9, Duration: 160})
	if len(got) != 3 || got[2].Key != '9' {
		t.Errorf("after timestamp jump: %v", got)
	}
	if err := r.WriteRFC4733(1, false, []byte{1, 2}); !errors.Is(err, ErrShortPayload) {
		t.Errorf("short payload: %v", err)
	}
	if r.Stats().BadInput != 1 {
		t.Errorf("stats %+v", r.Stats())
	}
}

func TestRFC4733MultipleEventsInPacket(t *testing.T) {
	// §2.5.1.5: events packed back to back; each starts where the
	// previous ended.
	var got []byte
	r := NewReceiver(8000, func(d Digit) { got = append(got, d.Key) })
	p := EncodeEvent(nil, Event{Code: 1, End: true, Duration: 800})
	p = EncodeEvent(p, Event{Code: 2, End: true, Duration: 800})
	for i := 0; i < 3; i++ { // retransmitted
		if err := r.WriteRFC4733(4000, false, p); err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != "12" {
		t.Errorf("got %q", got)
	}
}

func FuzzRFC4733(f *testing.F) {
	f.Add(uint32(0), true, []byte{5, 0x0a, 0x00, 0xa0})
	f.Add(uint32(160), false, []byte{5, 0x8a, 0x03, 0x20})
	f.Add(uint32(0xFFFFFFFF), false, []byte{1, 0x80, 0, 160, 2, 0, 0, 80})
	f.Add(uint32(7), true, []byte{})
	f.Add(uint32(7), true, []byte{200, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, ts uint32, marker bool, payload []byte) {
		n := 0
		r := NewReceiver(8000, func(d Digit) {
			if !ValidKey(d.Key) || d.Source != RFC4733 {
				t.Fatalf("bad digit %+v", d)
			}
			n++
		})
		evs, perr := ParseEvents(nil, payload)
		err := r.WriteRFC4733(ts, marker, payload)
		if (err == nil) != (perr == nil) {
			t.Fatalf("receiver err %v, parser err %v", err, perr)
		}
		if err == nil {
			if len(evs) != len(payload)/EventSize {
				t.Fatalf("%d events from %d bytes", len(evs), len(payload))
			}
			var re []byte
			for _, ev := range evs {
				re = EncodeEvent(re, ev)
			}
			for i := range re { // all but the R bit survive a round trip
				if re[i] != payload[i]&^byte(boolBit(i%4 == 1)*0x40) {
					t.Fatalf("round trip % x -> % x", payload, re)
				}
			}
		}
		if n > min(len(payload)/EventSize, maxEventsPerPacket) {
			t.Fatalf("%d digits from %d blocks", n, len(payload)/EventSize)
		}
		// The same packet again never emits.
		before := n
		_ = r.WriteRFC4733(ts, marker, payload)
		if n != before {
			t.Fatalf("duplicate packet emitted again")
		}
	})
}

func boolBit(b bool) int {
	if b {
		return 1
	}
	return 0
}
