//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

// testClip is 300 ms of quiet noise, 500 ms of a -20 dBFS tone (the
// "speech") and 400 ms of the same noise, at 8 kHz.
func testClip() []int16 {
	var s []int16
	noise := func(n int) {
		for i := range n {
			s = append(s, int16(30*math.Sin(float64(i)*1.7))) // about -64 dBFS
		}
	}
	noise(2400)
	amp := 32767 * math.Pow(10, -20.0/20)
	for i := range 4000 {
		s = append(s, int16(amp*math.Sin(2*math.Pi*300*float64(i)/8000)))
	}
	noise(3200)
	return s
}

func TestNewUtterance(t *testing.T) {
	u, err := newUtterance(8000, testClip())
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Frames) != 60 || u.VoicedStart != 15 || u.VoicedEnd != 40 {
		t.Errorf("frames %d, voiced %d..%d; want 60, 15..40", len(u.Frames), u.VoicedStart, u.VoicedEnd)
	}
	for _, f := range u.Frames {
		if len(f) != samplesPerFrame {
			t.Fatalf("frame of %d bytes", len(f))
		}
	}
	// A partial last frame is padded with silence.
	u, err = newUtterance(8000, testClip()[:9000])
	if err != nil || len(u.Frames) != 57 || u.Frames[56][100] != 0xff {
		t.Errorf("partial frame: %d frames, %v", len(u.Frames), err)
	}
	if _, err := newUtterance(16000, testClip()); err == nil {
		t.Error("16 kHz accepted")
	}
	if _, err := newUtterance(8000, make([]int16, 800)); err == nil {
		t.Error("digital silence accepted as speech")
	}
	if _, err := newUtterance(8000, nil); err == nil {
		t.Error("no samples accepted")
	}
}

func TestULawRoundTrip(t *testing.T) {
	for _, x := range []int16{0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32000, -32000} {
		y := ulawToLinear(linearToULaw(x))
		if d := math.Abs(float64(y) - float64(x)); d > math.Abs(float64(x))/16+8 {
			t.Errorf("%d -> %d", x, y)
		}
	}
	if l := ulawLevelDBFS(silenceFrame); l > -90 {
		t.Errorf("silence at %.1f dBFS", l)
	}
	if l := ulawLevelDBFS(toneFrame); l < -24 || l > -22 {
		t.Errorf("-20 dBFS peak tone (RMS -23) at %.1f dBFS", l)
	}
}

