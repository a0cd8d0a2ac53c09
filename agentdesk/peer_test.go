package agentdesk

import (
	"encoding/json"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/openivr/ivr/codec"
)

// browser is an in-process stand-in for the agent page's WebRTC side: a
// pion peer connection that offers PCMU (as any browser can), sends a
// tone as its microphone, opens the "ivr" data channel, and keeps what it
// hears.
type browser struct {
	t    *testing.T
	pc   *webrtc.PeerConnection
	dc   *webrtc.DataChannel
	msgs chan map[string]string
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	heard []int16 // 8 kHz
}

func newBrowser(t *testing.T, toneHz float64) *browser {
	t.Helper()
	me := &webrtc.MediaEngine{}
	pcmu := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: pcmu, PayloadType: 0}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, pc: pc, msgs: make(chan map[string]string, 16), stop: make(chan struct{})}
	track, err := webrtc.NewTrackLocalStaticSample(pcmu, "audio", "mic")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	if b.dc, err = pc.CreateDataChannel("ivr", nil); err != nil {
		t.Fatal(err)
	}
	b.dc.OnMessage(func(m webrtc.DataChannelMessage) {
		var msg map[string]string
		if json.Unmarshal(m.Data, &msg) == nil {
			select {
			case b.msgs <- msg:
			default:
			}
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.receive(tr)
		}()
	})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.transmit(track, toneHz)
	}()
	return b
}

// offer makes the offer with every candidate gathered.
func (b *browser) offer() string {
	b.t.Helper()
	o, err := b.pc.CreateOffer(nil)
	if err != nil {
		b.t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		b.t.Fatal(err)
	}
	<-gathered
	return b.pc.LocalDescription().SDP
}

func (b *browser) setAnswer(sdp string) {
	b.t.Helper()
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) transmit(track *webrtc.TrackLocalStaticSample, hz float64) {
	pcm := make([]int16, 160)
	phase := 0.0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
		}
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(phase))
			phase += 2 * math.Pi * hz / 8000
		}
		track.WriteSample(media.Sample{Data: codec.PCMU{}.Encode(nil, pcm), Duration: 20 * time.Millisecond})
	}
}

func (b *browser) receive(tr *webrtc.TrackRemote) {
	var pkt *rtp.Packet
	var err error
	for {
		if pkt, _, err = tr.ReadRTP(); err != nil {
			return
		}
		pcm := codec.PCMU{}.Decode(nil, pkt.Payload)
		b.mu.Lock()
		b.heard = append(b.heard, pcm...)
		b.mu.Unlock()
	}
}

// heardTone is the share of hz in the last d of what the browser heard.
func (b *browser) heardTone(hz float64, d time.Duration) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := int(d.Seconds() * 8000)
	if len(b.heard) < n {
		return 0
	}
	return toneRatio(b.heard[len(b.heard)-n:], 8000, hz)
}

// waitMessage waits for a data channel message with type and state.
func (b *browser) waitMessage(d time.Duration, typ, state string) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case m := <-b.msgs:
			if m["type"] == typ && m["state"] == state {
				return true
			}
		case <-t.C:
			return false
		}
	}
}

func (b *browser) close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	b.pc.Close()
	b.wg.Wait()
}

// toneRatio is the Goertzel power of hz over the mean power: about 1 for
// a pure tone at hz, near 0 for silence or other frequencies.
func toneRatio(x []int16, rate int, hz float64) float64 {
	w := 2 * math.Pi * hz / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, v := range x {
		f := float64(v)
		s := f + coeff*s1 - s2
		s2, s1 = s1, s
		energy += f * f
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(x)) * energy)
}
