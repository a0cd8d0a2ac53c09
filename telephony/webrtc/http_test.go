package webrtc

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func webrtcGathered(p *testPeer) <-chan struct{} { return webrtc.GatheringCompletePromise(p.pc) }

func nopHandler(context.Context, *Call) {}

func TestOriginPolicy(t *testing.T) {
	p := newOriginPolicy([]string{"https://shop.example.com", "https://*.example.org", "http://localhost:3000"}, false)
	cases := []struct {
		origin, host string
		want         bool
	}{
		{"https://shop.example.com", "ivr.example.net", true},
		{"https://SHOP.example.com", "ivr.example.net", true},
		{"http://shop.example.com", "ivr.example.net", false}, // scheme matters
		{"https://shop.example.com:8443", "ivr.example.net", false},
		{"https://a.example.org", "ivr.example.net", true},
		{"https://a.b.example.org", "ivr.example.net", true},
		{"https://example.org", "ivr.example.net", false}, // the wildcard needs a subdomain
		{"https://evilexample.org", "ivr.example.net", false},
		{"http://localhost:3000", "ivr.example.net", true},
		{"http://localhost:3001", "ivr.example.net", false},
		{"http://127.0.0.1:8080", "127.0.0.1:8080", true}, // same origin: the demo page
		{"https://evil.example.net", "ivr.example.net", false},
		{"", "ivr.example.net", false},
		{"null", "ivr.example.net", false},
		{"javascript:alert(1)", "ivr.example.net", false},
		{"https://", "ivr.example.net", false},
		{"%%%", "ivr.example.net", false},
	}
	sameOrigin := httptest.NewRequest(http.MethodGet, "http://ivr.example.net/webrtc/config", nil)
	sameOrigin.Header.Set("Sec-Fetch-Site", "same-origin")
	if !p.allowed(sameOrigin) {
		t.Error("a same-origin GET without Origin (Fetch Metadata) refused")
	}
	sameOrigin.Header.Set("Sec-Fetch-Site", "cross-site")
	if p.allowed(sameOrigin) {
		t.Error("a cross-site request without Origin allowed")
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "http://"+c.host+"/webrtc/calls", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := p.allowed(r); got != c.want {
			t.Errorf("origin %q on host %q: allowed %v, want %v", c.origin, c.host, got, c.want)
		}
	}
	any := newOriginPolicy([]string{"*"}, true)
	for _, o := range []string{"", "null", "https://anything.test"} {
		r := httptest.NewRequest(http.MethodPost, "http://ivr/webrtc/calls", nil)
		if o != "" {
			r.Header.Set("Origin", o)
		}
		if !any.allowed(r) {
			t.Errorf("* with no-origin: %q refused", o)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{},
		{Handler: nopHandler, OpusRate: 44100},
		{Handler: nopHandler, UDPPortMin: 20000},
		{Handler: nopHandler, UDPPortMin: 20000, UDPPortMax: 10000},
		{Handler: nopHandler, PublicIPs: []string{"not-an-ip"}},
		{Handler: nopHandler, ICEServers: []ICEServer{{}}},
		{Handler: nopHandler, ICEServers: []ICEServer{{URLs: []string{"http://stun.example"}}}},
		{Handler: nopHandler, AllowedOrigins: []string{"shop.example.com"}},
		{Handler: nopHandler, AllowedOrigins: []string{"https://shop.example.com/path"}},
		{Handler: nopHandler, AllowedOrigins: []string{"https://a.*.example.com"}},
	}
	for i, c := range bad {
		if _, err := NewServer(c); err == nil {
			t.Errorf("config %d accepted: %+v", i, c)
		}
	}
	good := Config{
		Handler: nopHandler, PublicIPs: []string{"203.0.113.7"}, UDPPortMin: 40000, UDPPortMax: 40100,
		ICEServers:     []ICEServer{{URLs: []string{"stun:stun.example.net:3478"}}, {URLs: []string{"turn:turn.example.net:3478?transport=udp"}}},
		AllowedOrigins: []string{"*", "https://*.example.com", "https://shop.example.com/"},
		OpusRate:       48000,
	}
	s, err := NewServer(good)
	if err != nil {
		t.Fatal(err)
	}
	s.Close(context.Background())
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(6, 3, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("burst call %d refused", i)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("4th call: ok %v wait %v, want refused with a wait up to 10 s", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another client refused")
	}
	now = now.Add(10 * time.Second) // 6 a minute: one token
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("refused after the refill")
	}
	if ok, _ := l.allow("a"); ok {
		t.Fatal("two tokens after one refill")
	}
	if off := newRateLimiter(-1, 3, time.Now); off != nil {
		t.Fatal("negative rate should turn the limit off")
	}
	var nilL *rateLimiter
	if ok, _ := nilL.allow("x"); !ok {
		t.Fatal("nil limiter refused")
	}
}

func TestRateLimiterBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(60, 1, func() time.Time { return now })
	for i := range maxBuckets {
		l.allow(string(rune(i)) + "x")
	}
	if ok, _ := l.allow("newcomer"); ok {
		t.Fatal("a full table of empty buckets admitted a newcomer")
	}
	now = now.Add(time.Minute) // all refilled: swept
	if ok, _ := l.allow("newcomer"); !ok {
		t.Fatal("newcomer refused after the sweep")
	}
	if len(l.buckets) > 2 {
		t.Fatalf("%d buckets after the sweep", len(l.buckets))
	}
}

