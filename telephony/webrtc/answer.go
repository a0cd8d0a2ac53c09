package webrtc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// answer makes the peer connection for an offer, picks the codec, and
// returns the call and our SDP answer with its candidates.
func (s *Server) answer(ctx context.Context, o offerRequest, client, origin string) (*Call, string, error) {
	servers := make([]webrtc.ICEServer, 0, len(s.cfg.ICEServers))
	for _, is := range s.iceServersFor("ivr") {
		servers = append(servers, webrtc.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{ICEServers: servers})
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: peer connection: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			pc.Close()
		}
	}()
	id := newID()
	c := newCall(s, pc, id, client, origin, o.Flow)
	c.watch()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		return nil, "", fmt.Errorf("%w: offer: %v", ErrBadRequest, err)
	}
	var tr *webrtc.RTPTransceiver
	for _, t := range pc.GetTransceivers() {
		if t.Kind() == webrtc.RTPCodecTypeAudio {
			tr = t
			break
		}
	}
	if tr == nil {
		return nil, "", fmt.Errorf("%w: the offer has no audio", ErrBadRequest)
	}
	if err := c.setCodecs(tr.Receiver().GetParameters().Codecs); err != nil {
		return nil, "", err
	}
	track, err := webrtc.NewTrackLocalStaticSample(c.out.capability, "audio", "ivr-"+id)
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: track: %w", err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: add track: %w", err)
	}
	c.track, c.sender = track, sender
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, "", fmt.Errorf("%w: answer: %v", ErrBadRequest, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return nil, "", fmt.Errorf("webrtc: local description: %w", err)
	}
	t := time.NewTimer(s.cfg.GatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C: // answer with what we have: host candidates come first
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	ok = true
	c.log.Info("webrtc call offered", "client", client, "origin", origin, "flow", o.Flow, "codec", c.out.name, "rate", c.rate)
	return c, pc.LocalDescription().SDP, nil
}

// payloadKind is what an inbound payload type carries.
type payloadKind uint8

const (
	kindUnknown payloadKind = iota
	kindOpus
	kindPCMU
	kindG722
	kindEvent
)

// outCodec is the codec we send.
type outCodec struct {
	name       string // "opus", "G722" or "PCMU"
	capability webrtc.RTPCodecCapability
}

// setCodecs reads the negotiated codecs: the payload types the browser
// may send, and the one we send: Opus when both sides have it (wideband,
// robust to loss), else G.722 (wideband, no cgo needed), else PCMU.
func (c *Call) setCodecs(codecs []webrtc.RTPCodecParameters) error {
	var opus, g722, pcmu bool
	evRate := 0
	for _, p := range codecs {
		pt := uint8(p.PayloadType)
		switch {
		case strings.EqualFold(p.MimeType, webrtc.MimeTypeOpus):
			c.kinds[pt] = kindOpus
			opus = true
		case strings.EqualFold(p.MimeType, webrtc.MimeTypeG722):
			c.kinds[pt] = kindG722
			g722 = true
		case strings.EqualFold(p.MimeType, webrtc.MimeTypePCMU):
			c.kinds[pt] = kindPCMU
			pcmu = true
		case strings.EqualFold(p.MimeType, mimeTelephoneEvent):
			c.kinds[pt] = kindEvent
			c.eventRates[pt] = int(p.ClockRate)
		}
	}
	switch {
	case opus && opusAvailable && !c.srv.cfg.DisableOpus:
		c.out = outCodec{name: "opus", capability: capOpus}
		c.rate = c.srv.cfg.OpusRate
		evRate = 48000
	case g722:
		c.out = outCodec{name: "G722", capability: capG722}
		c.rate = audio.Rate16k
		c.g722 = codec.NewG722()
		evRate = 8000
	case pcmu:
		c.out = outCodec{name: "PCMU", capability: capPCMU}
		c.rate = audio.Rate8k
		evRate = 8000
	default:
		return fmt.Errorf("%w: no common audio codec (we take opus, G722 or PCMU)", ErrBadRequest)
	}
	if c.out.name == "opus" {
		enc, err := newOpusEncoder(c.rate)
		if err != nil {
			return err
		}
		dec, err := newOpusDecoder(c.rate)
		if err != nil {
			return err
		}
		c.enc, c.dec = enc, dec
	}
	c.newReceiver(evRate)
	return nil
}
