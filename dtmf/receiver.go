package dtmf

import (
	"sync"
	"time"
)

// Receiver is the per-call DTMF front end. It takes decoded inbound audio
// (in-band tones), RFC 4733 payloads and SIP INFO bodies, and calls emit
// once per key press, whichever and however many of the three carried it.
//
// Emission is at key-down, as early as it is reliable: on the first packet
// of a new RFC 4733 event (any packet: the marker packet may be lost), on a
// SIP INFO request, or when the in-band detector has seen the tone for
// about 35 ms (Q.24 forbids accepting tones of 23 ms or less, so no
// in-band receiver can be much faster).
//
// De-duplication across sources: each report carries an estimate of its
// key-down time (report time less the duration so far). A report pairs with
// the oldest emitted press of the same key, from a different source, whose
// key-down is within the dedup window (150 ms between RFC 4733 and in-band,
// 1 s when SIP INFO is involved), and is then dropped; an in-band tone is
// also dropped while an RFC 4733 event for the same key is down. So an
// endpoint that sends both tones and events yields one digit per press,
// and the in-band detector still covers presses whose events were lost.
// The limit: when events are lost for one of two presses of the same key
// less than the window apart, the two presses can merge into one.
//
// All methods are safe for concurrent use. emit is called synchronously,
// from the goroutine that delivered the press and with the receiver's lock
// held, so it must not block and must not call the Receiver; a
// non-blocking channel send is the intended use.
type Receiver struct {
	emit       func(Digit)
	now        func() time.Time
	window     time.Duration // pairing of RFC 4733 and in-band reports
	infoWindow time.Duration // pairing involving SIP INFO, which takes the slower signalling path
	eventRate  int
	params     Params

	pcmMu sync.Mutex // guards det and dets; taken before mu
	det   *Detector  // nil when the PCM rate is not supported
	dets  []Detection

	mu      sync.Mutex // guards the fields below and serialises emit
	events  eventTracker
	presses [16]press // recent emitted presses, ring
	next    int
	stats   ReceiverStats
}

// press is one emitted key press and the sources that reported it.
type press struct {
	key     byte
	down    time.Time // estimated key-down: report time less the duration so far
	sources uint8     // bit 1<<Source
}

// ReceiverStats counts what a Receiver saw, for call records and logs.
type ReceiverStats struct {
	Emitted    int // digits emitted
	Duplicates int // reports dropped as another source's copy of a press
	BadInput   int // RFC 4733 payloads or INFO bodies that did not parse
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithClock sets the clock used to time presses for de-duplication and
// Digit.At (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(r *Receiver) {
		if now != nil {
			r.now = now
		}
	}
}

// WithDedupWindow sets how far apart the key-down times that an RFC 4733
// event and an in-band tone report may be for them to count as one press
// (default 150 ms; SIP INFO pairs within 1 s).
func WithDedupWindow(d time.Duration) Option {
	return func(r *Receiver) {
		if d > 0 {
			r.window = d
		}
	}
}

// WithEventClockRate sets the RTP clock of the telephone-event payload in Hz
// (default 8000; WebRTC peers use 48000). It only scales durations.
func WithEventClockRate(hz int) Option {
	return func(r *Receiver) {
		if hz > 0 {
			r.eventRate = hz
		}
	}
}

// WithParams replaces the in-band detector's thresholds.
func WithParams(p Params) Option {
	return func(r *Receiver) { r.params = p }
}

// NewReceiver returns a receiver for one call whose decoded inbound audio
// is at rate Hz; emit is called once per key press. If rate is outside
// 8-96 kHz (or WithParams gave invalid thresholds) in-band detection is off
// and WritePCM ignores its input; InBand reports which.
func NewReceiver(rate int, emit func(Digit), opts ...Option) *Receiver {
	r := &Receiver{
		emit:       emit,
		now:        time.Now,
		window:     150 * time.Millisecond,
		infoWindow: time.Second,
		eventRate:  8000,
		params:     DefaultParams(),
	}
	for _, o := range opts {
		o(r)
	}
	if r.emit == nil {
		r.emit = func(Digit) {}
	}
	r.events.stale = uint32(10 * r.eventRate)
	r.det, _ = NewDetector(rate, r.params)
	r.dets = make([]Detection, 0, 4)
	return r
}

// InBand reports whether in-band detection is running.
func (r *Receiver) InBand() bool {
	r.pcmMu.Lock()
	defer r.pcmMu.Unlock()
	return r.det != nil
}

