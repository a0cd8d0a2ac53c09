package dtmf

import (
	"testing"
	"time"
)

// TestReplayedCapturesWithOldTimestamps plays key presses whose RTP
// timestamps repeat or go backwards, as SIPp does when it replays its
// RFC 2833 pcap files one after another: each press counts once.
func TestReplayedCapturesWithOldTimestamps(t *testing.T) {
	now := time.Unix(0, 0)
	var got []byte
	r := NewReceiver(8000, func(d Digit) { got = append(got, d.Key) }, WithClock(func() time.Time { return now }))
	press := func(code byte, ts uint32) {
		for i, pl := range [][]byte{
			{code, 10, 0, 0}, {code, 10, 1, 64}, {code, 10, 2, 128}, {code, 0x8a, 8, 192}, {code, 0x8a, 8, 192}, {code, 0x8a, 8, 192},
		} {
			if err := r.WriteRFC4733(ts, i == 0, pl); err != nil {
				t.Fatal(err)
			}
			now = now.Add(20 * time.Millisecond)
		}
	}
	press(3, 31040) // dtmf_2833_3.pcap
	now = now.Add(time.Second)
	press(0, 17632) // dtmf_2833_0.pcap: an older timestamp
	now = now.Add(time.Second)
	press(0, 17632) // the same capture again: same timestamp
	now = now.Add(time.Second)
	press(1, 13280)
	if string(got) != "3001" {
		t.Fatalf("digits %q, want \"3001\"", got)
	}
	// Retransmitted end packets arriving late do not make a new press.
	now = now.Add(400 * time.Millisecond)
	r.WriteRFC4733(13280, false, []byte{1, 0x8a, 8, 192})
	if string(got) != "3001" {
		t.Fatalf("a late end packet became a press: %q", got)
	}
}
