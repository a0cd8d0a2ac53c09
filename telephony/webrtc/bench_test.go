package webrtc

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
	"github.com/openivr/ivr/dtmf"
)

// benchCall is a call with only what the media path touches.
func benchCall(b *testing.B, name string) *Call {
	b.Helper()
	c := &Call{done: make(chan struct{}), digits: make(chan dtmf.Digit, 1)}
	switch name {
	case "opus":
		if !opusAvailable {
			b.Skip("no Opus in this build")
		}
		c.rate = 16000
		var err error
		if c.enc, err = newOpusEncoder(c.rate); err != nil {
			b.Fatal(err)
		}
		if c.dec, err = newOpusDecoder(c.rate); err != nil {
			b.Fatal(err)
		}
	case "G722":
		c.rate, c.g722 = 16000, codec.NewG722()
	default:
		c.rate = 8000
	}
	c.newReceiver(8000)
	return c
}

// BenchmarkOutboundFrame is one tick of the outbound clock without the
// network: take 20 ms from the playing prompt and encode it.
func BenchmarkOutboundFrame(b *testing.B) {
	for _, name := range []string{"opus", "G722", "PCMU"} {
		b.Run(name, func(b *testing.B) {
			c := benchCall(b, name)
			clip := toneClip(1000, c.rate, 10*time.Second)
			if wav, err := audio.ReadWAVFile("/usr/share/asterisk/sounds/en/basic-pbx-ivr-main.wav"); err == nil {
				clip = audio.Clip{Rate: c.rate, Samples: audio.Resample(wav.Samples, wav.Rate, c.rate)} // a real prompt
			}
			pcm := make([]int16, audio.SamplesPer(c.rate, audio.FrameDuration))
			buf := make([]byte, 0, 1500)
			b.ReportAllocs()
			for b.Loop() {
				c.mu.Lock()
				if c.src == nil {
					c.src, c.srcDone = audio.NewClipSource(clip), make(chan struct{})
				}
				c.fillLocked(pcm)
				c.mu.Unlock()
				switch {
				case c.enc != nil:
					c.enc.encode(buf[:0], pcm)
				case c.g722 != nil:
					c.g722.Encode(buf[:0], pcm)
				default:
					codec.PCMU{}.Encode(buf[:0], pcm)
				}
			}
		})
	}
}

// BenchmarkInboundFrame decodes one 20 ms packet of caller audio and feeds
// the DTMF detector, level meter and sink, as readTrack does per packet.
func BenchmarkInboundFrame(b *testing.B) {
	for _, name := range []string{"opus", "G722", "PCMU"} {
		b.Run(name, func(b *testing.B) {
			c := benchCall(b, name)
			src := toneClip(440, c.rate, audio.FrameDuration).Samples
			var payload []byte
			switch name {
			case "opus":
				payload, _ = c.enc.encode(make([]byte, 0, 1500), src)
			case "G722":
				payload = codec.NewG722().Encode(nil, src)
			default:
				payload = codec.PCMU{}.Encode(nil, src)
			}
			pkt := rtp.Packet{Payload: payload}
			pcm := make([]int16, 120*c.rate/1000)
			g722 := codec.NewG722()
			var n int
			c.SetSink(func(f audio.Frame) { n += len(f.Samples) })
			b.ReportAllocs()
			for b.Loop() {
				switch name {
				case "opus":
					k, _ := c.dec.decode(pkt.Payload, pcm)
					c.deliver(pcm[:k])
				case "G722":
					c.deliver(g722.Decode(pcm[:0], pkt.Payload))
				default:
					c.deliver(codec.PCMU{}.Decode(pcm[:0], pkt.Payload))
				}
			}
		})
	}
}