// SetRate switches in-band detection to a new PCM rate (after a re-INVITE
// changed the codec); tone state is lost. It reports whether in-band
// detection runs at the new rate.
func (r *Receiver) SetRate(rate int) bool {
	r.pcmMu.Lock()
	defer r.pcmMu.Unlock()
	if r.det != nil && r.det.Rate() == rate {
		return true
	}
	r.det, _ = NewDetector(rate, r.params)
	return r.det != nil
}

// WritePCM feeds decoded inbound audio (normally one 20 ms frame) to the
// in-band detector. It allocates nothing.
func (r *Receiver) WritePCM(samples []int16) {
	r.pcmMu.Lock()
	defer r.pcmMu.Unlock()
	if r.det == nil {
		return
	}
	r.dets = r.det.Process(samples, r.dets[:0])
	for _, d := range r.dets {
		dur := time.Duration(d.At-d.Start) * time.Second / time.Duration(r.det.Rate())
		r.accept(d.Key, InBand, dur)
	}
}

// WriteRFC4733 feeds the payload of one RTP packet of the negotiated
// telephone-event payload type, with its RTP timestamp and marker bit. A
// press is emitted on the first packet of a new event, whatever its kind;
// duplicates, updates, retransmitted ends and later segments of a long
// event are absorbed (RFC 4733 §2.5.2). Non-DTMF events are ignored. The
// error reports a malformed payload; the packet is then ignored.
func (r *Receiver) WriteRFC4733(ts uint32, marker bool, payload []byte) error {
	var buf [4]Event
	evs, err := ParseEvents(buf[:0], payload)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.BadInput++
		return err
	}
	now := r.now()
	start := ts
	if len(evs) > maxEventsPerPacket {
		// More than any sender packs (§2.5.1.5); the tracker's memory of
		// earlier events is sized for this many.
		evs = evs[:maxEventsPerPacket]
	}
	for _, ev := range evs {
		// Events packed in one packet follow each other (§2.5.1.5).
		if r.events.observe(start, ev, now) == trackNew {
			if k, ok := ev.Key(); ok {
				dur := time.Duration(ev.Duration) * time.Second / time.Duration(r.eventRate)
				r.acceptLocked(k, RFC4733, dur, now)
			}
		}
		start += uint32(ev.Duration)
	}
	return nil
}

// maxEventsPerPacket bounds the event blocks used from one packet.
const maxEventsPerPacket = 8

// WriteSIPInfo feeds the Content-Type and body of a SIP INFO request. The
// error (wrapping ErrContentType or ErrBody) tells the SIP layer to answer
// 415 or 400 instead of 200.
func (r *Receiver) WriteSIPInfo(contentType string, body []byte) error {
	k, dur, err := ParseSIPInfo(contentType, body)
	if err != nil {
		r.mu.Lock()
		r.stats.BadInput++
		r.mu.Unlock()
		return err
	}
	r.accept(k, SIPInfo, dur)
	return nil
}

// Stats returns the receiver's counters.
func (r *Receiver) Stats() ReceiverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Receiver) accept(key byte, src Source, dur time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acceptLocked(key, src, dur, r.now())
}

// acceptLocked emits a press unless it is another source's copy of one
// already emitted.
func (r *Receiver) acceptLocked(key byte, src Source, dur time.Duration, now time.Time) {
	bit := uint8(1) << src
	// Pair with the oldest press of this key from other sources whose
	// key-down was within the window of this one's.
	down := now.Add(-dur)
	if src == SIPInfo {
		down = now // INFO is sent at key-down; its Duration is the whole press
	}
	best := -1
	for i := range r.presses {
		p := &r.presses[i]
		if p.key != key || p.sources&bit != 0 {
			continue
		}
		w := r.window
		if src == SIPInfo || p.sources&(1<<SIPInfo) != 0 {
			w = r.infoWindow
		}
		if d := down.Sub(p.down); d > w || d < -w {
			continue
		}
		if best < 0 || p.down.Before(r.presses[best].down) {
			best = i
		}
	}
	if best >= 0 {
		r.presses[best].sources |= bit
		r.stats.Duplicates++
		return
	}
	// A tone that returns during a long RFC 4733 press (after a drop-out,
	// or beyond the window) belongs to that press.
	if src == InBand {
		if k, ok := r.events.activeKey(now, time.Second); ok && k == key {
			r.stats.Duplicates++
			return
		}
	}
	r.presses[r.next] = press{key: key, down: down, sources: bit}
	r.next = (r.next + 1) % len(r.presses)
	r.stats.Emitted++
	r.emit(Digit{Key: key, Source: src, Duration: dur, At: now})
}
