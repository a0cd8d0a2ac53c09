package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestParseSIPInfo(t *testing.T) {
	for _, c := range []struct {
		ct, body string
		key      byte
		dur      time.Duration
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond},
		{"Application/DTMF-Relay; charset=utf-8", "signal = #\nduration= 250", '#', 250 * time.Millisecond},
		{"application/dtmf-relay", "Signal=*\r\n", '*', 0},
		{"application/dtmf-relay", "Signal=11\r\nDuration=100\r\n", '#', 100 * time.Millisecond},
		{"application/dtmf-relay", "Signal=a\r\nDuration=junk\r\n", 'A', 0},
		{"application/dtmf", "7", '7', 0},
		{"application/dtmf", " D\r\n", 'D', 0},
		{"application/dtmf", "10", '*', 0},
		{"application/dtmf", "Signal=3\r\nDuration=90\r\n", '3', 90 * time.Millisecond},
	} {
		k, d, err := ParseSIPInfo(c.ct, []byte(c.body))
		if err != nil || k != c.key || d != c.dur {
			t.Errorf("%q %q: got %q %s %v, want %q %s", c.ct, c.body, k, d, err, c.key, c.dur)
		}
	}
}

func TestParseSIPInfoErrors(t *testing.T) {
	for _, c := range []struct {
		ct, body string
		want     error
	}{
		{"text/plain", "Signal=5", ErrContentType},
		{"application/sdp", "v=0", ErrContentType},
		{"application/dtmf-relay", "Duration=160", ErrBody},
		{"application/dtmf-relay", "Signal=!\r\n", ErrBody}, // hook flash is not a key
		{"application/dtmf-relay", "Signal=55\r\n", ErrBody},
		{"application/dtmf", "", ErrBody},
		{"application/dtmf", "16", ErrBody},
		{"application/dtmf", "x", ErrBody},
	} {
		if _, _, err := ParseSIPInfo(c.ct, []byte(c.body)); !errors.Is(err, c.want) {
			t.Errorf("%q %q: err %v, want %v", c.ct, c.body, err, c.want)
		}
	}
}

func TestFormatSIPInfoRoundTrip(t *testing.T) {
	for i := 0; i < len(keys); i++ {
		ct, body, err := FormatSIPInfo(keys[i], 120*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		k, d, err := ParseSIPInfo(ct, body)
		if err != nil || k != keys[i] || d != 120*time.Millisecond {
			t.Errorf("%c: %q -> %q %s %v", keys[i], body, k, d, err)
		}
	}
	if _, _, err := FormatSIPInfo('x', 0); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("bad key: %v", err)
	}
}

func FuzzSIPInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf; x=y", []byte("Signal=12\nDuration=99999999999999999999"))
	f.Add("APPLICATION/DTMF-RELAY", []byte("signal==\n=\n\r\n"))
	f.Add("", []byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		k, d, err := ParseSIPInfo(ct, body)
		if err != nil {
			if !errors.Is(err, ErrBody) && !errors.Is(err, ErrContentType) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if !ValidKey(k) || k >= 'a' || d < 0 {
			t.Fatalf("bad result %q %s", k, d)
		}
		// What parses round-trips through the sender's format.
		ct2, b2, err := FormatSIPInfo(k, d)
		if err != nil {
			t.Fatal(err)
		}
		k2, d2, err := ParseSIPInfo(ct2, b2)
		if err != nil || k2 != k || d2 != d.Truncate(time.Millisecond) {
			t.Fatalf("round trip %q %s -> %q %s %v", k, d, k2, d2, err)
		}
		n := 0
		r := NewReceiver(8000, func(Digit) { n++ })
		if err := r.WriteSIPInfo(ct, body); err != nil || n != 1 {
			t.Fatalf("receiver: %v, %d digits", err, n)
		}
	})
}
