//go:build cgo

package webrtc

import (
	"fmt"

	"github.com/hraban/opus"
)

// opusAvailable says whether this build can encode and decode Opus (it
// needs cgo and libopus); without it only PCMU is offered.
const opusAvailable = true

// opusEncoder wraps libopus for one call's outbound stream: mono, VoIP
// application, in-band FEC on.
type opusEncoder struct{ enc *opus.Encoder }

func newOpusEncoder(rate int) (*opusEncoder, error) {
	enc, err := opus.NewEncoder(rate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("webrtc: opus encoder at %d Hz: %w", rate, err)
	}
	// Errors here only lose a tuning; the defaults still work.
	_ = enc.SetInBandFEC(true)
	_ = enc.SetPacketLossPerc(5)
	// Complexity 5 halves the encoder's CPU against the default 10
	// (BenchmarkOutboundFrame/opus on a recorded prompt: 114 us against
	// 238 us a frame here) for recorded and synthetic speech that does
	// not need the last of its quality.
	_ = enc.SetComplexity(5)
	return &opusEncoder{enc: enc}, nil
}

// encode appends one packet for pcm (one 20 ms frame) to dst.
func (e *opusEncoder) encode(dst []byte, pcm []int16) ([]byte, error) {
	n, err := e.enc.Encode(pcm, dst[len(dst):cap(dst)])
	if err != nil {
		return dst, err
	}
	return dst[:len(dst)+n], nil
}

// opusDecoder wraps libopus for one call's inbound stream, decoding to
// mono at the call's PCM rate whatever rate the sender encoded.
type opusDecoder struct{ dec *opus.Decoder }

func newOpusDecoder(rate int) (*opusDecoder, error) {
	dec, err := opus.NewDecoder(rate, 1)
	if err != nil {
		return nil, fmt.Errorf("webrtc: opus decoder at %d Hz: %w", rate, err)
	}
	return &opusDecoder{dec: dec}, nil
}

// decode decodes one packet into pcm (sized for the longest Opus packet,
// 120 ms) and returns the samples written.
func (d *opusDecoder) decode(payload []byte, pcm []int16) (int, error) {
	return d.dec.Decode(payload, pcm)
}

// conceal fills pcm (one lost frame's worth) by packet loss concealment.
func (d *opusDecoder) conceal(pcm []int16) error {
	return d.dec.DecodePLC(pcm)
}
