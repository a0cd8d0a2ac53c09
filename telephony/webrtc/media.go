package webrtc

import (
	"errors"
	"io"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// sendLoop is the call's single outbound clock: every 20 ms it takes a
// frame from what is playing (silence when nothing is), encodes it and
// hands it to the track, which stamps and sends it over SRTP.
func (c *Call) sendLoop() {
	pcm := make([]int16, audio.SamplesPer(c.rate, audio.FrameDuration))
	buf := make([]byte, 0, 1500)
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		c.fillLocked(pcm)
		c.mu.Unlock()
		var payload []byte
		switch {
		case c.enc != nil:
			var err error
			if payload, err = c.enc.encode(buf[:0], pcm); err != nil {
				c.warn("encode", "opus encode failed", "err", err)
				continue
			}
		case c.g722 != nil:
			payload = c.g722.Encode(buf[:0], pcm)
		default:
			payload = codec.PCMU{}.Encode(buf[:0], pcm)
		}
		if err := c.track.WriteSample(media.Sample{Data: payload, Duration: audio.FrameDuration}); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				return
			}
			c.warn("send", "audio send failed", "err", err)
			continue
		}
		c.stats.out.Add(1)
	}
}

// fillLocked fills pcm from the current source, padding with silence.
func (c *Call) fillLocked(pcm []int16) {
	k := 0
	for c.src != nil && k < len(pcm) {
		n, err := c.src.ReadPCM(pcm[k:])
		k += n
		if err != nil {
			if err != io.EOF {
				c.warn("source", "prompt source failed", "err", err)
			}
			close(c.srcDone)
			c.src, c.srcDone = nil, nil
			break
		}
		if n == 0 {
			break // nothing ready yet: silence for the rest of this frame
		}
	}
	clear(pcm[k:])
}

// maxConceal is the longest gap (in packets) filled by Opus loss
// concealment; longer gaps are left out.
const maxConceal = 5

// readTrack receives the caller's RTP (after SRTP and the interceptors):
// drops late and duplicate packets, conceals short Opus gaps, decodes
// audio to the call's rate and hands telephone-events to the DTMF receiver.
func (c *Call) readTrack(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	pcm := make([]int16, 120*c.rate/1000) // the longest Opus packet
	var native []int16                    // G.711 or G.722 decoded at its own rate
	var g722 *codec.G722                  // inbound G.722 state
	var rs *audio.Resampler               // native rate to the call's rate when they differ
	var pkt rtp.Packet
	var last uint16
	have := false
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			if n > 0 && errors.Is(err, webrtc.ErrCodecNotFound) {
				c.stats.malformed.Add(1)
				continue
			}
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			c.stats.malformed.Add(1)
			continue
		}
		if have {
			d := int16(pkt.SequenceNumber - last)
			if d <= 0 {
				c.stats.late.Add(1)
				continue
			}
			if d > 1 {
				c.stats.lost.Add(uint64(d - 1))
				if c.dec != nil && d-1 <= maxConceal && c.kinds[pkt.PayloadType&0x7f] == kindOpus {
					frame := pcm[:audio.SamplesPer(c.rate, audio.FrameDuration)]
					for range d - 1 {
						if c.dec.conceal(frame) == nil {
							c.deliver(frame)
						}
					}
				}
			}
		}
		last, have = pkt.SequenceNumber, true
		c.stats.in.Add(1)
		if len(pkt.Payload) == 0 {
			// Padding only (RFC 3550 5.1): Chromium sends such packets on
			// the audio stream to probe bandwidth. Nothing to decode.
			continue
		}
		switch c.kinds[pkt.PayloadType&0x7f] {
		case kindEvent:
			if err := c.receiver.WriteRFC4733(pkt.Timestamp, pkt.Marker, pkt.Payload); err != nil {
				c.warn("rfc4733", "bad RFC 4733 payload", "err", err)
			}
		case kindOpus:
			if c.dec == nil {
				c.stats.malformed.Add(1)
				continue
			}
			k, err := c.dec.decode(pkt.Payload, pcm)
			if err != nil {
				c.stats.malformed.Add(1)
				c.warn("decode", "opus decode failed", "err", err)
				continue
			}
			c.deliver(pcm[:k])
		case kindPCMU, kindG722:
			rate := audio.Rate8k
			if c.kinds[pkt.PayloadType&0x7f] == kindG722 {
				if g722 == nil {
					g722 = codec.NewG722()
				}
				native, rate = g722.Decode(native[:0], pkt.Payload), audio.Rate16k
			} else {
				native = codec.PCMU{}.Decode(native[:0], pkt.Payload)
			}
			if rate != c.rate {
				if rs == nil || rs.InRate() != rate {
					rs = audio.NewResampler(rate, c.rate)
				}
				c.deliver(rs.Process(pcm[:0], native))
				continue
			}
			c.deliver(native)
		default:
			c.stats.malformed.Add(1)
		}
	}
}

// deliver hands one block of decoded caller audio to the in-band DTMF
// detector, the level meter and the sink.
func (c *Call) deliver(pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	c.receiver.WritePCM(pcm)
	var sum uint64
	for _, v := range pcm {
		sum += uint64(int64(v) * int64(v))
	}
	ms := sum / uint64(len(pcm))
	for {
		old := c.inPeak.Load()
		if ms <= old || c.inPeak.CompareAndSwap(old, ms) {
			break
		}
	}
	c.mu.Lock()
	sink := c.sink
	c.mu.Unlock()
	if sink != nil {
		sink(audio.Frame{Rate: c.rate, Samples: pcm})
	}
}
