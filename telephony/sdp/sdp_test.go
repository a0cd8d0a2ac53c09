package sdp

import (
	"errors"
	"net"
	"strings"
	"testing"
)

const offerPCMU = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sdp       string
		supported []string
		codec     string
		dtmf      int
		dir       Direction
		hold      bool
		err       error
	}{
		{name: "caller prefers PCMU", sdp: offerPCMU, supported: []string{"PCMA", "PCMU"}, codec: "PCMU", dtmf: 101, dir: SendRecv},
		{name: "caller prefers PCMA", sdp: strings.Replace(offerPCMU, "RTP/AVP 0 8 101", "RTP/AVP 8 0 101", 1), supported: []string{"PCMU", "PCMA"}, codec: "PCMA", dtmf: 101, dir: SendRecv},
		{name: "only what we support", sdp: offerPCMU, supported: []string{"PCMA"}, codec: "PCMA", dtmf: 101, dir: SendRecv},
		{name: "static payload types without rtpmap", sdp: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8\r\n", supported: []string{"PCMU", "PCMA"}, codec: "PCMA", dtmf: -1, dir: SendRecv},
		{name: "dynamic telephone-event number", sdp: strings.ReplaceAll(strings.Replace(offerPCMU, "0 8 101", "0 96", 1), "101", "96"), supported: []string{"PCMU"}, codec: "PCMU", dtmf: 96, dir: SendRecv},
		{name: "hold sendonly", sdp: offerPCMU + "a=sendonly\r\n", supported: []string{"PCMU"}, codec: "PCMU", dtmf: 101, dir: RecvOnly, hold: true},
		{name: "hold old style", sdp: strings.Replace(offerPCMU, "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0", 1), supported: []string{"PCMU"}, codec: "PCMU", dtmf: 101, dir: SendRecv, hold: true},
		{name: "inactive", sdp: offerPCMU + "a=inactive\r\n", supported: []string{"PCMU"}, codec: "PCMU", dtmf: 101, dir: Inactive, hold: true},
		{name: "no common codec", sdp: strings.Replace(offerPCMU, "RTP/AVP 0 8 101", "RTP/AVP 18 101", 1), supported: []string{"PCMU"}, err: ErrNoCommonCodec},
		{name: "SRTP only", sdp: strings.Replace(offerPCMU, "RTP/AVP", "RTP/SAVP", 1), supported: []string{"PCMU"}, err: ErrNoCommonCodec},
		{name: "refused stream", sdp: strings.Replace(offerPCMU, "m=audio 4000", "m=audio 0", 1), supported: []string{"PCMU"}, err: ErrNoAudio},
		{name: "video only", sdp: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 31\r\n", supported: []string{"PCMU"}, err: ErrNoAudio},
		{name: "not SDP", sdp: "hello", supported: []string{"PCMU"}, err: ErrMalformed},
		{name: "no connection address", sdp: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", supported: []string{"PCMU"}, err: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.sdp))
			var n *Negotiated
			if err == nil {
				n, err = Negotiate(m, tc.supported)
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Codec.Name() != tc.codec || n.DTMFPT != tc.dtmf || n.Direction != tc.dir || m.OnHold() != tc.hold {
				t.Errorf("got %s dtmf %d dir %s hold %v, want %s %d %s %v", n.Codec.Name(), n.DTMFPT, n.Direction, m.OnHold(), tc.codec, tc.dtmf, tc.dir, tc.hold)
			}
		})
	}
}

func TestAnswerIsValidSDP(t *testing.T) {
	m, err := Parse([]byte(offerPCMU))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Negotiate(m, []string{"PCMU", "PCMA"})
	if err != nil {
		t.Fatal(err)
	}
	ans := Answer(Local{Addr: net.IPv4(198, 51, 100, 7), Port: 10002, SessionID: 42, Version: 3}, n)
	want := "v=0\r\no=- 42 3 IN IP4 198.51.100.7\r\ns=ivr\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n" +
		"m=audio 10002 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
	if string(ans) != want {
		t.Errorf("answer:\n%s\nwant:\n%s", ans, want)
	}
	// Our answer parses as an offer would, with the same choices.
	back, err := Parse(ans)
	if err != nil {
		t.Fatal(err)
	}
	if back.Port != 10002 || len(back.Formats) != 2 || back.Formats[1].Name != "telephone-event" {
		t.Errorf("re-parsed answer: %+v", back)
	}
}

func TestOffer(t *testing.T) {
	o := Offer(Local{Addr: net.IPv4(127, 0, 0, 1), Port: 10000, SessionID: 1, Version: 1}, []string{"PCMA", "PCMU", "NOPE"}, SendRecv)
	m, err := Parse(o)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Formats {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "PCMA,PCMU,telephone-event" {
		t.Errorf("offer formats %v", names)
	}
}

// FuzzParse: any body either parses or fails with an error; never a panic,
// and a parsed offer negotiates without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(offerPCMU))
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0 300 x\r\na=rtpmap:0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		Negotiate(m, []string{"PCMU", "PCMA", "G722"})
	})
}
