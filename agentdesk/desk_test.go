package agentdesk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/acd"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/telephony/webrtc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testYAML = `
flow:
  start: q
  nodes:
    q: {type: queue, queue: support}
agents:
  alice: {name: "Alice Smith", password: "alice-secret"}
  bob:   {name: "Bob Jones", password: "bob-secret"}
queues:
  support:
    strategy: sequential
    members: [alice]
  sales:
    members: [bob]
`

// ringResult is one Ring's outcome, as the center saw it.
type ringResult struct {
	agent, ticket string
	leg           bridge.Leg
	err           error
}

// deskRinger is the center's Ringer in these tests: the desk, and a
// record of every ring's outcome.
type deskRinger struct {
	desk    atomic.Pointer[Desk]
	results chan ringResult
}

func (r *deskRinger) Reachable(a string) bool {
	d := r.desk.Load()
	return d != nil && d.Online(a)
}

func (r *deskRinger) Ring(ctx context.Context, a string, o acd.Offer) (bridge.Leg, error) {
	d := r.desk.Load()
	if d == nil {
		return nil, ErrOffline
	}
	leg, err := d.Ring(ctx, a, o)
	select {
	case r.results <- ringResult{a, o.Ticket, leg, err}:
	default:
	}
	return leg, err
}

// env is a desk on a real center and WebRTC server behind httptest.
type env struct {
	t      *testing.T
	desk   *Desk
	center *acd.Center
	rtc    *webrtc.Server
	srv    *httptest.Server
	ringer *deskRinger
	token  atomic.Value // string: the admin token
}

func newEnv(t *testing.T, tweak func(cfg *config.Config)) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(testYAML), "agentdesk_test.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range cfg.Queues {
		q.RingTimeout, q.Retry, q.WrapUp = 5*time.Second, 50*time.Millisecond, 0
	}
	if tweak != nil {
		tweak(cfg)
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e := &env{t: t, ringer: &deskRinger{results: make(chan ringResult, 16)}}
	e.token.Store("admin-token")
	e.center, err = acd.New(acd.Options{Config: cfg, Ringer: e.ringer, Tick: 10 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e.rtc, err = webrtc.NewServer(webrtc.Config{
		Handler:         func(ctx context.Context, c *webrtc.Call) { t.Error("a desk leg reached the dialog handler") },
		IncludeLoopback: true, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.desk = New(e.center, e.rtc, log, WithAdminToken(func() string { return e.token.Load().(string) }),
		WithHeartbeat(50*time.Millisecond))
	e.ringer.desk.Store(e.desk)
	mux := http.NewServeMux()
	e.desk.Mount(mux)
	mux.Handle("/webrtc/", e.rtc)
	e.srv = httptest.NewServer(mux)
	e.srv.Config.RegisterOnShutdown(e.desk.Close)
	t.Cleanup(func() {
		e.desk.Close()
		e.srv.Close()
		e.center.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.rtc.Close(ctx); err != nil {
			t.Errorf("webrtc close: %v", err)
		}
	})
	return e
}

// client is one agent's browser: a cookie jar and the page's headers.
type client struct {
	e  *env
	hc *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	c := &client{e: e, hc: &http.Client{Jar: jar, Transport: &http.Transport{}}}
	e.t.Cleanup(c.hc.CloseIdleConnections)
	return c
}

// do sends a request as the page does (same-origin fetch metadata);
// hdr adds or overrides headers.
func (c *client) do(method, path, body string, hdr ...string) (int, string, http.Header) {
	c.e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if method != http.MethodGet {
		req.Header.Set("Origin", c.e.srv.URL)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func (c *client) login(agent, password string) int {
	c.e.t.Helper()
	code, _, _ := c.do("POST", "/api/agent/login", jsonObj("agent", agent, "password", password))
	return code
}

func jsonObj(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// sse is an open event stream.
type sse struct {
	t      *testing.T
	cancel context.CancelFunc
	events chan sseEvent
	done   chan struct{}
}

type sseEvent struct {
	name, data string
	comment    bool
}

func (c *client) events(query string) *sse {
	c.e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.e.srv.URL+"/api/agent/events"+query, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.hc.Do(req)
	if err != nil {
		cancel()
		c.e.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		c.e.t.Fatalf("events: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	s := &sse{t: c.e.t, cancel: cancel, events: make(chan sseEvent, 256), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.comment {
					select {
					case s.events <- ev:
					default:
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.comment = true
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data += line[len("data: "):]
			}
		}
	}()
	c.e.t.Cleanup(s.close)
	return s
}

// doneUnlessEnded is s.done until the end was seen, then a channel that
// never closes.
func (s *sse) doneUnlessEnded(ended bool) <-chan struct{} {
	if ended {
		return nil
	}
	return s.done
}

func (s *sse) close() {
	s.cancel()
	<-s.done
}

// status waits for a status event that satisfies ok.
func (s *sse) status(what string, ok func(Status) bool) Status {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	ended := false
	for {
		select {
		case ev := <-s.events:
			if ev.name != "status" {
				continue
			}
			var st Status
			if err := json.Unmarshal([]byte(ev.data), &st); err != nil {
				s.t.Fatalf("status event %q: %v", ev.data, err)
			}
			if ok(st) {
				return st
			}
			if ended && len(s.events) == 0 {
				s.t.Fatalf("stream ended waiting for %s", what)
			}
		case <-s.doneUnlessEnded(ended):
			ended = true // read what is buffered, then give up
			if len(s.events) == 0 {
				s.t.Fatalf("stream ended waiting for %s", what)
			}
		case <-timeout:
			s.t.Fatalf("no status event with %s", what)
		}
	}
}

// event waits for an event by name (or a comment when name is ":").
func (s *sse) event(name string, d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case ev := <-s.events:
			if ev.name == name || name == ":" && ev.comment {
				return true
			}
		case <-s.done:
			// The stream ended: what it sent before is still buffered.
			for {
				select {
				case ev := <-s.events:
					if ev.name == name || name == ":" && ev.comment {
						return true
					}
				default:
					return false
				}
			}
		case <-timeout:
			return false
		}
	}
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) result(what string) ringResult {
	e.t.Helper()
	select {
	case r := <-e.ringer.results:
		return r
	case <-time.After(10 * time.Second):
		e.t.Fatalf("no ring result (%s)", what)
		return ringResult{}
	}
}

func testPop() models.ScreenPop {
	return models.ScreenPop{CallID: "call-1", Caller: "+44 7700 900123", From: "sip:+447700900123@example.net", Channel: "sip",
		Intent: "lost_card", Intents: []string{"lost_card"}, Vars: map[string]string{"account": "12345678"},
		Path:       []string{"main", "lost", "agent"},
		Transcript: []models.TranscriptLine{{Who: "ivr", Text: "How can I help?"}, {Who: "caller", Text: "I lost my card"}}}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	code, body, hdr := c.do("POST", "/api/agent/login", jsonObj("agent", "alice", "password", "alice-secret"))
	if code != http.StatusOK {
		t.Fatalf("login: %d %s", code, body)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Name != "alice" || st.DisplayName != "Alice Smith" {
		t.Errorf("login status %+v %v", st, err)
	}
	ck := hdr.Get("Set-Cookie")
	for _, want := range []string{cookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/api/agent/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %q", ck, want)
		}
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", hdr.Get("Cache-Control"))
	}
	if code, body, _ := c.do("GET", "/api/agent/me", ""); code != http.StatusOK || !strings.Contains(body, `"name":"alice"`) {
		t.Errorf("me: %d %s", code, body)
	}
	if code, _, _ := c.do("POST", "/api/agent/logout", ""); code != http.StatusNoContent {
		t.Errorf("logout: %d", code)
	}
	if code, _, _ := c.do("GET", "/api/agent/me", ""); code != http.StatusUnauthorized {
		t.Errorf("me after logout: %d, want 401", code)
	}
}

func TestLoginFailures(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	for _, tc := range []struct{ name, body string }{
		{"unknown agent", jsonObj("agent", "mallory", "password", "x")},
		{"wrong password", jsonObj("agent", "alice", "password", "bob-secret")},
		{"empty password", jsonObj("agent", "alice", "password", "")},
	} {
		code, body, _ := c.do("POST", "/api/agent/login", tc.body)
		if code != http.StatusUnauthorized || !strings.Contains(body, "wrong agent name or password") {
			t.Errorf("%s: %d %s, want 401 with the same message", tc.name, code, body)
		}
	}
	for _, tc := range []struct{ name, body string }{
		{"not JSON", "agent=alice"},
		{"unknown field", `{"agent":"alice","password":"alice-secret","admin":true}`},
		{"two objects", `{"agent":"alice","password":"alice-secret"}{}`},
		{"no agent", jsonObj("password", "x")},
		{"long name", jsonObj("agent", strings.Repeat("a", 65), "password", "x")},
	} {
		if code, body, _ := c.do("POST", "/api/agent/login", tc.body); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tc.name, code, body)
		}
	}
	// Three failures above were from this address; two more reach the
	// limit, and then even the right password is refused.
	c.login("alice", "nope")
	c.login("bob", "nope")
	code, _, hdr := c.do("POST", "/api/agent/login", jsonObj("agent", "alice", "password", "alice-secret"))
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Errorf("after 5 failures: %d Retry-After %q, want 429", code, hdr.Get("Retry-After"))
	}
	// The limit per agent name holds from another address.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/agent/login", strings.NewReader(jsonObj("agent", "alice", "password", "alice-secret")))
	req.RemoteAddr = "192.0.2.7:4000"
	req.Header.Set("Content-Type", "application/json")
	mux := http.NewServeMux()
	e.desk.Mount(mux)
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		// alice had 3 failures (wrong, empty, nope): still allowed.
		t.Errorf("alice from another address: %d %s, want 200", rec.Code, rec.Body)
	}
	for range 5 {
		rec = httptest.NewRecorder()
		req = httptest.NewRequest("POST", "/api/agent/login", strings.NewReader(jsonObj("agent", "bob", "password", "guess")))
		req.RemoteAddr = "192.0.2.8:4000"
		req.Header.Set("Content-Type", "application/json")
		mux.ServeHTTP(rec, req)
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("POST", "/api/agent/login", strings.NewReader(jsonObj("agent", "bob", "password", "bob-secret")))
	req.RemoteAddr = "192.0.2.9:4000"
	req.Header.Set("Content-Type", "application/json")
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("bob after 6 failures from several addresses: %d, want 429", rec.Code)
	}
	// Time heals: one failure is forgiven per minute.
	now := time.Now().Add(2 * time.Minute)
	e.desk.failures.now = func() time.Time { return now }
	if code := c.login("alice", "alice-secret"); code != http.StatusOK {
		t.Errorf("two minutes later: %d, want 200", code)
	}
}

func TestAuthRequired(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	for _, ep := range []struct{ method, path, body string }{
		{"GET", "/api/agent/me", ""},
		{"GET", "/api/agent/events", ""},
		{"POST", "/api/agent/state", `{"state":"away"}`},
		{"POST", "/api/agent/answer", `{"ticket":"t1","sdp":"v=0"}`},
		{"POST", "/api/agent/decline", `{"ticket":"t1"}`},
		{"POST", "/api/agent/hangup", ""},
	} {
		if code, body, _ := c.do(ep.method, ep.path, ep.body); code != http.StatusUnauthorized {
			t.Errorf("%s %s without a session: %d %s", ep.method, ep.path, code, body)
		}
		// A forged cookie is no session either.
		if code, _, _ := c.do(ep.method, ep.path, ep.body, "Cookie", cookieName+"="+strings.Repeat("ab", 32)); code != http.StatusUnauthorized {
			t.Errorf("%s %s with a forged cookie: %d", ep.method, ep.path, code)
		}
	}
	// The admin status: bearer token only, never the agent's session.
	if c.login("alice", "alice-secret") != http.StatusOK {
		t.Fatal("login")
	}
	for _, path := range []string{"/api/agents", "/api/queues"} {
		if code, _, hdr := c.do("GET", path, ""); code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s with an agent session: %d, want 401", path, code)
		}
		if code, _, _ := c.do("GET", path, "", "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d", path, code)
		}
		code, body, _ := c.do("GET", path, "", "Authorization", "Bearer admin-token")
		if code != http.StatusOK {
			t.Errorf("%s: %d %s", path, code, body)
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 2 {
			t.Errorf("%s: %v %s", path, err, body)
		}
	}
	e.token.Store("")
	if code, _, _ := c.do("GET", "/api/agents", "", "Authorization", "Bearer "); code != http.StatusForbidden {
		t.Errorf("no admin token configured: %d, want 403", code)
	}
}

func TestCrossOrigin(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	if c.login("alice", "alice-secret") != http.StatusOK {
		t.Fatal("login")
	}
	for _, tc := range []struct {
		name         string
		method, path string
		hdr          []string
	}{
		{"other origin", "POST", "/api/agent/state", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", ""}},
		{"cross-site fetch", "POST", "/api/agent/state", []string{"Sec-Fetch-Site", "cross-site", "Origin", ""}},
		{"same-site sibling", "POST", "/api/agent/state", []string{"Sec-Fetch-Site", "same-site", "Origin", ""}},
		{"login from elsewhere (old browser)", "POST", "/api/agent/login", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", ""}},
		{"login from elsewhere", "POST", "/api/agent/login", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}},
		{"events from a sibling", "GET", "/api/agent/events", []string{"Sec-Fetch-Site", "same-site"}},
		{"me from elsewhere", "GET", "/api/agent/me", []string{"Sec-Fetch-Site", "", "Origin", "http://evil.example"}},
		{"hangup from elsewhere", "POST", "/api/agent/hangup", []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		body := `{"state":"away"}`
		if tc.path == "/api/agent/login" {
			body = jsonObj("agent", "alice", "password", "alice-secret")
		}
		if tc.method == "GET" || tc.path == "/api/agent/hangup" {
			body = ""
		}
		if code, resp, _ := c.do(tc.method, tc.path, body, tc.hdr...); code != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", tc.name, code, resp)
		}
	}
	if st, _ := e.center.Agent("alice"); st.State == acd.Away {
		t.Error("a refused request changed the state")
	}
	// A form post (no preflight) is refused by its type.
	if code, _, _ := c.do("POST", "/api/agent/state", `{"state":"away"}`, "Content-Type", "text/plain"); code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d, want 415", code)
	}
	// Non-browser clients (no fetch metadata, no Origin) are let through.
	if code, body, _ := c.do("POST", "/api/agent/state", `{"state":"away"}`, "Sec-Fetch-Site", "", "Origin", ""); code != http.StatusOK {
		t.Errorf("no browser headers: %d %s", code, body)
	}
}

func TestPage(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	for _, tc := range []struct{ path, ctype, has string }{
		{"/agent", "text/html", `<script src="/agent.js"`},
		{"/agent.js", "text/javascript", "/api/agent/events"},
		{"/agent.css", "text/css", ".visually-hidden"},
	} {
		code, body, hdr := c.do("GET", tc.path, "")
		if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), tc.ctype) || !strings.Contains(body, tc.has) {
			t.Errorf("GET %s: %d %s", tc.path, code, hdr.Get("Content-Type"))
		}
		if tc.path == "/agent" {
			csp := hdr.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("CSP %q", csp)
			}
			if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
				t.Error("the page loads something from another site")
			}
		}
	}
}

func TestEventsAndState(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	if c.login("alice", "alice-secret") != http.StatusOK {
		t.Fatal("login")
	}
	if e.desk.Online("alice") {
		t.Fatal("online before the page listens")
	}
	s := c.events("")
	s.status("alice available", func(st Status) bool { return st.Name == "alice" && st.State == acd.Available && st.Online })
	if !e.desk.Online("alice") || e.desk.Online("bob") {
		t.Errorf("online: alice %v bob %v", e.desk.Online("alice"), e.desk.Online("bob"))
	}
	if !s.event(":", 2*time.Second) {
		t.Error("no heartbeat")
	}
	code, body, _ := c.do("POST", "/api/agent/state", `{"state":"away"}`)
	if code != http.StatusOK || !strings.Contains(body, `"state":"away"`) {
		t.Errorf("state away: %d %s", code, body)
	}
	s.status("away", func(st Status) bool { return st.State == acd.Away })
	c.do("POST", "/api/agent/state", `{"state":"available","device":"phone"}`)
	s.status("phone", func(st Status) bool { return st.Device == DevicePhone && !st.Online })
	if e.desk.Online("alice") {
		t.Error("online with calls on the phone")
	}
	// Without a phone, the center sees alice offline.
	s.status("offline", func(st Status) bool { return st.State == acd.Offline })
	c.do("POST", "/api/agent/state", `{"device":"browser"}`)
	s.status("available in the browser", func(st Status) bool { return st.State == acd.Available && st.Online })
	for _, bad := range []string{`{"state":"busy"}`, `{"state":"ringing"}`, `{"device":"fax"}`, `{"state":1}`, `[]`} {
		if code, body, _ := c.do("POST", "/api/agent/state", bad); code != http.StatusBadRequest {
			t.Errorf("state %s: %d %s, want 400", bad, code, body)
		}
	}
	// Signing out ends the stream and the agent is offline again.
	c.do("POST", "/api/agent/logout", "")
	if !s.event("signed_out", 5*time.Second) {
		t.Error("no signed_out event")
	}
	eventually(t, "offline after sign-out", func() bool { return !e.desk.Online("alice") })
	eventually(t, "center sees offline", func() bool { st, _ := e.center.Agent("alice"); return st.State == acd.Offline })
}

func TestEventsDeviceQueryAndClose(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	c.login("bob", "bob-secret")
	s := c.events("?device=phone")
	s.status("phone", func(st Status) bool { return st.Device == DevicePhone })
	if e.desk.Online("bob") {
		t.Error("online with ?device=phone")
	}
	e.desk.Close()
	if !s.event("closing", 5*time.Second) {
		t.Error("no closing event on Close")
	}
	<-s.done
	if code, _, _ := c.do("GET", "/api/agent/events", ""); code != http.StatusServiceUnavailable {
		t.Errorf("events after Close: %d, want 503", code)
	}
}

// answer posts the page's offer for ticket.
func (c *client) answer(ticket, sdp string) (int, string) {
	code, body, _ := c.do("POST", "/api/agent/answer", jsonObj("ticket", ticket, "type", "offer", "sdp", sdp))
	return code, body
}

func TestAnswerInBrowser(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	c.login("alice", "alice-secret")
	s := c.events("")
	s.status("online", func(st Status) bool { return st.State == acd.Available && st.Online })

	tk, err := e.center.Join(context.Background(), "support", testPop(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Leave(models.QueueAbandoned)
	st := s.status("ringing with the screen pop", func(st Status) bool { return st.State == acd.Ringing && st.Call != nil })
	if st.Ticket != tk.ID() || st.Call.Caller != "+44 7700 900123" || st.Call.Queue != "support" || st.Call.Intent != "lost_card" ||
		len(st.Call.Transcript) != 2 || st.Call.Vars["account"] != "12345678" || len(st.Call.Path) != 3 {
		t.Errorf("screen pop: ticket %q (want %q) %+v", st.Ticket, tk.ID(), st.Call)
	}

	b := newBrowser(t, 440)
	defer b.close()
	code, body := c.answer(st.Ticket, b.offer())
	if code != http.StatusOK {
		t.Fatalf("answer: %d %s", code, body)
	}
	var ans struct{ Type, SDP string }
	json.Unmarshal([]byte(body), &ans)
	if ans.Type != "answer" {
		t.Fatalf("answer body %s", body)
	}
	b.setAnswer(ans.SDP)
	select {
	case <-tk.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the ticket was not answered")
	}
	name, leg := tk.Agent()
	if name != "alice" || leg == nil {
		t.Fatalf("answered by %q leg %v", name, leg)
	}
	s.status("busy", func(st Status) bool { return st.State == acd.Busy && st.Call != nil && st.Ticket == tk.ID() })
	if !b.waitMessage(5*time.Second, "state", "connected") {
		t.Error("the page was not told it is connected")
	}
	// Audio both ways through the leg: the caller's side plays a tone to
	// the page, and the page's microphone reaches the caller's side.
	var mu sync.Mutex
	var heard []int16
	leg.SetSink(func(f audio.Frame) {
		mu.Lock()
		heard = append(heard, f.Samples...)
		mu.Unlock()
	})
	leg.Play(audio.NewClipSource(tone(1000, leg.SampleRate(), 10*time.Second)))
	eventually(t, "the page hears the caller", func() bool { return b.heardTone(1000, 300*time.Millisecond) > 0.5 })
	eventually(t, "the caller hears the page", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := audio.SamplesPer(leg.SampleRate(), 200*time.Millisecond)
		return len(heard) > n && toneRatio(heard[len(heard)-n:], leg.SampleRate(), 440) > 0.5
	})
	if e.desk.ActiveLegs() != 1 {
		t.Errorf("active legs %d", e.desk.ActiveLegs())
	}
	// The agent hangs up in the page.
	if code, body, _ := c.do("POST", "/api/agent/hangup", ""); code != http.StatusNoContent {
		t.Errorf("hangup: %d %s", code, body)
	}
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the leg did not end")
	}
	if !b.waitMessage(5*time.Second, "state", "ended") {
		t.Error("the page was not told the call ended")
	}
	tk.Finish(true)
	s.status("available again", func(st Status) bool { return st.State == acd.Available && st.Call == nil })
	if code, _, _ := c.do("POST", "/api/agent/hangup", ""); code != http.StatusNotFound {
		t.Errorf("second hangup: %d, want 404", code)
	}
	eventually(t, "legs released", func() bool { return e.rtc.ActiveCalls() == 0 && e.desk.ActiveLegs() == 0 })
}

func tone(hz float64, rate int, d time.Duration) audio.Clip {
	c := audio.Clip{Rate: rate, Samples: make([]int16, audio.SamplesPer(rate, d))}
	for i := range c.Samples {
		c.Samples[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return c
}

func TestWrongAgentCannotTouchTheCall(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.client(), e.client()
	alice.login("alice", "alice-secret")
	bob.login("bob", "bob-secret")
	sa, sb := alice.events(""), bob.events("")
	sa.status("alice online", func(st Status) bool { return st.State == acd.Available && st.Online })
	sb.status("bob online", func(st Status) bool { return st.State == acd.Available && st.Online })
	tk, _ := e.center.Join(context.Background(), "support", testPop(), 0)
	defer tk.Leave(models.QueueAbandoned)
	st := sa.status("alice ringing", func(st Status) bool { return st.State == acd.Ringing })
	b := newBrowser(t, 440)
	defer b.close()
	offer := b.offer()
	if code, body := bob.answer(st.Ticket, offer); code != http.StatusNotFound {
		t.Errorf("bob answers alice's call: %d %s, want 404", code, body)
	}
	if code, _, _ := bob.do("POST", "/api/agent/decline", jsonObj("ticket", st.Ticket)); code != http.StatusNotFound {
		t.Errorf("bob declines alice's call: %d, want 404", code)
	}
	if code, _, _ := bob.do("POST", "/api/agent/hangup", ""); code != http.StatusNotFound {
		t.Errorf("bob hangs up: %d, want 404", code)
	}
	// Bob's stream never carried alice's caller.
	for {
		select {
		case ev := <-sb.events:
			if strings.Contains(ev.data, "900123") || strings.Contains(ev.data, st.Ticket) {
				t.Errorf("bob's stream shows alice's call: %s", ev.data)
			}
			continue
		default:
		}
		break
	}
	if _, _, err := e.rtc.AnswerLeg(context.Background(), "", ""); !errors.Is(err, webrtc.ErrBadRequest) {
		t.Error(err)
	}
	if e.rtc.ActiveCalls() != 0 {
		t.Errorf("a leg was made for bob: %d", e.rtc.ActiveCalls())
	}
	// Alice still can.
	if code, body := alice.answer(st.Ticket, offer); code != http.StatusOK {
		t.Errorf("alice answers: %d %s", code, body)
	}
}

func TestDecline(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	c.login("alice", "alice-secret")
	s := c.events("")
	s.status("online", func(st Status) bool { return st.State == acd.Available && st.Online })
	tk, _ := e.center.Join(context.Background(), "support", testPop(), 0)
	defer tk.Leave(models.QueueAbandoned)
	st := s.status("ringing", func(st Status) bool { return st.State == acd.Ringing })
	if code, body, _ := c.do("POST", "/api/agent/decline", jsonObj("ticket", st.Ticket)); code != http.StatusNoContent {
		t.Fatalf("decline: %d %s", code, body)
	}
	r := e.result("decline")
	if r.agent != "alice" || !errors.Is(r.err, ErrDeclined) || r.leg != nil {
		t.Errorf("ring result %+v, want ErrDeclined", r)
	}
	// Declined is not answered: the caller is still waiting, and is
	// offered again (alice is the only member).
	s.status("ringing again", func(st Status) bool { return st.State == acd.Ringing })
	if code, _, _ := c.do("POST", "/api/agent/decline", jsonObj("ticket", "nonsense")); code != http.StatusNotFound {
		t.Errorf("decline an unknown ticket: %d", code)
	}
	select {
	case <-tk.Ready():
		t.Error("a declined call was connected")
	default:
	}
}

func TestRingTimeout(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config) { cfg.Queues["support"].RingTimeout = 300 * time.Millisecond })
	c := e.client()
	c.login("alice", "alice-secret")
	s := c.events("")
	s.status("online", func(st Status) bool { return st.State == acd.Available && st.Online })
	tk, _ := e.center.Join(context.Background(), "support", testPop(), 0)
	st := s.status("ringing", func(st Status) bool { return st.State == acd.Ringing })
	start := time.Now()
	r := e.result("ring timeout")
	if !errors.Is(r.err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("ring result %v after %v, want the deadline", r.err, time.Since(start))
	}
	// The caller leaves: answering the old offer now finds nothing.
	tk.Leave(models.QueueAbandoned)
	s.status("available", func(st Status) bool { return st.State == acd.Available })
	b := newBrowser(t, 440)
	defer b.close()
	if code, body := c.answer(st.Ticket, b.offer()); code != http.StatusNotFound {
		t.Errorf("answer after the timeout: %d %s, want 404", code, body)
	}
	if e.rtc.ActiveCalls() != 0 {
		t.Error("a leg was made for a call that is gone")
	}
}

func TestPageClosedEndsTheRing(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	c.login("alice", "alice-secret")
	s := c.events("")
	s.status("online", func(st Status) bool { return st.State == acd.Available && st.Online })
	tk, _ := e.center.Join(context.Background(), "support", testPop(), 0)
	defer tk.Leave(models.QueueAbandoned)
	s.status("ringing", func(st Status) bool { return st.State == acd.Ringing })
	start := time.Now()
	s.close()
	r := e.result("page closed")
	if !errors.Is(r.err, ErrOffline) || time.Since(start) > 2*time.Second {
		t.Errorf("ring result %v after %v, want ErrOffline at once", r.err, time.Since(start))
	}
	eventually(t, "center sees offline", func() bool { st, _ := e.center.Agent("alice"); return st.State == acd.Offline })
}

func TestAnswerRefusals(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	c.login("alice", "alice-secret")
	s := c.events("")
	s.status("online", func(st Status) bool { return st.State == acd.Available && st.Online })
	tk, _ := e.center.Join(context.Background(), "support", testPop(), 0)
	defer tk.Leave(models.QueueAbandoned)
	st := s.status("ringing", func(st Status) bool { return st.State == acd.Ringing })
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"bad SDP", jsonObj("ticket", st.Ticket, "sdp", "hello"), http.StatusBadRequest},
		{"no audio", jsonObj("ticket", st.Ticket, "sdp", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"), http.StatusBadRequest},
		{"type answer", jsonObj("ticket", st.Ticket, "type", "answer", "sdp", "v=0"), http.StatusBadRequest},
		{"unknown ticket", jsonObj("ticket", "t999", "sdp", "v=0"), http.StatusNotFound},
		{"long ticket", jsonObj("ticket", strings.Repeat("t", 100), "sdp", "v=0"), http.StatusNotFound},
		{"huge body", `{"ticket":"` + st.Ticket + `","sdp":"v=0` + strings.Repeat("x", maxAnswerBody) + `"}`, http.StatusBadRequest},
	} {
		code, body, _ := c.do("POST", "/api/agent/answer", tc.body)
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}
	// After refusals the call still rings and can be answered.
	b := newBrowser(t, 440)
	defer b.close()
	code, body := c.answer(st.Ticket, b.offer())
	if code != http.StatusOK {
		t.Fatalf("answer: %d %s", code, body)
	}
	var ans struct{ SDP string }
	json.Unmarshal([]byte(body), &ans)
	b.setAnswer(ans.SDP)
	// A second answer of the same call is refused.
	b2 := newBrowser(t, 440)
	defer b2.close()
	if code, _ := c.answer(st.Ticket, b2.offer()); code != http.StatusConflict && code != http.StatusNotFound {
		t.Errorf("second answer: %d, want 409 or 404", code)
	}
	r := e.result("answered")
	if r.err != nil || r.leg == nil {
		t.Fatalf("ring result %+v", r)
	}
	r.leg.Hangup(context.Background())
	tk.Finish(false)
}

// TestAnswerThenCallerLeaves: the agent answers but the browser never
// connects before the caller gives up; the leg is hung up, nothing leaks.
func TestAnswerThenCallerLeaves(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	c.login("alice", "alice-secret")
	s := c.events("")
	s.status("online", func(st Status) bool { return st.State == acd.Available && st.Online })
	tk, _ := e.center.Join(context.Background(), "support", testPop(), 0)
	st := s.status("ringing", func(st Status) bool { return st.State == acd.Ringing })
	b := newBrowser(t, 440)
	defer b.close()
	if code, body := c.answer(st.Ticket, b.offer()); code != http.StatusOK {
		t.Fatalf("answer: %d %s", code, body)
	}
	// The page never applies the answer: no ICE. The caller leaves.
	tk.Leave(models.QueueAbandoned)
	r := e.result("caller left")
	if r.err == nil {
		t.Errorf("ring result %+v, want an error", r)
	}
	eventually(t, "the leg released", func() bool { return e.rtc.ActiveCalls() == 0 })
}

// FuzzAPIBodies: no body makes a handler panic or answer 5xx.
func FuzzAPIBodies(f *testing.F) {
	for _, s := range []string{`{"agent":"alice","password":"alice-secret"}`, `{"state":"away"}`, `{"device":"phone"}`,
		`{"ticket":"t1","sdp":"v=0\r\n"}`, `{"ticket":"t1"}`, `null`, `{}`, `[`, "\xff", `{"agent":"` + strings.Repeat("é", 40) + `"}`} {
		f.Add(s)
	}
	cfg, err := config.Parse([]byte(testYAML), "fuzz.yaml", "")
	if err != nil {
		f.Fatal(err)
	}
	center, err := acd.New(acd.Options{Config: cfg, Ringer: &deskRinger{results: make(chan ringResult, 1)}})
	if err != nil {
		f.Fatal(err)
	}
	defer center.Close()
	rtc, err := webrtc.NewServer(webrtc.Config{Handler: func(context.Context, *webrtc.Call) {}})
	if err != nil {
		f.Fatal(err)
	}
	defer rtc.Close(context.Background())
	d := New(center, rtc, nil)
	d.ringWait = time.Millisecond
	defer d.Close()
	mux := http.NewServeMux()
	d.Mount(mux)
	token := d.newSession("alice")
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/api/agent/login", "/api/agent/state", "/api/agent/answer", "/api/agent/decline"} {
			req := httptest.NewRequest("POST", path, bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: cookieName, Value: token})
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Errorf("%s %q: %d %s", path, body, rec.Code, rec.Body)
			}
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	now := time.Now()
	e.desk.mu.Lock()
	e.desk.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e.desk.mu.Unlock()
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := e.client()
	c.login("alice", "alice-secret")
	// Use keeps a session alive...
	for range 3 {
		advance(11 * time.Hour)
		if code, _, _ := c.do("GET", "/api/agent/me", ""); code != http.StatusOK {
			t.Fatalf("me after 11 h of idleness: %d", code)
		}
	}
	// ...up to an idle day's half.
	advance(13 * time.Hour)
	if code, _, _ := c.do("GET", "/api/agent/me", ""); code != http.StatusUnauthorized {
		t.Errorf("me after 13 h idle: %d, want 401", code)
	}
	// And never beyond a week.
	c.login("alice", "alice-secret")
	for range 16 {
		advance(11 * time.Hour)
		c.do("GET", "/api/agent/me", "")
	}
	if code, _, _ := c.do("GET", "/api/agent/me", ""); code != http.StatusUnauthorized {
		t.Errorf("me after 176 h: %d, want 401", code)
	}
}

func TestSessionsPerAgentBounded(t *testing.T) {
	e := newEnv(t, nil)
	first := e.client()
	first.login("bob", "bob-secret")
	for range maxSessionsPerAgent {
		e.client().login("bob", "bob-secret")
	}
	if code, _, _ := first.do("GET", "/api/agent/me", ""); code != http.StatusUnauthorized {
		t.Errorf("the oldest of %d sessions: %d, want 401 (dropped)", maxSessionsPerAgent+1, code)
	}
	e.desk.mu.Lock()
	n := len(e.desk.sessions)
	e.desk.mu.Unlock()
	if n != maxSessionsPerAgent {
		t.Errorf("%d sessions, want %d", n, maxSessionsPerAgent)
	}
}

// TestTwoTabs: the agent stays online while any page is open, and both
// pages see the same state.
func TestTwoTabs(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	c.login("alice", "alice-secret")
	s1, s2 := c.events(""), c.events("")
	s1.status("tab 1 online", func(st Status) bool { return st.Online && st.State == acd.Available })
	s2.status("tab 2 online", func(st Status) bool { return st.Online && st.State == acd.Available })
	c.do("POST", "/api/agent/state", `{"state":"away"}`)
	s1.status("tab 1 away", func(st Status) bool { return st.State == acd.Away })
	s2.status("tab 2 away", func(st Status) bool { return st.State == acd.Away })
	s1.close()
	time.Sleep(50 * time.Millisecond)
	if !e.desk.Online("alice") {
		t.Error("offline with a tab still open")
	}
	s2.close()
	eventually(t, "offline with no tab", func() bool { return !e.desk.Online("alice") })
}
