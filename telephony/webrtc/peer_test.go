package webrtc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// testPeer is an in-process stand-in for the browser: a pion peer
// connection that offers like Chromium (Opus, PCMU, telephone-event at
// 48 and 8 kHz, a data channel "ivr"), sends a tone as its microphone,
// sends RFC 4733 key presses, and decodes what it receives.
type testPeer struct {
	t     *testing.T
	pc    *webrtc.PeerConnection
	dc    *webrtc.DataChannel
	track *rawTrack
	id    string
	loc   string

	msgs chan message

	mu      sync.Mutex
	heard   []int16 // decoded received audio at heardRate
	rate    int
	codec   string // what the server sends us
	pauseTX bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// peerOptions choose what the test browser offers.
type peerOptions struct {
	offer  []string // codecs offered in order: "opus", "G722", "PCMU" (default all)
	toneHz float64  // the "microphone" tone (0: silence)
}

func newTestPeer(t *testing.T, o peerOptions) *testPeer {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if o.offer == nil {
		o.offer = []string{"opus", "G722", "PCMU"}
	}
	var codecs []webrtc.RTPCodecParameters
	for _, name := range o.offer {
		switch name {
		case "opus":
			codecs = append(codecs, webrtc.RTPCodecParameters{RTPCodecCapability: capOpus, PayloadType: 111},
				webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 48000, SDPFmtpLine: "0-16"}, PayloadType: 110})
		case "G722":
			codecs = append(codecs, webrtc.RTPCodecParameters{RTPCodecCapability: capG722, PayloadType: 9})
		case "PCMU":
			codecs = append(codecs, webrtc.RTPCodecParameters{RTPCodecCapability: capPCMU, PayloadType: 0})
		}
	}
	codecs = append(codecs, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: 126})
	for _, c := range codecs {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPeer{t: t, pc: pc, msgs: make(chan message, 64), stop: make(chan struct{}), track: &rawTrack{bound: make(chan struct{})}}
	if _, err := pc.AddTrack(p.track); err != nil {
		t.Fatal(err)
	}
	p.dc, err = pc.CreateDataChannel(channelLabel, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.dc.OnMessage(func(m webrtc.DataChannelMessage) {
		var msg message
		if json.Unmarshal(m.Data, &msg) == nil {
			select {
			case p.msgs <- msg:
			default:
			}
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.receive(tr)
		}()
	})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.transmit(o.toneHz)
	}()
	return p
}

// call posts the offer and applies the answer; it returns the HTTP status.
func (p *testPeer) call(url, origin, flow string) int {
	p.t.Helper()
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		p.t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		p.t.Fatal(err)
	}
	<-gathered
	body, _ := json.Marshal(offerRequest{Type: "offer", SDP: p.pc.LocalDescription().SDP, Flow: flow})
	req, _ := http.NewRequest(http.MethodPost, url+"/webrtc/calls", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return res.StatusCode
	}
	var ans answerResponse
	if err := json.NewDecoder(res.Body).Decode(&ans); err != nil {
		p.t.Fatal(err)
	}
	p.id, p.loc = ans.ID, res.Header.Get("Location")
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		p.t.Fatal(err)
	}
	return res.StatusCode
}

// waitMessage waits for a data channel message that matches.
func (p *testPeer) waitMessage(d time.Duration, match func(message) bool) (message, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case m := <-p.msgs:
			if match(m) {
				return m, nil
			}
		case <-t.C:
			return message{}, errors.New("no such message in time")
		}
	}
}

// transmit is the microphone: 20 ms frames of a tone on the bound codec.
func (p *testPeer) transmit(hz float64) {
	select {
	case <-p.track.bound:
	case <-p.stop:
		return
	}
	tr := p.track
	var enc *opusEncoder
	var g722 *codec.G722
	rate, adv := 8000, uint32(160)
	switch {
	case strings.EqualFold(tr.audio.MimeType, webrtc.MimeTypeOpus):
		var err error
		if enc, err = newOpusEncoder(48000); err != nil {
			return
		}
		rate, adv = 48000, 960
	case strings.EqualFold(tr.audio.MimeType, webrtc.MimeTypeG722):
		g722 = codec.NewG722()
		rate = 16000 // on an 8 kHz RTP clock
	}
	n := rate / 50
	pcm := make([]int16, n)
	phase := 0.0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		paused := p.pauseTX
		p.mu.Unlock()
		if paused {
			continue
		}
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(phase))
			phase += 2 * math.Pi * hz / float64(rate)
		}
		var payload []byte
		switch {
		case enc != nil:
			payload, _ = enc.encode(make([]byte, 0, 1500), pcm)
		case g722 != nil:
			payload = g722.Encode(nil, pcm)
		default:
			payload = codec.PCMU{}.Encode(nil, pcm)
		}
		tr.write(uint8(tr.audio.PayloadType), false, adv, payload)
	}
}

