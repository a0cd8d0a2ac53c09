package webrtc

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// offerSeeds are the committed offers: Chromium's (captured from the
// browser test) and pion's.
func offerSeeds(f *testing.F) []string {
	files, _ := filepath.Glob("testdata/*.sdp")
	var out []string
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// FuzzParseOffer: the offer request parser never panics, and what it
// accepts is bounded and well formed.
func FuzzParseOffer(f *testing.F) {
	for _, sdp := range offerSeeds(f) {
		f.Add([]byte(`{"type":"offer","flow":"main","sdp":` + jsonString(sdp) + `}`))
	}
	f.Add([]byte(`{"sdp":"v=0"}`))
	f.Add([]byte(`{"type":"answer","sdp":"v=0"}`))
	f.Add([]byte(`{"sdp":"v=0","flow":"../../etc"}`))
	f.Add([]byte(`{"sdp":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parseOffer(b)
		if err != nil {
			return
		}
		if len(o.SDP) > maxSDP || len(o.Flow) > maxFlowName || !validFlowName(o.Flow) {
			t.Fatalf("accepted %+v", o)
		}
	})
}

// FuzzParseClientMessage: data channel messages from the browser never
// panic the parser.
func FuzzParseClientMessage(f *testing.F) {
	f.Add([]byte(`{"type":"hangup"}`))
	f.Add([]byte(`{"type":"caption","who":"caller","text":"hi"}`))
	f.Add([]byte(`{"type":""}`))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte(`{"type":{"a":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseClientMessage(b)
		if err == nil && m.Type == "" {
			t.Fatal("accepted a message without a type")
		}
	})
}

// FuzzAnswer feeds offers, as the browser would post them, through the
// whole answer path (pion's SDP parsing and negotiation, our codec
// choice): it must refuse or answer, never panic or hang.
func FuzzAnswer(f *testing.F) {
	for _, sdp := range offerSeeds(f) {
		f.Add(sdp)
	}
	f.Add("v=0\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 00\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 opus/48000/2\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=setup:actpass\r\n")
	s, err := NewServer(Config{Handler: nopHandler, GatherTimeout: 200 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close(context.Background()) })
	f.Fuzz(func(t *testing.T, sdp string) {
		o, err := parseOffer([]byte(`{"sdp":` + jsonString(sdp) + `}`))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := s.answer(ctx, o, "192.0.2.1", "")
		if err != nil {
			return
		}
		c.end(EndShutdown)
		c.cleanup()
	})
}
