package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/openivr/ivr/audio"
)

func noCalls(ctx context.Context, c *Call) {}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTrunkRegistersRefreshesAndUnregisters registers to a second server's
// Registrar (the "provider"), which grants 2 s of the 60 s asked: the
// trunk must follow the grant and refresh, from its listening socket, and
// remove its binding on Close.
func TestTrunkRegistersRefreshesAndUnregisters(t *testing.T) {
	reg := &Registrar{Users: map[string]string{"acme": "s3cret"}, MaxExpires: 2 * time.Second}
	_, provAddr := startServer(t, Config{Registrar: reg}, HandlerFunc(noCalls))
	ivr, ivrAddr := startServer(t, Config{}, HandlerFunc(noCalls))

	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "acme", Registrar: provAddr,
		Username: "acme", Password: "s3cret", Expires: 60 * time.Second, RetryMin: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	waitFor(t, 5*time.Second, "three registrations", func() bool { return tr.Status().Registrations >= 3 })
	st := tr.Status()
	if !st.Registered || st.Granted != 2 || st.LastError != "" || st.Failures != 0 {
		t.Errorf("status %+v: want registered for the 2 s granted", st)
	}
	if left := time.Until(st.Expires); left <= 0 || left > 2*time.Second {
		t.Errorf("registration runs out in %v, want within the 2 s granted", left)
	}
	if st.AOR != "sip:acme@127.0.0.1" {
		t.Errorf("AOR %q", st.AOR)
	}
	b := reg.Lookup("acme")
	if len(b) != 1 {
		t.Fatalf("bindings %+v, want one", b)
	}
	if b[0].Contact != "sip:acme@"+ivrAddr {
		t.Errorf("contact %q, want sip:acme@%s", b[0].Contact, ivrAddr)
	}
	if b[0].Source != ivrAddr {
		t.Errorf("REGISTER came from %s, want the IVR's listener %s", b[0].Source, ivrAddr)
	}
	tr.Close()
	if b := reg.Lookup("acme"); len(b) != 0 {
		t.Errorf("still bound after Close: %+v", b)
	}
	if tr.Status().Registered {
		t.Error("status says registered after Close")
	}
}

func TestTrunkWrongPasswordBacksOff(t *testing.T) {
	reg := &Registrar{Users: map[string]string{"acme": "s3cret"}}
	_, provAddr := startServer(t, Config{Registrar: reg}, HandlerFunc(noCalls))
	ivr, _ := startServer(t, Config{}, HandlerFunc(noCalls))
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "acme", Registrar: "sip:" + provAddr,
		Username: "acme", Password: "wrong", RetryMin: 50 * time.Millisecond, RetryMax: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	waitFor(t, 5*time.Second, "three failures", func() bool { return tr.Status().Failures >= 3 })
	start := time.Now()
	f0 := tr.Status().Failures
	time.Sleep(1200 * time.Millisecond)
	st := tr.Status()
	// Backoff 50, 100, 200, 400, 400 ms (+20 %): over 1.2 s, at most 5
	// attempts more; without backoff there would be dozens.
	if n := st.Failures - f0; n < 1 || n > 5 {
		t.Errorf("%d failures in %v after the first %d: backoff not followed", n, time.Since(start), f0)
	}
	if st.Registered || st.Registrations != 0 || !strings.Contains(st.LastError, "authentication refused") {
		t.Errorf("status %+v: want unregistered with an authentication error", st)
	}
	if st.LastAttempt.IsZero() || !st.LastSuccess.IsZero() {
		t.Errorf("attempt %v success %v", st.LastAttempt, st.LastSuccess)
	}
	if b := reg.Lookup("acme"); len(b) != 0 {
		t.Errorf("bound with a wrong password: %+v", b)
	}
}

func TestTrunkRegistrarSilent(t *testing.T) {
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	ivr, _ := startServer(t, Config{}, HandlerFunc(noCalls))
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "x", Registrar: hole.LocalAddr().String(),
		Username: "acme", Password: "pw", Timeout: 300 * time.Millisecond, RetryMin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a failure", func() bool { return tr.Status().Failures >= 1 })
	if st := tr.Status(); !strings.Contains(st.LastError, "no answer") {
		t.Errorf("last error %q, want no answer", st.LastError)
	}
	start := time.Now()
	tr.Close() // in the hour-long backoff: must return at once, with nothing to unregister
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
}