// pressKey sends one key as RFC 4733 events (section 2.5.1), pausing the
// microphone meanwhile as browsers do.
func (p *testPeer) pressKey(event uint8) {
	tr := p.track
	p.mu.Lock()
	p.pauseTX = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.pauseTX = false
		p.mu.Unlock()
	}()
	pt, clock := tr.eventPT()
	step := clock / 50
	for i := 1; i <= 6; i++ {
		end := i >= 4
		dur := uint16(step * min(i, 4))
		payload := []byte{event, 10, byte(dur >> 8), byte(dur)}
		if end {
			payload[1] |= 0x80
		}
		adv := uint32(0)
		if i == 6 {
			adv = uint32(step * 4)
		}
		tr.write(pt, i == 1, adv, payload)
		time.Sleep(20 * time.Millisecond)
	}
}

// receive decodes what the server sends.
func (p *testPeer) receive(tr *webrtc.TrackRemote) {
	var dec *opusDecoder
	var g722 *codec.G722
	rate := 8000
	name := "PCMU"
	switch {
	case strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeOpus):
		var err error
		if dec, err = newOpusDecoder(48000); err != nil {
			return
		}
		rate, name = 48000, "opus"
	case strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeG722):
		g722 = codec.NewG722()
		rate, name = 16000, "G722"
	}
	p.mu.Lock()
	p.rate, p.codec = rate, name
	p.mu.Unlock()
	buf := make([]int16, 5760)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		var pcm []int16
		switch {
		case dec != nil:
			n, err := dec.decode(pkt.Payload, buf)
			if err != nil {
				continue
			}
			pcm = buf[:n]
		case g722 != nil:
			pcm = g722.Decode(buf[:0], pkt.Payload)
		default:
			pcm = codec.PCMU{}.Decode(buf[:0], pkt.Payload)
		}
		p.mu.Lock()
		p.heard = append(p.heard, pcm...)
		p.mu.Unlock()
	}
}

// heardTone reports the level of hz in the last d of received audio,
// relative to the total energy (1 = a pure tone).
func (p *testPeer) heardTone(hz float64, d time.Duration) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := audio.SamplesPer(p.rate, d)
	if p.rate == 0 || len(p.heard) < n {
		return 0
	}
	return toneRatio(p.heard[len(p.heard)-n:], p.rate, hz)
}

func (p *testPeer) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.pc.Close()
	p.wg.Wait()
}

// toneRatio is the Goertzel power of hz over the mean power: about 1 for
// a pure tone at hz, near 0 for silence or other frequencies.
func toneRatio(x []int16, rate int, hz float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, v := range x {
		f := float64(v)
		s := f + coeff*s1 - s2
		s2, s1 = s1, s
		energy += f * f
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	if energy == 0 {
		return 0
	}
	return 2 * power / (float64(len(x)) * energy)
}

// rawTrack is a local track that writes RTP with any payload type on one
// SSRC (audio and telephone-events share the stream, RFC 4733 section 2.1).
type rawTrack struct {
	mu     sync.Mutex
	w      webrtc.TrackLocalWriter
	ssrc   webrtc.SSRC
	codecs []webrtc.RTPCodecParameters
	audio  webrtc.RTPCodecParameters
	seq    uint16
	ts     uint32
	bound  chan struct{}
	once   sync.Once
}

func (t *rawTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w, t.ssrc, t.codecs = ctx.WriteStream(), ctx.SSRC(), ctx.CodecParameters()
	for _, c := range t.codecs {
		if !strings.EqualFold(c.MimeType, mimeTelephoneEvent) {
			t.audio = c
			break
		}
	}
	if t.audio.MimeType == "" {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("no audio codec")
	}
	t.once.Do(func() { close(t.bound) })
	return t.audio, nil
}

func (t *rawTrack) Unbind(webrtc.TrackLocalContext) error { return nil }
func (t *rawTrack) ID() string                            { return "mic" }
func (t *rawTrack) RID() string                           { return "" }
func (t *rawTrack) StreamID() string                      { return "browser" }
func (t *rawTrack) Kind() webrtc.RTPCodecType             { return webrtc.RTPCodecTypeAudio }

// eventPT is the telephone-event payload type at the audio codec's clock.
func (t *rawTrack) eventPT() (uint8, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.codecs {
		if strings.EqualFold(c.MimeType, mimeTelephoneEvent) && c.ClockRate == t.audio.ClockRate {
			return uint8(c.PayloadType), int(c.ClockRate)
		}
	}
	return 101, 8000
}

// write sends one packet and then advances the timestamp by adv.
func (t *rawTrack) write(pt uint8, marker bool, adv uint32, payload []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return
	}
	h := &rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: t.seq, Timestamp: t.ts, SSRC: uint32(t.ssrc), Marker: marker}
	if _, err := t.w.WriteRTP(h, payload); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return
	}
	t.seq++
	t.ts += adv
}
