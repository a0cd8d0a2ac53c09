package webrtc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/openivr/ivr/audio"
)

// offerFrom makes p's offer with its candidates gathered.
func offerFrom(t *testing.T, p *testPeer) string {
	t.Helper()
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return p.pc.LocalDescription().SDP
}

// TestAnswerLeg answers an offer into a leg the handler never sees: audio
// flows both ways, the leg's hang-up reaches the browser, and the leg is
// released.
func TestAnswerLeg(t *testing.T) {
	srv, _ := testServer(t, Config{}, func(ctx context.Context, c *Call) {
		t.Error("the handler ran for a leg")
	})
	p := newTestPeer(t, peerOptions{offer: []string{"PCMU"}, toneHz: 440})
	defer p.close()
	leg, answer, err := srv.AnswerLeg(context.Background(), offerFrom(t, p), "agent:alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	if srv.ActiveCalls() != 1 {
		t.Errorf("active calls %d, want 1", srv.ActiveCalls())
	}
	if leg.To() != "webrtc:agent:alice" || leg.Codec() != "PCMU" || leg.SampleRate() != audio.Rate8k {
		t.Errorf("leg to %q codec %s rate %d", leg.To(), leg.Codec(), leg.SampleRate())
	}
	var mu sync.Mutex
	var heard []int16
	leg.SetSink(func(f audio.Frame) {
		mu.Lock()
		heard = append(heard, f.Samples...)
		mu.Unlock()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := leg.Answer(ctx); err != nil {
		t.Fatalf("leg did not connect: %v", err)
	}
	if _, err := p.waitMessage(5*time.Second, func(m message) bool { return m.Type == "state" && m.State == "connected" }); err != nil {
		t.Fatalf("connected state: %v", err)
	}
	leg.Play(audio.NewClipSource(toneClip(1000, leg.SampleRate(), 10*time.Second)))
	waitFor(t, 10*time.Second, func() bool { return p.heardTone(1000, 300*time.Millisecond) > 0.5 })
	waitFor(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := audio.SamplesPer(leg.SampleRate(), 200*time.Millisecond)
		return len(heard) > n && toneRatio(heard[len(heard)-n:], leg.SampleRate(), 440) > 0.5
	})
	leg.Hangup(ctx)
	if m, err := p.waitMessage(5*time.Second, func(m message) bool { return m.Type == "state" && m.State == "ended" }); err != nil || m.Reason != string(EndLocalHangup) {
		t.Fatalf("ended state: %+v %v", m, err)
	}
	waitFor(t, 5*time.Second, func() bool { return srv.ActiveCalls() == 0 })
}

// TestAnswerLegRefusals: bad offers and a closed server.
func TestAnswerLegRefusals(t *testing.T) {
	srv, _ := testServer(t, Config{}, nopHandler)
	for _, sdp := range []string{"", "hello", "v=0\r\n" + string(make([]byte, maxSDP))} {
		if _, _, err := srv.AnswerLeg(context.Background(), sdp, "x"); !errors.Is(err, ErrBadRequest) {
			t.Errorf("offer %.10q: err %v, want ErrBadRequest", sdp, err)
		}
	}
	srv.Close(context.Background())
	p := newTestPeer(t, peerOptions{offer: []string{"PCMU"}})
	defer p.close()
	if _, _, err := srv.AnswerLeg(context.Background(), offerFrom(t, p), "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("closed server: err %v, want ErrClosed", err)
	}
}

// TestAnswerLegEndsOnClose: closing the server ends a leg and waits for
// its release.
func TestAnswerLegEndsOnClose(t *testing.T) {
	srv, _ := testServer(t, Config{}, nopHandler)
	p := newTestPeer(t, peerOptions{offer: []string{"PCMU"}})
	defer p.close()
	leg, answer, err := srv.AnswerLeg(context.Background(), offerFrom(t, p), "agent:bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := leg.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-leg.Done():
	default:
		t.Fatal("leg still up after Close")
	}
	if leg.Cause() != EndShutdown || srv.ActiveCalls() != 0 {
		t.Errorf("cause %q active %d", leg.Cause(), srv.ActiveCalls())
	}
}
