package journey

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/telephony/sip"
)

// audioCall is the caller's leg of a loopback SIP call: an IVR server and
// a caller user agent on 127.0.0.1, RTP between them, G.711.
type audioCall struct {
	leg    *sip.Call
	speak  func(ctx context.Context, text string, rate int) (audio.Clip, error)
	cancel context.CancelFunc
	served chan struct{}
}

// dialAudio starts an IVR SIP server running e and calls it. done closes
// when the IVR's side of the call is over (its record is final).
func dialAudio(ctx context.Context, e *dialog.Engine, callerID string, o Options) (*audioCall, <-chan struct{}, error) {
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	base := 30000 + 2*rand.IntN(8000) // two small port ranges, away from the server defaults
	ivr, err := sip.NewServer(sip.Config{
		Listeners: []sip.Listener{{Network: "udp", Addr: "127.0.0.1:0"}}, RTPPortMin: base, RTPPortMax: base + 200,
		Codecs: []string{"PCMU"}, MediaTimeout: 30 * time.Second, UserAgent: "openivr-journey", Logger: o.Logger,
	}, sip.HandlerFunc(func(ctx context.Context, c *sip.Call) {
		defer close(done)
		e.Run(ctx, c)
	}))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	phone, err := sip.NewServer(sip.Config{
		Listeners: []sip.Listener{{Network: "udp", Addr: "127.0.0.1:0"}}, RTPPortMin: base + 400, RTPPortMax: base + 600,
		Codecs: []string{"PCMU"}, UserAgent: "openivr-journey-caller", Logger: o.Logger,
	}, sip.HandlerFunc(func(ctx context.Context, c *sip.Call) { c.Reject(486, "Busy Here") }))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	served := make(chan struct{})
	errs := make(chan error, 2)
	go func() { errs <- ivr.ListenAndServe(sctx) }()
	go func() { errs <- phone.ListenAndServe(sctx) }()
	go func() { <-errs; <-errs; close(served) }()
	for _, s := range []*sip.Server{ivr, phone} {
		select {
		case <-s.Ready():
		case <-time.After(5 * time.Second):
			cancel()
			<-served
			return nil, nil, fmt.Errorf("journey: SIP listeners did not start")
		}
	}
	uri := "sip:ivr@" + ivr.Addrs()[0].Addr
	leg, err := phone.Dial(ctx, uri, sip.DialOptions{FromUser: callerID, RingTimeout: 10 * time.Second})
	if err != nil {
		cancel()
		<-served
		return nil, nil, fmt.Errorf("journey: call the IVR: %w", err)
	}
	return &audioCall{leg: leg, speak: o.Speak, cancel: cancel, served: served}, done, nil
}

// say speaks the words into the call and then keeps quiet (the outbound
// clock sends silence), so the IVR's endpointer hears the turn end.
func (a *audioCall) say(ctx context.Context, text string) error {
	rate := a.leg.SampleRate()
	clip, err := a.speak(ctx, text, rate)
	if err != nil {
		return fmt.Errorf("synthesize %q: %w", text, err)
	}
	if clip.Rate != rate {
		clip = audio.Clip{Rate: rate, Samples: audio.Resample(clip.Samples, clip.Rate, rate)}
	}
	// A breath before speaking, as a person would.
	lead := make([]int16, rate/4)
	clip.Samples = append(lead, clip.Samples...)
	select {
	case <-a.leg.Play(audio.NewClipSource(clip)):
	case <-a.leg.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// press sends keys as RFC 4733 events, spaced like a person keying.
func (a *audioCall) press(ctx context.Context, keys string) error {
	for i := 0; i < len(keys); i++ {
		if !a.leg.SendDTMF(keys[i]) {
			return fmt.Errorf("could not send key %q", keys[i])
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// silence does nothing: the IVR's no-input timer runs out by itself.
func (a *audioCall) silence() {}

func (a *audioCall) hangup() { a.leg.Hangup(context.Background()) }

func (a *audioCall) close() {
	a.leg.Hangup(context.Background())
	a.leg.Close()
	a.cancel()
	<-a.served
}