// TestTrunkUnregistersOnShutdown stops the IVR's server: the binding must
// go before the listeners close, and ctx ending must unregister too.
func TestTrunkUnregistersOnShutdown(t *testing.T) {
	reg := &Registrar{Users: map[string]string{"acme": "s3cret", "beta": "pw2"}}
	_, provAddr := startServer(t, Config{Registrar: reg}, HandlerFunc(noCalls))

	ivr, err := NewServer(Config{Listeners: []Listener{{Network: "udp", Addr: "127.0.0.1:0"}}, PublicIP: net.IPv4(127, 0, 0, 1),
		RTPPortMin: 30000, RTPPortMax: 39999, Logger: testLogger(t)}, HandlerFunc(noCalls))
	if err != nil {
		t.Fatal(err)
	}
	// Started before the server listens: it waits for the listeners.
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "acme", Registrar: provAddr, Username: "acme", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithCancel(context.Background())
	tr2, err := ivr.StartTrunk(tctx, TrunkConfig{Name: "beta", Registrar: provAddr, Username: "beta", Password: "pw2"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ivr.ListenAndServe(ctx) }()
	waitFor(t, 5*time.Second, "both registered", func() bool { return tr.Status().Registered && tr2.Status().Registered })
	if len(reg.Lookup("acme")) != 1 || len(reg.Lookup("beta")) != 1 {
		t.Fatalf("bindings acme %+v beta %+v", reg.Lookup("acme"), reg.Lookup("beta"))
	}
	tcancel()
	waitFor(t, 5*time.Second, "beta unregistered after its ctx ended", func() bool { return len(reg.Lookup("beta")) == 0 })
	tr2.Close()
	if st := tr2.Status(); st.Registered || st.LastError != "" {
		t.Errorf("beta after ctx end: %+v", st)
	}
	cancel()
	select {
	case <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	if b := reg.Lookup("acme"); len(b) != 0 {
		t.Errorf("still bound after the server stopped: %+v", b)
	}
	tr.Close() // after shutdown: a no-op
	if _, err := ivr.StartTrunk(context.Background(), TrunkConfig{Registrar: provAddr, Username: "acme"}); err == nil {
		t.Error("StartTrunk on a stopped server should fail")
	}
}

// provider is a fake SIP provider for trunk tests: a sipgo UAS whose
// REGISTER and INVITE handling each test sets.
type provider struct {
	t    *testing.T
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dsc  *sipgo.DialogServerCache
	addr string
	rtp  *net.UDPConn

	invites chan *gosip.Request
	byes    chan *gosip.Request

	mu       sync.Mutex
	register func(req *gosip.Request, tx gosip.ServerTransaction)
	invite   func(req *gosip.Request, tx gosip.ServerTransaction)
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-provider"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	p := &provider{t: t, ua: ua, srv: srv, cli: cli, addr: pc.LocalAddr().String(),
		invites: make(chan *gosip.Request, 8), byes: make(chan *gosip.Request, 4)}
	p.dsc = sipgo.NewDialogServerCache(cli, gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: "provider", Host: "127.0.0.1", Port: port}})
	p.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(func(req *gosip.Request, tx gosip.ServerTransaction) {
		p.mu.Lock()
		h := p.register
		p.mu.Unlock()
		if h == nil {
			tx.Respond(gosip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
			return
		}
		h(req, tx)
	})
	srv.OnInvite(func(req *gosip.Request, tx gosip.ServerTransaction) {
		p.mu.Lock()
		h := p.invite
		p.mu.Unlock()
		if h == nil {
			tx.Respond(gosip.NewResponseFromRequest(req, 480, "Temporarily Unavailable", nil))
			return
		}
		h(req, tx)
	})
	srv.OnAck(func(req *gosip.Request, tx gosip.ServerTransaction) { p.dsc.ReadAck(req, tx) })
	srv.OnBye(func(req *gosip.Request, tx gosip.ServerTransaction) {
		if err := p.dsc.ReadBye(req, tx); err != nil {
			tx.Respond(gosip.NewResponseFromRequest(req, 481, "No dialog", nil))
		}
		p.byes <- req
	})
	go srv.ServeUDP(pc)
	t.Cleanup(func() {
		p.rtp.Close()
		srv.Close()
		cli.Close()
		ua.Close()
	})
	return p
}