func TestLoadUtterances(t *testing.T) {
	dir := t.TempDir()
	if err := audio.WriteWAVFile(filepath.Join(dir, "a.wav"), audio.Clip{Rate: 8000, Samples: testClip()}); err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(dir, "labels.csv")
	os.WriteFile(labels, []byte("file,intent,text\n# a comment\na.wav,check_balance,what is my balance\n"), 0o644)
	us, err := loadUtterances(labels)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || us[0].File != "a.wav" || us[0].Intent != "check_balance" || us[0].Text != "what is my balance" || us[0].VoicedEnd != 40 {
		t.Errorf("loaded %+v", us)
	}
	for name, body := range map[string]string{
		"empty.csv":   "file,intent\n",
		"short.csv":   "a.wav\n",
		"missing.csv": "nope.wav,x\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := loadUtterances(p); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestPeerSaysUtterance plays the IVR: a silent stream, then (once the
// caller's speech is over) a loud reply. The peer must send silence, then
// the utterance's frames in order, then silence, and time the reply.
func TestPeerSaysUtterance(t *testing.T) {
	u, err := newUtterance(8000, testClip())
	if err != nil {
		t.Fatal(err)
	}
	u.File, u.Intent = "a.wav", "check_balance"
	p, ivr, closePeer := startPeer(t, peerConfig{
		Calls: 1, IP: net.IPv4(127, 0, 0, 1), PT: 0, DTMFPT: 101, Idle: 300 * time.Millisecond,
		Utterances: []utterance{u}, UtterAt: 100 * time.Millisecond, UtterSync: true, Fill: "silence",
	})
	port := p.Ports()[0]

	// Collect what the peer sends; the sender answers silence until the
	// utterance is over plus 150 ms, then replies loudly.
	var got [][]byte
	var speechOver atomic.Int64 // Unix ns when the last frame came back
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			binary.BigEndian.PutUint16(pkt[2:], uint16(i))
			binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
			payload := silenceFrame
			if over := speechOver.Load(); over != 0 && time.Now().UnixNano()-over > int64(150*time.Millisecond) {
				payload = toneFrame
			}
			copy(pkt[12:], payload)
			ivr.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		}
	}()
	buf := make([]byte, 1500)
	ivr.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 90 {
		n, _, err := ivr.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if buf[1]&0x7f != 0 || n != 12+160 {
			t.Fatalf("packet of type %d, %d bytes", buf[1]&0x7f, n)
		}
		got = append(got, bytes.Clone(buf[12:n]))
		if speechOver.Load() == 0 && len(got) > 2 && bytes.Equal(got[len(got)-1], u.Frames[len(u.Frames)-1]) {
			speechOver.Store(time.Now().UnixNano())
		}
	}
	close(stop)
	<-done

	// The frames: silence, then exactly the utterance, then silence.
	start := -1
	for i, f := range got {
		if !bytes.Equal(f, silenceFrame) {
			start = i
			break
		}
	}
	if start < 1 || start+len(u.Frames) > len(got) {
		t.Fatalf("utterance starts at packet %d of %d", start, len(got))
	}
	for k, f := range u.Frames {
		if !bytes.Equal(got[start+k], f) {
			t.Fatalf("packet %d is not frame %d of the utterance", start+k, k)
		}
	}
	for i := start + len(u.Frames); i < len(got); i++ {
		if !bytes.Equal(got[i], silenceFrame) {
			t.Fatalf("packet %d after the utterance is not silence", i)
		}
	}

	time.Sleep(400 * time.Millisecond)
	closePeer()
	s := p.Summary()
	if len(s.Utterances) != 1 || s.UtterancesComplete != 1 {
		t.Fatalf("utterances %+v", s.Utterances)
	}
	r := s.Utterances[0]
	if r.Call != 1 || r.File != "a.wav" || r.Intent != "check_balance" || !r.Complete {
		t.Errorf("utterance %+v", r)
	}
	if !(r.StartUnix > 0 && r.StartUnix <= r.VoicedStartUnix && r.VoicedStartUnix < r.VoicedEndUnix && r.VoicedEndUnix < r.EndUnix) {
		t.Errorf("times out of order: %+v", r)
	}
	if d := r.VoicedEndUnix - r.VoicedStartUnix; d < 0.4 || d > 0.6 {
		t.Errorf("voiced span %.3f s, want about 0.48", d)
	}
	// The reply comes about 150 ms after the clip's end (0.4 s after the
	// speech) plus up to a tick.
	if d := r.ReplyUnix - r.EndUnix; r.ReplyUnix == 0 || d < 0.1 || d > 0.5 {
		t.Errorf("reply %.3f s after the clip ended (reply_unix %v)", d, r.ReplyUnix)
	}
	if s.Speaking == nil || s.Speaking.Interval.Count == 0 {
		t.Error("no speaking window")
	}
}

func TestPeerConfigErrors(t *testing.T) {
	for _, cfg := range []peerConfig{
		{Calls: 1, IP: net.IPv4(127, 0, 0, 1), Fill: "noise"},
		{Calls: 1, IP: net.IPv4(127, 0, 0, 1), UtterAt: -time.Second},
	} {
		if p, err := newPeer(cfg); err == nil {
			p.closeFDs()
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// FuzzNewUtterance: any 8 kHz samples either give whole PCMU frames with
// a voiced span inside them, or an error; never a panic.
func FuzzNewUtterance(f *testing.F) {
	f.Add([]byte{0, 0, 0x10, 0x27, 0xf0, 0xd8})
	f.Add(make([]byte, 800))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := make([]int16, len(b)/2)
		for i := range s {
			s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		u, err := newUtterance(8000, s)
		if err != nil {
			return
		}
		if len(u.Frames) != (len(s)+samplesPerFrame-1)/samplesPerFrame {
			t.Fatalf("%d frames for %d samples", len(u.Frames), len(s))
		}
		if u.VoicedStart < 0 || u.VoicedStart >= u.VoicedEnd || u.VoicedEnd > len(u.Frames) {
			t.Fatalf("voiced %d..%d of %d frames", u.VoicedStart, u.VoicedEnd, len(u.Frames))
		}
	})
}
