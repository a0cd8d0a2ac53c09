package webrtc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
)

// ErrEnded is returned by Answer when the call ended before it connected.
var ErrEnded = errors.New("webrtc: call ended")

// EndCause says why a browser call ended.
type EndCause string

// End causes.
const (
	endNone          EndCause = ""
	EndRemoteHangup  EndCause = "remote_hangup"  // the caller hung up (widget, DELETE, closed connection)
	EndLocalHangup   EndCause = "ivr_hangup"     // Hangup was called
	EndConnectFailed EndCause = "connect_failed" // ICE or DTLS did not complete in time
	EndMediaTimeout  EndCause = "media_timeout"  // connectivity lost (ICE failed)
	EndShutdown      EndCause = "shutdown"       // the server closed
	EndFailed        EndCause = "failed"         // the handler returned without hanging up
)

// Call is one browser call. It has the methods the dialog engine needs of
// a call (ID, From, Play, Digits, Done...) plus Caption for the widget's
// live captions and SetSink for the caller's audio. Its methods are safe
// for concurrent use.
type Call struct {
	srv *Server
	pc  *webrtc.PeerConnection
	log *slog.Logger

	// Set during signalling, then immutable.
	id, client, origin, flow string
	started                  time.Time
	rate                     int // PCM rate of the call in Hz
	out                      outCodec
	kinds                    [128]payloadKind // inbound payload types
	eventRates               [128]int         // clock rates of telephone-event payload types
	enc                      *opusEncoder     // set when we send Opus
	dec                      *opusDecoder     // set when we send Opus
	g722                     *codec.G722      // set when we send G.722
	track                    *webrtc.TrackLocalStaticSample
	sender                   *webrtc.RTPSender
	receiver                 *dtmf.Receiver

	mu          sync.Mutex
	src         audio.Source // what the clock plays; nil is silence
	srcDone     chan struct{}
	sink        func(audio.Frame)
	dc          *webrtc.DataChannel
	dcOpen      bool
	pending     []string // data channel messages waiting for it to open
	answered    time.Time
	cause       EndCause
	mediaClosed bool // set by cleanup: no media goroutine may start
	connTimer   *time.Timer

	digits    chan dtmf.Digit
	connected chan struct{}
	connOnce  sync.Once
	done      chan struct{}
	endOnce   sync.Once
	cleanOnce sync.Once
	media     sync.WaitGroup // clock, track reader, RTCP reader

	stats struct {
		in, out, lost, late, malformed, droppedDigits atomic.Uint64
	}
	inPeak   atomic.Uint64 // loudest inbound frame: mean square of samples
	warnOnce sync.Map
}

// maxPending bounds the messages queued before the data channel opens.
const maxPending = 64

func newCall(s *Server, pc *webrtc.PeerConnection, id, client, origin, flow string) *Call {
	return &Call{
		srv: s, pc: pc, id: id, client: client, origin: origin, flow: flow,
		log:       s.log.With("call_id", id, "channel", "webrtc"),
		started:   s.cfg.now(),
		digits:    make(chan dtmf.Digit, 16),
		connected: make(chan struct{}),
		done:      make(chan struct{}),
	}
}

func (c *Call) newReceiver(eventRate int) {
	c.receiver = dtmf.NewReceiver(c.rate, c.emitDigit, dtmf.WithEventClockRate(eventRate))
}

// ID is the call's identifier (also in the signalling URL).
func (c *Call) ID() string { return c.id }

// From is the caller's address: "webrtc:" and the client's IP address.
func (c *Call) From() string { return "webrtc:" + c.client }

// FromUser is the client's IP address (a browser has no number).
func (c *Call) FromUser() string { return c.client }

// To names what was called: "webrtc:" and the widget's flow.
func (c *Call) To() string { return "webrtc:" + c.flow }

// Flow is the flow the widget asked for (its data-flow attribute).
func (c *Call) Flow() string { return c.flow }

// Origin is the web origin of the page that placed the call.
func (c *Call) Origin() string { return c.origin }

// Channel names the signalling for records.
func (c *Call) Channel() string { return "webrtc" }

