package dtmf

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the receiver.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type keyPress struct {
	key   byte
	start time.Duration // from the start of the call
	dur   time.Duration
}

// simulateCall plays presses to a receiver as an endpoint would: in-band
// tones in 20 ms frames (if inBand) and RFC 4733 packets arriving
// rfcDelay after the audio they describe (if rfc; lose drops presses'
// events by index). It returns the emitted digits.
func simulateCall(t *testing.T, presses []keyPress, inBand, rfc bool, rfcDelay time.Duration, lose func(i int) bool) []Digit {
	t.Helper()
	const rate = 8000
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var got []Digit
	r := NewReceiver(rate, func(d Digit) { got = append(got, d) }, WithClock(clk.now))
	total := presses[len(presses)-1].start + presses[len(presses)-1].dur + 500*time.Millisecond
	g := newSig(rate, 1)
	for _, p := range presses {
		g.silence(p.start - time.Duration(len(g.s))*time.Second/rate)
		if inBand {
			g.key(p.key, p.dur, -10)
		} else {
			g.silence(p.dur)
		}
	}
	g.silence(total - time.Duration(len(g.s))*time.Second/rate)
	g.noise(30)
	pcm := g.pcm()

	type pkt struct {
		at     time.Duration
		ts     uint32
		marker bool
		ev     Event
	}
	var pkts []pkt
	if rfc {
		for i, p := range presses {
			if lose != nil && lose(i) {
				continue
			}
			sch, err := Schedule(nil, p.key, p.dur, ScheduleOptions{Interval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ts := uint32(p.start * rate / time.Second)
			for _, s := range sch {
				pkts = append(pkts, pkt{at: p.start + s.At + rfcDelay, ts: ts + s.TimestampOffset, marker: s.Marker, ev: s.Event})
			}
		}
	}
	frame := rate / 50
	for i := 0; i+frame <= len(pcm); i += frame {
		now := time.Duration(i+frame) * time.Second / rate
		for len(pkts) > 0 && pkts[0].at <= now {
			clk.set(time.Unix(1000, 0).Add(pkts[0].at))
			if err := r.WriteRFC4733(pkts[0].ts, pkts[0].marker, EncodeEvent(nil, pkts[0].ev)); err != nil {
				t.Fatal(err)
			}
			pkts = pkts[1:]
		}
		clk.set(time.Unix(1000, 0).Add(now))
		r.WritePCM(pcm[i : i+frame])
	}
	return got
}

func digitString(ds []Digit) string {
	b := make([]byte, len(ds))
	for i, d := range ds {
		b[i] = d.Key
	}
	return string(b)
}

func TestReceiverOneDigitPerPressAcrossSources(t *testing.T) {
	ms := time.Millisecond
	// Same-key presses 200 ms apart (a fast human; autodialers go faster).
	fast := []keyPress{{'1', 100 * ms, 60 * ms}, {'2', 200 * ms, 60 * ms}, {'1', 300 * ms, 60 * ms}, {'1', 500 * ms, 60 * ms}, {'#', 620 * ms, 200 * ms}}
	want := "1211#"
	for _, c := range []struct {
		name          string
		inBand, rfc   bool
		delay         time.Duration
		lose          func(int) bool
		wantFirstFrom Source
	}{
		{"in-band only", true, false, 0, nil, InBand},
		{"rfc4733 only", false, true, 0, nil, RFC4733},
		{"both, events on time", true, true, 0, nil, RFC4733},
		{"both, events 80 ms late", true, true, 80 * ms, nil, InBand},
		{"both, audio 100 ms behind events", true, true, -100 * ms, nil, RFC4733},
		{"both, one press's events lost", true, true, 0, func(i int) bool { return i == 2 }, RFC4733},
	} {
		got := simulateCall(t, fast, c.inBand, c.rfc, c.delay, c.lose)
		if digitString(got) != want {
			t.Errorf("%s: got %q, want %q (%v)", c.name, digitString(got), want, got)
			continue
		}
		if got[0].Source != c.wantFirstFrom {
			t.Errorf("%s: first digit from %s, want %s", c.name, got[0].Source, c.wantFirstFrom)
		}
	}
}

func TestReceiverLongPressBothSources(t *testing.T) {
	// A 3 s press with a 10 ms hole in the tone: one digit.
	got := simulateCall(t, []keyPress{{'0', 100 * time.Millisecond, 3 * time.Second}}, true, true, 0, nil)
	if digitString(got) != "0" {
		t.Errorf("got %v", got)
	}
}

func TestReceiverSIPInfoAndRFC4733(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	var got []Digit
	r := NewReceiver(8000, func(d Digit) { got = append(got, d) }, WithClock(clk.now))
	_ = r.WriteRFC4733(160, true, EncodeEvent(nil, Event{Code: 4, Duration: 0}))
	clk.set(clk.t.Add(80 * time.Millisecond))
	if err := r.WriteSIPInfo("application/dtmf-relay", []byte("Signal=4\r\nDuration=100\r\n")); err != nil {
		t.Fatal(err)
	}
	// A second INFO for 4 a second later is a new press.
	clk.set(clk.t.Add(time.Second))
	_ = r.WriteSIPInfo("application/dtmf", []byte("4"))
	if digitString(got) != "44" || got[0].Source != RFC4733 || got[1].Source != SIPInfo {
		t.Errorf("got %v", got)
	}
	if s := r.Stats(); s.Emitted != 2 || s.Duplicates != 1 {
		t.Errorf("stats %+v", s)
	}
	if err := r.WriteSIPInfo("text/plain", []byte("4")); err == nil {
		t.Error("text/plain accepted")
	}
}

func TestReceiverUnsupportedRate(t *testing.T) {
	r := NewReceiver(4000, nil)
	if r.InBand() {
		t.Fatal("in-band on at 4 kHz")
	}
	r.WritePCM(make([]int16, 80)) // ignored, no panic
	if !r.SetRate(16000) || !r.InBand() {
		t.Error("SetRate(16000) did not enable in-band detection")
	}
}

func TestReceiverWritePCMAllocs(t *testing.T) {
	r := NewReceiver(8000, func(Digit) {})
	pcm, _ := Tones("123", 8000, 60*time.Millisecond, 60*time.Millisecond, -10)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		if i+160 > len(pcm) {
			i = 0
		}
		r.WritePCM(pcm[i : i+160])
		i += 160
	})
	if allocs != 0 {
		t.Errorf("WritePCM allocates %.1f per frame", allocs)
	}
}

func TestReceiverConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	n := 0
	r := NewReceiver(8000, func(Digit) { mu.Lock(); n++; mu.Unlock() })
	pcm, _ := Tones("55", 8000, 60*time.Millisecond, 60*time.Millisecond, -10)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := 0; i+160 <= len(pcm); i += 160 {
			r.WritePCM(pcm[i : i+160])
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			_ = r.WriteRFC4733(uint32(i*4000), true, EncodeEvent(nil, Event{Code: 5, End: true, Duration: 400}))
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			_ = r.WriteSIPInfo("application/dtmf", []byte("5"))
			_ = r.Stats()
		}
	}()
	wg.Wait()
	if s := r.Stats(); s.Emitted != n || n == 0 {
		t.Errorf("emitted %d, stats %+v", n, s)
	}
}

func FuzzDetector(f *testing.F) {
	tone, _ := Tones("1#", 8000, 50*time.Millisecond, 50*time.Millisecond, -10)
	seed := make([]byte, 2*len(tone))
	for i, v := range tone {
		seed[2*i], seed[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	f.Add(seed, uint8(0))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		rate := []int{8000, 16000, 48000}[int(mode)%3]
		pcm := make([]int16, len(b)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		}
		d, err := NewDetector(rate, DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		chunk := 1 + int(mode)%200
		var out []Detection
		for len(pcm) > 0 {
			n := min(chunk, len(pcm))
			out = d.Process(pcm[:n], out)
			pcm = pcm[n:]
		}
		for _, x := range out {
			if !ValidKey(x.Key) || x.At < x.Start {
				t.Fatalf("bad detection %+v", x)
			}
		}
	})
}
