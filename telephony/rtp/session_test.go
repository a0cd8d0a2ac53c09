package rtp

import (
	"net"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns a session sending to a plain UDP socket the test reads.
func pair(t *testing.T, cfg Config) (*Session, *net.UDPConn) {
	t.Helper()
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Codec, cfg.PT = codec.PCMU{}, 0
	cfg.Remote = peer.LocalAddr().(*net.UDPAddr)
	s := NewSession(conn, cfg)
	s.Start()
	t.Cleanup(func() { s.Close(); peer.Close() })
	return s, peer
}

func read(t *testing.T, c *net.UDPConn, n int) []prtp.Packet {
	t.Helper()
	var out []prtp.Packet
	buf := make([]byte, 1500)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(out) < n {
		k, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("after %d packets: %v", len(out), err)
		}
		var p prtp.Packet
		if err := p.Unmarshal(buf[:k]); err != nil {
			t.Fatal(err)
		}
		p.Payload = append([]byte(nil), p.Payload...)
		out = append(out, p)
	}
	return out
}

func loud(ms int) audio.Clip {
	s := make([]int16, 8*ms)
	for i := range s {
		if i%16 < 8 {
			s[i] = 10000
		} else {
			s[i] = -10000
		}
	}
	return audio.Clip{Rate: 8000, Samples: s}
}

// TestStreamContinuity swaps sources mid-stream (prompt, barge-in stop,
// silence, a 16 kHz prompt resampled) and checks the stream never breaks:
// one SSRC, sequence +1 and timestamp +160 every packet.
func TestStreamContinuity(t *testing.T) {
	s, peer := pair(t, Config{})
	done := s.Play(audio.NewClipSource(loud(100)))
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("100 ms prompt did not finish")
	}
	s.Play(audio.NewClipSource(loud(1000)))
	time.Sleep(60 * time.Millisecond)
	s.Stop()
	wide := audio.Clip{Rate: 16000, Samples: append(loud(100).Samples, loud(100).Samples...)}
	s.Play(audio.NewClipSource(wide))
	pkts := read(t, peer, 40)
	loudCount := 0
	for i, p := range pkts {
		if i > 0 {
			if p.SSRC != pkts[0].SSRC || p.SequenceNumber != pkts[i-1].SequenceNumber+1 || p.Timestamp != pkts[i-1].Timestamp+160 {
				t.Fatalf("packet %d breaks the stream: ssrc %x seq %d ts %d after seq %d ts %d",
					i, p.SSRC, p.SequenceNumber, p.Timestamp, pkts[i-1].SequenceNumber, pkts[i-1].Timestamp)
			}
		}
		if (codec.PCMU{}).Decode(nil, p.Payload[:1])[0] != 0 {
			loudCount++
		}
	}
	if loudCount < 5 {
		t.Errorf("only %d packets carried audio", loudCount)
	}
	if !pkts[0].Marker {
		t.Error("the first packet of the stream should have the marker bit")
	}
}

// TestSendDTMF checks the RFC 4733 packets the clock sends for a key.
func TestSendDTMF(t *testing.T) {
	s, peer := pair(t, Config{DTMFPT: 101})
	if !s.SendDTMF(5, 100*time.Millisecond) {
		t.Fatal("SendDTMF refused")
	}
	var ev []prtp.Packet
	for _, p := range read(t, peer, 30) {
		if p.PayloadType == 101 {
			ev = append(ev, p)
		}
	}
	if len(ev) != 7 { // 5 updates (one per 20 ms), the last as 3 end packets
		t.Fatalf("%d event packets, want 7", len(ev))
	}
	for i, p := range ev {
		if p.Timestamp != ev[0].Timestamp || p.Payload[0] != 5 {
			t.Errorf("packet %d: ts %d event %d", i, p.Timestamp, p.Payload[0])
		}
		end := p.Payload[1]&0x80 != 0
		if end != (i >= 4) || p.Marker != (i == 0) {
			t.Errorf("packet %d: end %v marker %v", i, end, p.Marker)
		}
	}
}

func TestSendDTMFNotNegotiated(t *testing.T) {
	s, _ := pair(t, Config{DTMFPT: -1})
	if s.SendDTMF(1, 100*time.Millisecond) {
		t.Error("SendDTMF accepted without telephone-event")
	}
}

func TestMediaTimeout(t *testing.T) {
	ended := make(chan error, 1)
	pair(t, Config{MediaTimeout: 200 * time.Millisecond, OnEnd: func(err error) { ended <- err }})
	select {
	case err := <-ended:
		if err != ErrMediaTimeout {
			t.Errorf("end %v, want media timeout", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no media timeout")
	}
}

func TestHoldSendsNothing(t *testing.T) {
	s, peer := pair(t, Config{})
	read(t, peer, 2)
	s.Update(nil, nil, 0, -1, true)
	time.Sleep(60 * time.Millisecond)
	peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 1500)
	for { // drain what was in flight
		if _, _, err := peer.ReadFromUDP(buf); err != nil {
			break
		}
	}
	peer.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := peer.ReadFromUDP(buf); err == nil {
		t.Error("a packet was sent on hold")
	}
}

// TestReceiveDecodesAndReorders sends out-of-order packets to the session
// and checks the decoded frames come out in order.
func TestReceiveDecodesAndReorders(t *testing.T) {
	frames := make(chan []int16, 16)
	s, peer := pair(t, Config{OnFrame: func(pcm []int16) { frames <- append([]int16(nil), pcm...) }})
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()}
	send := func(seq uint16, level int16) {
		pcm := make([]int16, 160)
		for i := range pcm {
			pcm[i] = level
		}
		p := prtp.Packet{Header: prtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 9}, Payload: (codec.PCMU{}).Encode(nil, pcm)}
		b, _ := p.Marshal()
		peer.WriteToUDP(b, to)
	}
	for _, seq := range []uint16{10, 12, 11, 13} {
		send(seq, int16(seq)*100)
	}
	var got []int16
	for len(got) < 4 {
		select {
		case f := <-frames:
			got = append(got, f[0])
		case <-time.After(2 * time.Second):
			t.Fatalf("got %d frames; stats %+v", len(got), s.Stats())
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("frames out of order: %v", got)
		}
	}
}

func BenchmarkFill(b *testing.B) {
	s := &Session{codec: codec.PCMU{}}
	clip := loud(1000000)
	s.src = audio.NewClipSource(clip)
	s.srcDone = make(chan struct{})
	pcm := make([]int16, 160)
	payload := make([]byte, 0, 160)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.fillLocked(pcm)
		payload = s.codec.Encode(payload[:0], pcm)
		if s.src == nil {
			s.src = audio.NewClipSource(clip)
			s.srcDone = make(chan struct{})
		}
	}
}
