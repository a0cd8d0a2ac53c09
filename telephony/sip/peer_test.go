package sip

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
	prtp "github.com/pion/rtp"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// testLogger logs to the test when -v, else discards.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("IVR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServer runs a server on loopback with h and returns it with its
// UDP address. It stops when the test ends.
func startServer(t *testing.T, cfg Config, h Handler) (*Server, string) {
	t.Helper()
	if cfg.Listeners == nil {
		cfg.Listeners = []Listener{{Network: "udp", Addr: "127.0.0.1:0"}, {Network: "tcp", Addr: "127.0.0.1:0"}}
	}
	cfg.PublicIP = net.IPv4(127, 0, 0, 1)
	if cfg.RTPPortMin == 0 {
		cfg.RTPPortMin, cfg.RTPPortMax = 30000, 39999
	}
	cfg.Logger = testLogger(t)
	s, err := NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx) }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-errc:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	for _, l := range s.Addrs() {
		if l.Network == "udp" {
			return s, l.Addr
		}
	}
	t.Fatal("no udp listener")
	return nil, ""
}

// peer is an in-process SIP phone for tests: a sipgo UA with its own UDP
// listener (for requests the IVR sends in the dialog), and an RTP socket.
type peer struct {
	t      *testing.T
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	cli    *sipgo.Client
	dc     *sipgo.DialogClientCache
	addr   string // our SIP host:port
	rtp    *net.UDPConn
	cancel context.CancelFunc

	mu       sync.Mutex
	requests chan *gosip.Request // in-dialog requests other than BYE
	byes     chan *gosip.Request
	onRefer  func(req *gosip.Request, tx gosip.ServerTransaction)
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	p := &peer{t: t, ua: ua, srv: srv, cli: cli, addr: pc.LocalAddr().String(),
		requests: make(chan *gosip.Request, 16), byes: make(chan *gosip.Request, 4)}
	p.dc = sipgo.NewDialogClientCache(cli, gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: port}})
	srv.OnBye(func(req *gosip.Request, tx gosip.ServerTransaction) {
		if err := p.dc.ReadBye(req, tx); err != nil {
			tx.Respond(gosip.NewResponseFromRequest(req, 481, "No dialog", nil))
		}
		p.byes <- req
	})
	srv.OnRefer(func(req *gosip.Request, tx gosip.ServerTransaction) {
		p.mu.Lock()
		h := p.onRefer
		p.mu.Unlock()
		if h == nil {
			tx.Respond(gosip.NewResponseFromRequest(req, 501, "Not Implemented", nil))
			return
		}
		h(req, tx)
	})
	for _, m := range []gosip.RequestMethod{gosip.NOTIFY, gosip.INFO, gosip.INVITE} {
		srv.OnRequest(m, func(req *gosip.Request, tx gosip.ServerTransaction) {
			tx.Respond(gosip.NewResponseFromRequest(req, 200, "OK", nil))
			p.requests <- req
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go srv.ServeUDP(pc)
	p.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = ctx
	t.Cleanup(p.close)
	return p
}

func (p *peer) close() {
	p.cancel()
	p.rtp.Close()
	p.srv.Close()
	p.cli.Close()
	p.ua.Close()
}

// offer is an SDP offer from the peer's RTP socket with the given formats
// (e.g. "0 8 101").
func (p *peer) offer(formats string, extra ...string) []byte {
	port := p.rtp.LocalAddr().(*net.UDPAddr).Port
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n", port, formats)
	for _, f := range strings.Fields(formats) {
		switch f {
		case "0":
			b.WriteString("a=rtpmap:0 PCMU/8000\r\n")
		case "8":
			b.WriteString("a=rtpmap:8 PCMA/8000\r\n")
		case "101":
			b.WriteString("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n")
		case "18":
			b.WriteString("a=rtpmap:18 G729/8000\r\n")
		}
	}
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	return []byte(b.String())
}

// invite calls the server and returns the dialog once answered (or the error).
func (p *peer) invite(ctx context.Context, server string, body []byte, hdrs ...gosip.Header) (*sipgo.DialogClientSession, error) {
	var to gosip.Uri
	if err := gosip.ParseUri("sip:ivr@"+server, &to); err != nil {
		return nil, err
	}
	hdrs = append(hdrs, gosip.NewHeader("Content-Type", "application/sdp"))
	d, err := p.dc.Invite(ctx, to, body, hdrs...)
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.Ack(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// rtpRecv reads RTP packets from the IVR until n arrive or the timeout.
func (p *peer) rtpRecv(n int, timeout time.Duration) ([]prtp.Packet, []time.Time, *net.UDPAddr) {
	var pkts []prtp.Packet
	var at []time.Time
	var from *net.UDPAddr
	buf := make([]byte, 1500)
	deadline := time.Now().Add(timeout)
	for len(pkts) < n {
		p.rtp.SetReadDeadline(deadline)
		k, a, err := p.rtp.ReadFromUDP(buf)
		if err != nil {
			break
		}
		var pkt prtp.Packet
		if pkt.Unmarshal(buf[:k]) != nil {
			continue
		}
		pkt.Payload = append([]byte(nil), pkt.Payload...)
		pkts, at, from = append(pkts, pkt), append(at, time.Now()), a
	}
	return pkts, at, from
}

// rtpSend sends one RTP packet to addr.
func (p *peer) rtpSend(to *net.UDPAddr, pt uint8, seq uint16, ts uint32, marker bool, payload []byte) {
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 0x1234, Marker: marker}, Payload: payload}
	b, _ := pkt.Marshal()
	p.rtp.WriteToUDP(b, to)
}

// answerAddr returns the RTP address in the IVR's SDP.
func answerAddr(t *testing.T, body []byte) *net.UDPAddr {
	t.Helper()
	s := string(body)
	var ip string
	var port int
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip = v
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if ip == "" || port == 0 {
		t.Fatalf("no audio address in answer:\n%s", s)
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}
}

// tone is a clip of a 440 Hz sine at -12 dBFS.
func tone(d time.Duration) audio.Clip {
	n := audio.SamplesPer(8000, d)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return audio.Clip{Rate: 8000, Samples: s}
}

// rms of decoded PCMU payloads.
func rmsPCMU(pkts []prtp.Packet) float64 {
	var sum float64
	n := 0
	for _, p := range pkts {
		for _, v := range (codec.PCMU{}).Decode(nil, p.Payload) {
			sum += float64(v) * float64(v)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}

var _ = io.EOF