// TestSignallingRefusals covers every refusal of the offer endpoint, with
// the CORS headers an allowed or refused page needs to read it.
func TestSignallingRefusals(t *testing.T) {
	_, hs := testServer(t, Config{AllowedOrigins: []string{"http://allowed.test"}, CallsPerMinute: 60, CallBurst: 2, MaxCalls: 1},
		func(ctx context.Context, c *Call) { <-c.Done() })
	post := func(origin, ctype, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/webrtc/calls", strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	res := post("http://refused.test", "application/json", `{"sdp":"v=0"}`)
	if res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "http://refused.test" {
		t.Errorf("refused origin: %d, ACAO %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	if res := post("", "application/json", `{"sdp":"v=0"}`); res.StatusCode != http.StatusForbidden {
		t.Errorf("no origin: %d", res.StatusCode)
	}
	if res := post("http://allowed.test", "text/plain", `{"sdp":"v=0"}`); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", res.StatusCode)
	}
	// Each of these takes a token: burst 2, so the third is rate limited.
	if res := post("http://allowed.test", "application/json", `{"sdp":`); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", res.StatusCode)
	}
	if res := post("http://allowed.test", "application/json", `{"sdp":"v=0\r\nthis is not SDP"}`); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad SDP: %d", res.StatusCode)
	}
	res = post("http://allowed.test", "application/json", `{"sdp":"v=0"}`)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("rate limit: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}

	// Preflight: an allowed page may POST JSON.
	req, _ := http.NewRequest(http.MethodOptions, hs.URL+"/webrtc/calls", nil)
	req.Header.Set("Origin", "http://allowed.test")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		res.Header.Get("Access-Control-Allow-Headers") != "Content-Type" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}

	// The config endpoint follows the same allowlist.
	for origin, want := range map[string]int{"http://allowed.test": 200, "http://refused.test": 403} {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/webrtc/config", nil)
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("config from %s: %d, want %d", origin, res.StatusCode, want)
		}
	}

	// DELETE of an unknown call.
	req, _ = http.NewRequest(http.MethodDelete, hs.URL+"/webrtc/calls/nope", nil)
	req.Header.Set("Origin", "http://allowed.test")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE unknown: %d", res.StatusCode)
	}
}

// TestMaxCalls: the concurrent call limit answers 503.
func TestMaxCalls(t *testing.T) {
	_, hs := testServer(t, Config{MaxCalls: 1, CallsPerMinute: -1}, func(ctx context.Context, c *Call) {
		c.Answer(ctx)
		<-c.Done()
	})
	p1 := newTestPeer(t, peerOptions{})
	defer p1.close()
	if code := p1.call(hs.URL, hs.URL, ""); code != http.StatusCreated {
		t.Fatalf("first call: %d", code)
	}
	p2 := newTestPeer(t, peerOptions{})
	defer p2.close()
	if code := p2.call(hs.URL, hs.URL, ""); code != http.StatusServiceUnavailable {
		t.Fatalf("second call: %d, want 503", code)
	}
}

