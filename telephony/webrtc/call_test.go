package webrtc

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
)

// TestMain checks that no test leaves goroutines behind (calls, peer
// connections, media loops).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer runs a Server behind httptest with handler h.
func testServer(t *testing.T, cfg Config, h func(context.Context, *Call)) (*Server, *httptest.Server) {
	t.Helper()
	cfg.Handler = h
	cfg.IncludeLoopback = true
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		http.DefaultClient.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, hs
}

// toneClip is hz at rate for d.
func toneClip(hz float64, rate int, d time.Duration) audio.Clip {
	n := audio.SamplesPer(rate, d)
	c := audio.Clip{Rate: rate, Samples: make([]int16, n)}
	for i := range c.Samples {
		c.Samples[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return c
}

// serverResult is what a test handler saw.
type serverResult struct {
	answerErr error
	digit     dtmf.Digit
	rate      int
	codec     string
	heardHz   float64 // tone ratio of the caller's tone in the sink
	sinkRate  int
	endCause  EndCause
	channel   string
}

// TestCallEndToEnd runs a whole call between an in-process browser peer and
// the server: captions and state on the data channel, a prompt heard by the
// browser (tone detected), the browser's microphone heard by the server, a
// key press as RFC 4733, and our hang-up reaching the widget.
func TestCallEndToEnd(t *testing.T) {
	cases := []struct {
		name      string
		offer     []string
		wantCodec string
		wantRate  int
	}{
		{"opus", nil, "opus", 16000},
		{"g722", []string{"G722", "PCMU"}, "G722", 16000},
		{"pcmu", []string{"PCMU"}, "PCMU", 8000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantCodec == "opus" && !opusAvailable {
				t.Skip("this build has no Opus (cgo and libopus-dev)")
			}
			results := make(chan serverResult, 1)
			srv, hs := testServer(t, Config{}, func(ctx context.Context, c *Call) {
				r := serverResult{rate: c.SampleRate(), codec: c.Codec(), channel: c.Channel()}
				var mu sync.Mutex
				var heard []int16
				c.SetSink(func(f audio.Frame) {
					mu.Lock()
					heard = append(heard, f.Samples...)
					r.sinkRate = f.Rate
					mu.Unlock()
				})
				if r.answerErr = c.Answer(ctx); r.answerErr != nil {
					results <- r
					return
				}
				c.Caption("ivr", "Welcome to the test line.")
				playing := c.Play(audio.NewClipSource(toneClip(1000, c.SampleRate(), 10*time.Second)))
				select {
				case r.digit = <-c.Digits():
				case <-time.After(15 * time.Second):
				case <-c.Done():
				}
				c.StopPlayback()
				<-playing
				mu.Lock()
				if n := audio.SamplesPer(r.rate, 200*time.Millisecond); len(heard) > n {
					r.heardHz = toneRatio(heard[len(heard)-n:], r.rate, 440)
				}
				mu.Unlock()
				c.Hangup(ctx)
				r.endCause = c.Cause()
				results <- r
			})
			p := newTestPeer(t, peerOptions{offer: tc.offer, toneHz: 440})
			defer p.close()
			if code := p.call(hs.URL, hs.URL, "main"); code != http.StatusCreated {
				t.Fatalf("offer: status %d", code)
			}
			if _, err := p.waitMessage(10*time.Second, func(m message) bool { return m.Type == "state" && m.State == "connected" }); err != nil {
				t.Fatalf("connected state: %v", err)
			}
			if m, err := p.waitMessage(5*time.Second, func(m message) bool { return m.Type == "caption" }); err != nil || m.Who != "ivr" || m.Text != "Welcome to the test line." {
				t.Fatalf("caption: %+v %v", m, err)
			}
			if srv.ActiveCalls() != 1 {
				t.Errorf("active calls %d, want 1", srv.ActiveCalls())
			}
			// The prompt (a 1 kHz tone) reaches the browser.
			deadline := time.Now().Add(10 * time.Second)
			for p.heardTone(1000, 300*time.Millisecond) < 0.5 {
				if time.Now().After(deadline) {
					t.Fatalf("browser did not hear the prompt tone (ratio %.2f)", p.heardTone(1000, 300*time.Millisecond))
				}
				time.Sleep(50 * time.Millisecond)
			}
			p.mu.Lock()
			gotCodec := p.codec
			p.mu.Unlock()
			if gotCodec != tc.wantCodec {
				t.Errorf("browser receives %s, want %s", gotCodec, tc.wantCodec)
			}
			p.pressKey(5)
			m, err := p.waitMessage(10*time.Second, func(m message) bool { return m.Type == "state" && m.State == "ended" })
			if err != nil || m.Reason != string(EndLocalHangup) {
				t.Fatalf("ended state: %+v %v", m, err)
			}
			r := <-results
			if r.answerErr != nil {
				t.Fatalf("answer: %v", r.answerErr)
			}
			if r.digit.Key != '5' || r.digit.Source != dtmf.RFC4733 {
				t.Errorf("digit %q from %v, want '5' from RFC 4733", r.digit.Key, r.digit.Source)
			}
			if r.codec != tc.wantCodec || r.rate != tc.wantRate || r.sinkRate != tc.wantRate {
				t.Errorf("server codec %s rate %d sink %d, want %s %d", r.codec, r.rate, r.sinkRate, tc.wantCodec, tc.wantRate)
			}
			if r.heardHz < 0.5 {
				t.Errorf("server did not hear the browser's 440 Hz tone (ratio %.2f)", r.heardHz)
			}
			if r.endCause != EndLocalHangup || r.channel != "webrtc" {
				t.Errorf("end cause %q channel %q", r.endCause, r.channel)
			}
			waitFor(t, 5*time.Second, func() bool { return srv.ActiveCalls() == 0 })
		})
	}
}

// TestRemoteHangup: the widget's hang-up message, a DELETE, or the
// browser closing its connection all end the call.
func TestRemoteHangup(t *testing.T) {
	for _, how := range []string{"message", "delete", "close"} {
		t.Run(how, func(t *testing.T) {
			ended := make(chan EndCause, 1)
			srv, hs := testServer(t, Config{}, func(ctx context.Context, c *Call) {
				if err := c.Answer(ctx); err != nil {
					ended <- "not answered"
					return
				}
				select {
				case <-c.Done():
				case <-time.After(15 * time.Second):
				}
				ended <- c.Cause()
			})
			p := newTestPeer(t, peerOptions{})
			defer p.close()
			if code := p.call(hs.URL, hs.URL, ""); code != http.StatusCreated {
				t.Fatalf("offer: status %d", code)
			}
			if _, err := p.waitMessage(10*time.Second, func(m message) bool { return m.Type == "state" && m.State == "connected" }); err != nil {
				t.Fatal(err)
			}
			switch how {
			case "message":
				p.dc.SendText(`{"type":"hangup"}`)
			case "delete":
				req, _ := http.NewRequest(http.MethodDelete, hs.URL+p.loc, nil)
				req.Header.Set("Origin", hs.URL)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusNoContent {
					t.Fatalf("DELETE: %d", res.StatusCode)
				}
			case "close":
				p.close()
			}
			select {
			case cause := <-ended:
				if cause != EndRemoteHangup {
					t.Errorf("cause %q, want %q", cause, EndRemoteHangup)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("call did not end")
			}
			waitFor(t, 5*time.Second, func() bool { return srv.ActiveCalls() == 0 })
		})
	}
}

// TestPaddingPacketsAreNotMalformed: packets with no payload (Chromium's
// padding-only bandwidth probes on the audio stream) are received, not
// counted as malformed, and do not disturb the audio.
func TestPaddingPacketsAreNotMalformed(t *testing.T) {
	stats := make(chan models.MediaStats, 1)
	srv, hs := testServer(t, Config{}, func(ctx context.Context, c *Call) {
		if err := c.Answer(ctx); err != nil {
			close(stats)
			return
		}
		select {
		case <-c.Done():
		case <-time.After(15 * time.Second):
		}
		stats <- c.MediaStats()
	})
	p := newTestPeer(t, peerOptions{toneHz: 440})
	defer p.close()
	if code := p.call(hs.URL, hs.URL, ""); code != http.StatusCreated {
		t.Fatalf("offer: status %d", code)
	}
	if _, err := p.waitMessage(10*time.Second, func(m message) bool { return m.Type == "state" && m.State == "connected" }); err != nil {
		t.Fatal(err)
	}
	<-p.track.bound
	for range 5 {
		time.Sleep(20 * time.Millisecond)
		p.track.write(uint8(p.track.audio.PayloadType), false, 0, nil)
	}
	time.Sleep(200 * time.Millisecond)
	p.dc.SendText(`{"type":"hangup"}`)
	select {
	case s, ok := <-stats:
		if !ok {
			t.Fatal("call not answered")
		}
		if s.Malformed != 0 || s.PacketsIn < 5 {
			t.Errorf("media %+v: want padding packets received and none malformed", s)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("call did not end")
	}
	waitFor(t, 5*time.Second, func() bool { return srv.ActiveCalls() == 0 })
}

// TestConnectTimeout: a browser that never connects does not hold a call.
func TestConnectTimeout(t *testing.T) {
	errs := make(chan error, 1)
	srv, hs := testServer(t, Config{ConnectTimeout: 300 * time.Millisecond}, func(ctx context.Context, c *Call) {
		errs <- c.Answer(ctx)
	})
	p := newTestPeer(t, peerOptions{})
	defer p.close()
	// Post an offer but never apply the answer: ICE cannot complete.
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtcGathered(p)
	p.pc.SetLocalDescription(offer)
	<-g
	code, _ := postJSON(t, hs.URL+"/webrtc/calls", hs.URL, `{"sdp":`+jsonString(p.pc.LocalDescription().SDP)+`}`)
	if code != http.StatusCreated {
		t.Fatalf("status %d", code)
	}
	select {
	case err := <-errs:
		if err != ErrEnded {
			t.Errorf("answer: %v, want ErrEnded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("answer did not give up")
	}
	waitFor(t, 5*time.Second, func() bool { return srv.ActiveCalls() == 0 })
}

// TestCloseEndsCalls: closing the server ends calls in progress.
func TestCloseEndsCalls(t *testing.T) {
	causes := make(chan EndCause, 1)
	srv, hs := testServer(t, Config{}, func(ctx context.Context, c *Call) {
		c.Answer(ctx)
		<-c.Done()
		causes <- c.Cause()
	})
	p := newTestPeer(t, peerOptions{})
	defer p.close()
	if code := p.call(hs.URL, hs.URL, ""); code != http.StatusCreated {
		t.Fatalf("status %d", code)
	}
	if _, err := p.waitMessage(10*time.Second, func(m message) bool { return m.State == "connected" }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := <-causes; c != EndShutdown {
		t.Errorf("cause %q", c)
	}
	if m, err := p.waitMessage(5*time.Second, func(m message) bool { return m.State == "ended" }); err != nil || m.Reason != string(EndShutdown) {
		t.Errorf("ended message %+v %v", m, err)
	}
	code, _ := postJSON(t, hs.URL+"/webrtc/calls", hs.URL, `{"sdp":"v=0"}`)
	if code != http.StatusServiceUnavailable {
		t.Errorf("offer after close: %d", code)
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func postJSON(t *testing.T, url, origin, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, stringsReader(body))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