// StartedAt is when the offer arrived.
func (c *Call) StartedAt() time.Time { return c.started }

// SampleRate is the call's PCM rate: Config.OpusRate for Opus, 16000 for
// G.722, 8000 for PCMU.
func (c *Call) SampleRate() int { return c.rate }

// Codec names the codec we send ("opus", "G722" or "PCMU").
func (c *Call) Codec() string { return c.out.name }

// Digits delivers the caller's key presses (RFC 4733 events from the
// widget's keypad, or in-band tones), once each.
func (c *Call) Digits() <-chan dtmf.Digit { return c.digits }

// Done is closed when the call ends for any reason.
func (c *Call) Done() <-chan struct{} { return c.done }

// Cause says why the call ended ("" while it is up).
func (c *Call) Cause() EndCause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Answer waits until the browser is connected (ICE and DTLS done) and
// tells the widget. It fails with ErrEnded when the call ended first (the
// caller gave up, or connecting timed out).
func (c *Call) Answer(ctx context.Context) error {
	select {
	case <-c.connected:
	case <-c.done:
		return ErrEnded
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.done: // connected and ended at once: report the end
		return ErrEnded
	default:
	}
	c.mu.Lock()
	c.answered = c.srv.cfg.now()
	c.mu.Unlock()
	c.send(message{Type: "state", State: "connected"})
	return nil
}

// AnsweredAt is when Answer succeeded (zero before).
func (c *Call) AnsweredAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

// Hangup ends the call from our side; the widget is told. Idempotent.
func (c *Call) Hangup(context.Context) error {
	c.end(EndLocalHangup)
	return nil
}

// Caption shows text in the widget's captions; who is "ivr" or "caller".
// Captions sent before the data channel opens are queued.
func (c *Call) Caption(who, text string) {
	c.send(message{Type: "caption", Who: who, Text: text})
}

// SetSink sets where decoded caller audio goes. fn runs on the media
// goroutine and must not block; the frame's samples are reused after it
// returns.
func (c *Call) SetSink(fn func(audio.Frame)) {
	c.mu.Lock()
	c.sink = fn
	c.mu.Unlock()
}

// Play swaps src into the outbound clock, replacing what was playing; the
// channel closes when src ends, is replaced or stopped, or the call ends.
func (c *Call) Play(src audio.Source) <-chan struct{} {
	done := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srcDone != nil {
		close(c.srcDone)
		c.src, c.srcDone = nil, nil
	}
	if c.mediaClosed || src == nil {
		close(done)
		return done
	}
	select {
	case <-c.done:
		close(done)
		return done
	default:
	}
	c.src, c.srcDone = audio.Convert(src, c.rate), done
	return done
}

// StopPlayback silences the outbound stream at once (barge-in).
func (c *Call) StopPlayback() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srcDone != nil {
		close(c.srcDone)
	}
	c.src, c.srcDone = nil, nil
}

// MediaStats summarises the call's audio for its record.
func (c *Call) MediaStats() models.MediaStats {
	peak := -96.0
	if ms := c.inPeak.Load(); ms > 0 {
		peak = math.Max(-96, 10*math.Log10(float64(ms)/(32768.0*32768.0)))
	}
	return models.MediaStats{
		Codec: c.out.name, PacketsIn: c.stats.in.Load(), PacketsOut: c.stats.out.Load(),
		Lost: c.stats.lost.Load(), Late: c.stats.late.Load(), Malformed: c.stats.malformed.Load(),
		InPeakDBFS: math.Round(peak*10) / 10,
	}
}

// emitDigit runs on the media goroutine: it must not block.
func (c *Call) emitDigit(d dtmf.Digit) {
	select {
	case c.digits <- d:
	default:
		c.stats.droppedDigits.Add(1)
		c.warn("digits", "digit dropped: dialog not reading", "key", string(d.Key))
	}
}

// send queues or sends one data channel message.
func (c *Call) send(m message) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dcOpen {
		if err := c.dc.SendText(string(b)); err != nil {
			c.warn("dc", "data channel send failed", "err", err)
		}
		return
	}
	if len(c.pending) >= maxPending {
		c.pending = c.pending[1:]
	}
	c.pending = append(c.pending, string(b))
}