// challengeInvites answers INVITEs with code (407, or 401 as some
// providers do) until they carry right credentials for user/pass, then
// 200 with SDP; wrong ones are challenged again.
func (p *provider) challengeInvites(code int, user, pass string) {
	in, out, reason := "Proxy-Authorization", "Proxy-Authenticate", "Proxy Authentication Required"
	if code == 401 {
		in, out, reason = "Authorization", "WWW-Authenticate", "Unauthorized"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.invite = func(req *gosip.Request, tx gosip.ServerTransaction) {
		p.invites <- req
		h := req.GetHeader(in)
		if h == nil {
			chal := digest.Challenge{Realm: "provider", Nonce: "n0nce" + fmt.Sprint(time.Now().UnixNano()), Algorithm: "MD5", QOP: []string{"auth"}}
			res := gosip.NewResponseFromRequest(req, code, reason, nil)
			res.AppendHeader(gosip.NewHeader(out, chal.String()))
			tx.Respond(res)
			return
		}
		cred, err := digest.ParseCredentials(h.Value())
		ok := err == nil && cred.Username == user
		if ok {
			chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: "MD5", QOP: []string{cred.QOP}}
			want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: cred.URI, Username: user, Password: pass, Count: cred.Nc, Cnonce: cred.Cnonce})
			ok = err == nil && want.Response == cred.Response
		}
		if !ok {
			// Challenge again, as providers do for wrong credentials.
			chal := digest.Challenge{Realm: "provider", Nonce: "again", Algorithm: "MD5", QOP: []string{"auth"}}
			res := gosip.NewResponseFromRequest(req, code, reason, nil)
			res.AppendHeader(gosip.NewHeader(out, chal.String()))
			tx.Respond(res)
			return
		}
		dlg, err := p.dsc.ReadInvite(req, tx)
		if err != nil {
			tx.Respond(gosip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
			return
		}
		port := p.rtp.LocalAddr().(*net.UDPAddr).Port
		sdp := fmt.Sprintf("v=0\r\no=prov 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n", port)
		dlg.Respond(200, "OK", []byte(sdp), gosip.NewHeader("Content-Type", "application/sdp"))
	}
}

// TestTrunkDialAnswersChallenge calls a number through a provider that
// challenges INVITE with 407 (or 401): the trunk answers with its
// credentials, the call comes up with our audio reaching the provider, and
// our BYE ends it.
func TestTrunkDialAnswersChallenge(t *testing.T) {
	for _, code := range []int{407, 401} {
		t.Run(fmt.Sprint(code), func(t *testing.T) { testTrunkDialChallenge(t, code) })
	}
}