// TestOfferWithoutAudio: a data-channel-only offer is refused.
func TestOfferWithoutAudio(t *testing.T) {
	_, hs := testServer(t, Config{}, nopHandler)
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.CreateDataChannel("ivr", nil); err != nil {
		t.Fatal(err)
	}
	offer, _ := pc.CreateOffer(nil)
	g := webrtc.GatheringCompletePromise(pc)
	pc.SetLocalDescription(offer)
	<-g
	code, body := postJSON(t, hs.URL+"/webrtc/calls", hs.URL, `{"sdp":`+jsonString(pc.LocalDescription().SDP)+`}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "no audio") {
		t.Fatalf("%d %s", code, body)
	}
}

func TestTURNCredentials(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s, err := NewServer(Config{
		Handler: nopHandler, now: func() time.Time { return now },
		ICEServers: []ICEServer{
			{URLs: []string{"stun:stun.example.net"}},
			{URLs: []string{"turn:turn.example.net:3478"}},
			{URLs: []string{"turns:turn.example.net:5349"}, Username: "static", Credential: "pw"},
		},
		TURNSecret: "s3cret", TURNTTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	got := s.iceServersFor("abc")
	if got[0].Username != "" || got[0].Credential != "" {
		t.Errorf("STUN got credentials: %+v", got[0])
	}
	wantUser := "1700003600:abc"
	mac := hmac.New(sha1.New, []byte("s3cret"))
	mac.Write([]byte(wantUser))
	if got[1].Username != wantUser || got[1].Credential != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("TURN REST credentials: %+v", got[1])
	}
	if got[2].Username != "static" || got[2].Credential != "pw" {
		t.Errorf("static credentials changed: %+v", got[2])
	}
}

// TestChromiumOffer answers an offer captured from Chromium (the browser
// test writes it): Opus is chosen when the build has it, PCMU otherwise,
// and the telephone-event payload types are known with their clocks.
func TestChromiumOffer(t *testing.T) {
	b, err := os.ReadFile("testdata/chromium-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	for _, disable := range []bool{false, true} {
		s, err := NewServer(Config{Handler: nopHandler, DisableOpus: disable, GatherTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		c, answer, err := s.answer(context.Background(), offerRequest{SDP: string(b)}, "192.0.2.9", "http://shop.test")
		if err != nil {
			t.Fatal(err)
		}
		wantCodec, wantRate, wantEvent := "opus", 16000, "telephone-event/48000"
		if disable || !opusAvailable {
			wantCodec, wantRate, wantEvent = "G722", 16000, "telephone-event/8000"
		}
		if c.Codec() != wantCodec || c.SampleRate() != wantRate {
			t.Errorf("disable %v: codec %s at %d, want %s at %d", disable, c.Codec(), c.SampleRate(), wantCodec, wantRate)
		}
		if !strings.Contains(answer, wantEvent) || !strings.Contains(answer, "G722/8000") || !strings.Contains(answer, "webrtc-datachannel") {
			t.Errorf("disable %v: answer:\n%s", disable, answer)
		}
		if c.kinds[0] != kindPCMU || c.kinds[9] != kindG722 || c.kinds[8] != kindUnknown {
			t.Errorf("payload kinds: 0=%v 9=%v 8=%v", c.kinds[0], c.kinds[9], c.kinds[8])
		}
		if !disable && opusAvailable && (c.kinds[111] != kindOpus || c.kinds[110] != kindEvent || c.eventRates[110] != 48000) {
			t.Errorf("opus kinds: 111=%v 110=%v at %d", c.kinds[111], c.kinds[110], c.eventRates[110])
		}
		if c.From() != "webrtc:192.0.2.9" || c.Origin() != "http://shop.test" || c.Channel() != "webrtc" {
			t.Errorf("identity: %s %s %s", c.From(), c.Origin(), c.Channel())
		}
		c.end(EndShutdown)
		c.cleanup()
		s.Close(context.Background())
	}
}

// TestICESettings: the public address (1:1 NAT) and the UDP port range
// show in our answer's candidates.
func TestICESettings(t *testing.T) {
	b, err := os.ReadFile("testdata/chromium-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Config{Handler: nopHandler, PublicIPs: []string{"203.0.113.7"}, UDPPortMin: 41000, UDPPortMax: 41099, IncludeLoopback: true,
		GatherTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	c, answer, err := s.answer(context.Background(), offerRequest{SDP: string(b)}, "192.0.2.9", "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.end(EndShutdown); c.cleanup() }()
	n := 0
	for _, line := range strings.Split(answer, "\r\n") {
		if !strings.HasPrefix(line, "a=candidate:") || !strings.Contains(line, " udp ") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 6 || strings.Contains(f[4], ":") {
			continue // IPv6: a v4 public address does not apply
		}
		n++
		if f[4] != "203.0.113.7" {
			t.Errorf("candidate without the public address: %s", line)
			continue
		}
		if port, _ := strconv.Atoi(f[5]); port < 41000 || port > 41099 {
			t.Errorf("candidate port outside 41000-41099: %s", line)
		}
	}
	if n == 0 {
		t.Fatalf("no IPv4 UDP candidates in the answer:\n%s", answer)
	}
}