// end marks the call over (once), tells the widget unless it was the
// one hanging up, and wakes everything waiting on Done.
func (c *Call) end(cause EndCause) {
	c.endOnce.Do(func() {
		if cause != EndRemoteHangup {
			c.send(message{Type: "state", State: "ended", Reason: string(cause)})
		}
		c.mu.Lock()
		c.cause = cause
		c.mu.Unlock()
		close(c.done)
		c.log.Info("webrtc call ended", "cause", cause)
	})
}

// cleanup releases the peer connection and waits for the media
// goroutines. It runs once, when the handler has returned.
func (c *Call) cleanup() {
	c.cleanOnce.Do(func() {
		c.end(EndFailed) // no-op when already ended
		c.mu.Lock()
		c.mediaClosed = true
		if c.connTimer != nil {
			c.connTimer.Stop()
		}
		dc, open := c.dc, c.dcOpen
		if c.srcDone != nil {
			close(c.srcDone)
		}
		c.src, c.srcDone = nil, nil
		c.mu.Unlock()
		if open {
			// Let the last messages ("ended") leave before the transport closes.
			deadline := time.Now().Add(500 * time.Millisecond)
			for dc.BufferedAmount() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if err := c.pc.Close(); err != nil {
			c.log.Debug("peer connection close", "err", err)
		}
		c.media.Wait()
	})
}

// goMedia runs f on a media goroutine unless the call is being cleaned up.
func (c *Call) goMedia(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mediaClosed {
		return false
	}
	c.media.Add(1)
	go func() {
		defer c.media.Done()
		f()
	}()
	return true
}

func (c *Call) warn(kind, msg string, args ...any) {
	if _, loaded := c.warnOnce.LoadOrStore(kind, true); !loaded {
		c.log.Warn(msg, args...)
	}
}

// watch wires the peer connection's events to the call.
func (c *Call) watch() {
	c.mu.Lock()
	c.connTimer = time.AfterFunc(c.srv.cfg.ConnectTimeout, func() {
		select {
		case <-c.connected:
		default:
			c.log.Info("browser did not connect in time", "timeout", c.srv.cfg.ConnectTimeout)
			c.end(EndConnectFailed)
		}
	})
	c.mu.Unlock()
	c.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		c.log.Debug("connection state", "state", st.String())
		switch st {
		case webrtc.PeerConnectionStateConnected:
			c.connOnce.Do(func() {
				close(c.connected)
				c.goMedia(c.sendLoop)
				c.goMedia(c.readRTCP)
			})
		case webrtc.PeerConnectionStateFailed:
			select {
			case <-c.connected:
				c.end(EndMediaTimeout)
			default:
				c.end(EndConnectFailed)
			}
		case webrtc.PeerConnectionStateClosed:
			c.end(EndRemoteHangup)
		}
	})
	c.pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		c.goMedia(func() { c.readTrack(t) })
	})
	c.pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != channelLabel {
			return
		}
		c.mu.Lock()
		if c.dc != nil { // one channel per call
			c.mu.Unlock()
			return
		}
		c.dc = dc
		c.mu.Unlock()
		dc.OnOpen(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.dcOpen = true
			for _, m := range c.pending {
				if err := dc.SendText(m); err != nil {
					c.warn("dc", "data channel send failed", "err", err)
				}
			}
			c.pending = nil
		})
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			if !msg.IsString {
				return
			}
			m, err := parseClientMessage(msg.Data)
			if err != nil {
				c.warn("dc-bad", "bad data channel message", "err", err)
				return
			}
			switch m.Type {
			case "hangup":
				c.end(EndRemoteHangup)
			}
		})
	})
}

// readRTCP drains RTCP from our sender so the interceptors (reports,
// NACK) see it.
func (c *Call) readRTCP() {
	for {
		if _, _, err := c.sender.ReadRTCP(); err != nil {
			if !errors.Is(err, io.EOF) {
				c.log.Debug("rtcp read", "err", err)
			}
			return
		}
	}
}