func testTrunkDialChallenge(t *testing.T, code int) {
	prov := newProvider(t)
	prov.challengeInvites(code, "acme-auth", "s3cret")
	ivr, ivrAddr := startServer(t, Config{}, HandlerFunc(noCalls))
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "acme", Domain: prov.addr,
		Username: "acme", AuthUsername: "acme-auth", Password: "s3cret", FromUser: "+15550001111", FromName: "Acme Line"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if st := tr.Status(); st.Registers || st.Registered {
		t.Errorf("a trunk without registrar: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tr.Dial(ctx, "+1 (555) 123-4567", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, second := <-prov.invites, <-prov.invites
	if got, want := second.Recipient.String(), "sip:+15551234567@"+prov.addr; got != want {
		t.Errorf("Request-URI %q, want %q", got, want)
	}
	if f := second.From(); f.Address.User != "+15550001111" || f.Address.Host != "127.0.0.1" || f.DisplayName != "Acme Line" {
		t.Errorf("From %q", f.Value())
	}
	if first.GetHeader("Proxy-Authorization") != nil || first.GetHeader("Authorization") != nil {
		t.Error("credentials sent before the challenge")
	}
	if second.CSeq().SeqNo != first.CSeq().SeqNo+1 || second.CallID().Value() != first.CallID().Value() {
		t.Errorf("authenticated INVITE: CSeq %d after %d, Call-ID %q vs %q", second.CSeq().SeqNo, first.CSeq().SeqNo, second.CallID().Value(), first.CallID().Value())
	}
	if second.Source() != ivrAddr {
		t.Errorf("INVITE came from %s, want the IVR's listener %s", second.Source(), ivrAddr)
	}
	// Media: our tone reaches the provider.
	c.Play(audio.NewClipSource(tone(2 * time.Second)))
	pk := &peer{rtp: prov.rtp}
	pkts, _, _ := pk.rtpRecv(25, 3*time.Second)
	if len(pkts) < 25 || rmsPCMU(pkts[5:]) < 3000 {
		t.Fatalf("%d RTP packets at the provider, RMS %.0f", len(pkts), rmsPCMU(pkts))
	}
	c.Hangup(ctx)
	select {
	case <-prov.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE at the provider")
	}
}

func TestTrunkDialWrongPassword(t *testing.T) {
	prov := newProvider(t)
	prov.challengeInvites(407, "acme", "s3cret")
	ivr, _ := startServer(t, Config{}, HandlerFunc(noCalls))
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "acme", Domain: prov.addr, Username: "acme", Password: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tr.Dial(ctx, "5551234", DialOptions{})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 407 {
		if c != nil {
			c.Close()
		}
		t.Fatalf("err %v, want a 407 StatusError", err)
	}
	if _, err := tr.Dial(ctx, "555<1234>", DialOptions{}); err == nil {
		t.Error("a number with <> was dialled")
	}
}

// TestTrunkRegisterIntervalTooBriefAndRetryAfter: a 423 raises the
// lifetime to Min-Expires; a 503 with Retry-After sets the next attempt.
func TestTrunkRegisterIntervalTooBriefAndRetryAfter(t *testing.T) {
	prov := newProvider(t)
	var mu sync.Mutex
	var seen []string
	fail := true
	prov.mu.Lock()
	prov.register = func(req *gosip.Request, tx gosip.ServerTransaction) {
		exp := req.GetHeader("Expires").Value()
		mu.Lock()
		seen = append(seen, exp)
		f := fail
		mu.Unlock()
		switch {
		case f:
			res := gosip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
			res.AppendHeader(gosip.NewHeader("Retry-After", "1"))
			tx.Respond(res)
		case exp == "0":
			tx.Respond(gosip.NewResponseFromRequest(req, 200, "OK", nil))
		case exp != "120":
			res := gosip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(gosip.NewHeader("Min-Expires", "120"))
			tx.Respond(res)
		default:
			res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
			// Another device's binding first, then ours with its grant.
			res.AppendHeader(gosip.NewHeader("Contact", "<sip:other@192.0.2.7:5060>;expires=3000, "+req.Contact().Value()+";expires=90"))
			res.AppendHeader(gosip.NewHeader("Expires", "3600"))
			tx.Respond(res)
		}
	}
	prov.mu.Unlock()
	ivr, _ := startServer(t, Config{}, HandlerFunc(noCalls))
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "p", Registrar: prov.addr, Username: "acme",
		Expires: 30 * time.Second, RetryMin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	waitFor(t, 3*time.Second, "a failure", func() bool { return tr.Status().Failures == 1 })
	if st := tr.Status(); !strings.Contains(st.LastError, "503") {
		t.Errorf("last error %q", st.LastError)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	// Retry-After: 1 beats the hour-long backoff.
	waitFor(t, 3*time.Second, "registered after Retry-After", func() bool { return tr.Status().Registered })
	if st := tr.Status(); st.Granted != 90 {
		t.Errorf("granted %d s, want the 90 s of our Contact", st.Granted)
	}
	tr.Close()
	mu.Lock()
	defer mu.Unlock()
	if want := "30 30 120 0"; strings.Join(seen, " ") != want {
		t.Errorf("Expires sent: %v, want %s", seen, want)
	}
}

func TestGrantedExpires(t *testing.T) {
	ours := gosip.Uri{Scheme: "sip", User: "acme", Host: "10.0.0.5", Port: 5060}
	for _, tc := range []struct {
		msg  string
		want int
	}{
		{"Contact: <sip:acme@10.0.0.5:5060>;expires=120\r\nExpires: 3600\r\n", 120},
		{"Contact: <sip:acme@10.0.0.5>;EXPIRES=45\r\n", 45},                                    // port 5060 implied
		{"Contact: <sip:x@192.0.2.1>;expires=99, <sip:acme@10.0.0.5:5060>;expires=30\r\n", 30}, // ours is the second
		{"Contact: <sip:x@192.0.2.1>;expires=99\r\nExpires: 200\r\n", 200},                     // not ours: Expires
		{"Contact: <sip:acme@10.0.0.5:5060>\r\nExpires: 60\r\n", 60},
		{"", 300}, // nothing said: what we asked
		{"Contact: <sip:acme@10.0.0.5:5060>;expires=junk\r\nExpires: junk\r\n", 300},
		{"Contact: <sip:acme@10.0.0.5:5060>;expires=0\r\n", 0},
	} {
		res := parseResponse(t, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: a\r\nCSeq: 2 REGISTER\r\n"+tc.msg+"Content-Length: 0\r\n\r\n")
		if got := grantedExpires(res, ours, 300); got != tc.want {
			t.Errorf("%q: granted %d, want %d", tc.msg, got, tc.want)
		}
	}
}

func parseResponse(t testing.TB, s string) *gosip.Response {
	t.Helper()
	msg, err := gosip.NewParser().ParseSIP([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	res, ok := msg.(*gosip.Response)
	if !ok {
		t.Fatal("not a response")
	}
	return res
}

func TestRefreshIn(t *testing.T) {
	for _, tc := range []struct{ granted, want time.Duration }{
		{3600 * time.Second, 3540 * time.Second},
		{300 * time.Second, 240 * time.Second},
		{60 * time.Second, 30 * time.Second},
		{2 * time.Second, time.Second},
	} {
		if got := refreshIn(tc.granted); got != tc.want {
			t.Errorf("refreshIn(%v) = %v, want %v", tc.granted, got, tc.want)
		}
	}
}

func TestDialUser(t *testing.T) {
	for in, want := range map[string]string{
		"+1 (555) 123-4567":  "+15551234567",
		"555.123.4567":       "5551234567",
		"*72#":               "*72%23",
		"alice":              "alice",
		"alice.smith":        "alice.smith",
		" 0044 20 7946 0000": "00442079460000",
	} {
		got, err := dialUser(in)
		if err != nil || got != want {
			t.Errorf("dialUser(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "  ", "()", "555@evil.example", "1;transport=tcp", "a b", "55+5", "x\r\ny", strings.Repeat("1", 65)} {
		if got, err := dialUser(bad); err == nil {
			t.Errorf("dialUser(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct{ in, transport, want string }{
		{"sip.example.com", "udp", "sip:sip.example.com"},
		{"sip.example.com:5080", "tcp", "sip:sip.example.com:5080;transport=tcp"},
		{"sip:sip.example.com;transport=udp", "tcp", "sip:sip.example.com;transport=udp"},
		{"sips:sip.example.com", "tls", "sips:sip.example.com"},
		{"127.0.0.1:5062", "tls", "sip:127.0.0.1:5062;transport=tls"},
	} {
		u, err := parseTarget(tc.in, tc.transport)
		if err != nil || u.String() != tc.want {
			t.Errorf("parseTarget(%q, %s) = %q, %v; want %q", tc.in, tc.transport, u.String(), err, tc.want)
		}
	}
	for _, bad := range []string{"", "sip:", "sip:*"} {
		if u, err := parseTarget(bad, "udp"); err == nil {
			t.Errorf("parseTarget(%q) = %q, want an error", bad, u.String())
		}
	}
}

func TestPickChallenge(t *testing.T) {
	h := func(v string) gosip.Header { return gosip.NewHeader("WWW-Authenticate", v) }
	c, err := pickChallenge([]gosip.Header{
		h(`Digest realm="r", nonce="n1", algorithm=AKAv1-MD5, qop="auth"`), // cannot answer
		h(`Digest realm="r", nonce="n2", algorithm=md5, qop="auth,auth-int"`),
	})
	if err != nil || c.Nonce != "n2" || c.Algorithm != "MD5" {
		t.Fatalf("picked %+v, %v", c, err)
	}
	if _, err := pickChallenge([]gosip.Header{h(`Basic realm="r"`)}); err == nil {
		t.Error("Basic picked")
	}
	if _, err := pickChallenge([]gosip.Header{h(`Digest realm="r", nonce="n", qop="auth-int"`)}); err == nil {
		t.Error("auth-int only picked")
	}
	if _, err := pickChallenge(nil); err == nil {
		t.Error("no header, no error")
	}
}

// FuzzTrunkResponse runs what the trunk reads from a registrar's answer:
// the granted lifetime, the challenge, Retry-After. Nothing may panic, and
// a lifetime is never negative.
func FuzzTrunkResponse(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: a\r\nCSeq: 2 REGISTER\r\nContact: <sip:acme@10.0.0.5>;expires=120, <sip:b@h>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: a\r\nCSeq: 2 REGISTER\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=MD5, stale=true\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: a\r\nCSeq: 2 INVITE\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nRetry-After: 30 (busy);duration=5\r\nContent-Length: 0\r\n\r\n"))
	ours := gosip.Uri{Scheme: "sip", User: "acme", Host: "10.0.0.5"}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := gosip.NewParser().ParseSIP(data)
		if err != nil {
			return
		}
		res, ok := msg.(*gosip.Response)
		if !ok {
			return
		}
		if g := grantedExpires(res, ours, 300); g < 0 {
			t.Fatalf("granted %d", g)
		}
		if d := retryAfterOf(res); d < 0 || d > time.Hour {
			t.Fatalf("retry after %v", d)
		}
		answerChallenge(res, "REGISTER", "sip:h", "acme", "pw")
		for _, h := range res.GetHeaders("Contact") {
			splitAddresses(h.Value())
		}
	})
}

// FuzzDialUser: whatever is typed as a number, what we dial is a user
// part that parses back as itself in a SIP URI, or an error.
func FuzzDialUser(f *testing.F) {
	for _, s := range []string{"+1 (555) 123-4567", "*72#", "alice", "555@x", "1;a=b", "%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, number string) {
		user, err := dialUser(number)
		if err != nil {
			return
		}
		var u gosip.Uri
		if err := gosip.ParseUri("sip:"+user+"@example.com:5060", &u); err != nil {
			t.Fatalf("%q -> %q does not parse: %v", number, user, err)
		}
		if u.User != user || u.Host != "example.com" || u.Port != 5060 || len(u.UriParams) != 0 || len(u.Headers) != 0 {
			t.Fatalf("%q -> %q parses as user %q host %q port %d params %v headers %v", number, user, u.User, u.Host, u.Port, u.UriParams, u.Headers)
		}
	})
}

// FuzzParseTarget: a configured registrar/domain either fails or gives a
// URI with a host that prints and parses again.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"sip.example.com", "sip:a@b:5060;transport=tcp", "sips:h", "[::1]:5060", "h:99999", "sip:*"} {
		f.Add(s, "udp")
		f.Add(s, "tcp")
	}
	f.Fuzz(func(t *testing.T, s, transport string) {
		if _, err := parseTarget(s, transport); err == nil && transport != "udp" && transport != "tcp" && transport != "tls" {
			t.Fatalf("transport %q accepted", transport)
		}
		for _, tr := range []string{"udp", "tcp", "tls"} {
			u, err := parseTarget(s, tr)
			if err != nil {
				continue
			}
			if u.Host == "" {
				t.Fatalf("%q: no host", s)
			}
			var again gosip.Uri
			if err := gosip.ParseUri(u.String(), &again); err != nil {
				t.Fatalf("%q (%s) -> %q does not parse again: %v", s, tr, u.String(), err)
			}
		}
	})
}

// TestTrunkRegistersOverTCP: transport tcp puts ;transport=tcp on the
// registrar URI and registers the TCP contact.
func TestTrunkRegistersOverTCP(t *testing.T) {
	reg := &Registrar{Users: map[string]string{"acme": "s3cret"}}
	prov, _ := startServer(t, Config{Registrar: reg}, HandlerFunc(noCalls))
	var provAddr string
	for _, l := range prov.Addrs() {
		if l.Network == "tcp" {
			provAddr = l.Addr
		}
	}
	ivr, _ := startServer(t, Config{}, HandlerFunc(noCalls))
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "acme", Registrar: provAddr, Transport: "TCP",
		Username: "acme", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	waitFor(t, 5*time.Second, "registered", func() bool { return tr.Status().Registered })
	if st := tr.Status(); st.Registrar != "sip:"+provAddr+";transport=tcp" || st.Granted != 300 {
		t.Errorf("status %+v", st)
	}
	b := reg.Lookup("acme")
	if len(b) != 1 || !strings.HasSuffix(b[0].Contact, ";transport=tcp") {
		t.Fatalf("bindings %+v, want the TCP contact", b)
	}
	tr.Close()
	if b := reg.Lookup("acme"); len(b) != 0 {
		t.Errorf("still bound: %+v", b)
	}
}

// TestTrunkKeepAlive: a registered trunk pings its registrar with OPTIONS
// from its listening socket and reports it reachable; when the provider
// stops answering the pings (a NAT mapping or the provider lost), the trunk
// registers again at once instead of waiting for its refresh.
func TestTrunkKeepAlive(t *testing.T) {
	reg := &Registrar{Users: map[string]string{"acme": "s3cret"}}
	_, provAddr := startServer(t, Config{Registrar: reg}, HandlerFunc(noCalls))
	ivr, _ := startServer(t, Config{}, HandlerFunc(noCalls))
	tr, err := ivr.StartTrunk(context.Background(), TrunkConfig{Name: "acme", Registrar: provAddr,
		Username: "acme", Password: "s3cret", Expires: 60 * time.Second, KeepAlive: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "an answered keep-alive", func() bool {
		st := tr.Status()
		return st.Reachable && !st.LastKeepAlive.IsZero()
	})
	if st := tr.Status(); st.Registrations != 1 || st.KeepAliveMisses != 0 || st.RTTMillis <= 0 {
		t.Errorf("status %+v: want one registration, answered pings with a round trip", st)
	}
	tr.Close()

	// A provider that grants registrations but never answers OPTIONS.
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	registers, pings := 0, 0
	srv.OnRegister(func(req *gosip.Request, tx gosip.ServerTransaction) {
		mu.Lock()
		registers++
		mu.Unlock()
		res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
		if c := req.Contact(); c != nil {
			cc := c.Clone()
			cc.Params = gosip.NewParams()
			cc.Params.Add("expires", "60")
			res.AppendHeader(cc)
		}
		tx.Respond(res)
	})
	srv.OnOptions(func(req *gosip.Request, tx gosip.ServerTransaction) {
		mu.Lock()
		pings++
		mu.Unlock()
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeUDP(pc)
	defer pc.Close()
	tr, err = ivr.StartTrunk(context.Background(), TrunkConfig{Name: "mute", Registrar: pc.LocalAddr().String(),
		Username: "acme", Password: "s3cret", Expires: 60 * time.Second, KeepAlive: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	waitFor(t, 5*time.Second, "a second registration after unanswered pings", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return registers >= 2
	})
	mu.Lock()
	if pings < keepAliveMisses {
		t.Errorf("%d pings before registering again, want %d", pings, keepAliveMisses)
	}
	mu.Unlock()
	if st := tr.Status(); st.Reachable {
		t.Errorf("status %+v: a provider that does not answer pings is not reachable", st)
	}
}
