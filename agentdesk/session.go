package agentdesk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// cookieName holds the session token; the cookie is HttpOnly,
// SameSite=Strict and scoped to the API's path.
const (
	cookieName = "ivr_agent"
	cookiePath = "/api/agent/"
)

// maxSessionsPerAgent bounds an agent's sessions: signing in once more
// drops the oldest.
const maxSessionsPerAgent = 16

// session is one signed-in page (or several tabs sharing the cookie).
type session struct {
	key     string // sha256 of the token, hex: the map key
	agent   string
	created time.Time
	seen    time.Time     // guarded by Desk.mu
	done    chan struct{} // closed at logout or expiry
}

type ctxKey struct{}

// sessionFrom returns the request's session (set by authed).
func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(ctxKey{}).(*session)
	return s
}

func tokenKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// lookup finds the live session of a request's cookie and refreshes it.
func (d *Desk) lookup(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil || len(c.Value) != 64 {
		return nil
	}
	key := tokenKey(c.Value)
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sessions[key]
	if s == nil {
		return nil
	}
	now := d.now()
	if now.Sub(s.seen) > d.sessionTTL || now.Sub(s.created) > d.sessionMax {
		d.endSessionLocked(s)
		return nil
	}
	s.seen = now
	return s
}

// newSession signs agent in and returns the token.
func (d *Desk) newSession(agent string) string {
	var b [32]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	now := d.now()
	s := &session{key: tokenKey(token), agent: agent, created: now, seen: now, done: make(chan struct{})}
	d.mu.Lock()
	defer d.mu.Unlock()
	var oldest *session
	n := 0
	for _, o := range d.sessions {
		if now.Sub(o.seen) > d.sessionTTL || now.Sub(o.created) > d.sessionMax {
			d.endSessionLocked(o)
			continue
		}
		if o.agent == agent {
			n++
			if oldest == nil || o.created.Before(oldest.created) {
				oldest = o
			}
		}
	}
	if n >= maxSessionsPerAgent && oldest != nil {
		d.endSessionLocked(oldest)
	}
	d.sessions[s.key] = s
	return token
}

func (d *Desk) endSessionLocked(s *session) {
	if d.sessions[s.key] == s {
		delete(d.sessions, s.key)
		close(s.done)
	}
}

// api wraps every API handler: no caching, no cross-origin use (CSRF:
// Sec-Fetch-Site, else Origin against Host), and for bodies a JSON
// Content-Type.
func (d *Desk) api(h http.HandlerFunc, body bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if err := d.csrf.Check(r); err != nil || !sameOrigin(r) {
			d.log.Info("cross-origin agent API request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"),
				"fetch_site", r.Header.Get("Sec-Fetch-Site"), "client", clientIP(r))
			writeError(w, http.StatusForbidden, "cross-origin requests are not allowed")
			return
		}
		if body {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, "want Content-Type application/json")
				return
			}
		}
		h(w, r)
	}
}

// sameOrigin refuses reads from other origins too (SameSite=Strict lets a
// sibling subdomain's pages send the cookie): a browser says where a
// request comes from in Sec-Fetch-Site, else in Origin (compared with
// Host, as http.CrossOriginProtection does). Requests with neither come
// from other programs, which hold no agent's cookie unless given one.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	host, ok := strings.CutPrefix(o, "http://")
	if !ok {
		host, ok = strings.CutPrefix(o, "https://")
	}
	return ok && strings.EqualFold(host, r.Host)
}

// authed admits requests with a live session.
func (d *Desk) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := d.lookup(r)
		if s == nil {
			writeError(w, http.StatusUnauthorized, "sign in first")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	}
}

// admin admits requests with the admin bearer token (as package admin).
func (d *Desk) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		want := d.token()
		if want == "" {
			writeError(w, http.StatusForbidden, "the admin API is off: set admin.token (e.g. ${IVR_ADMIN_TOKEN})")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ivr admin"`)
			writeError(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		h(w, r)
	}
}

// Limits on what a page may send.
const (
	maxSmallBody  = 4 << 10
	maxAnswerBody = 96 << 10 // a 32 KB SDP, JSON-escaped
	maxName       = 64
	maxPassword   = 256
)

func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("one JSON object expected")
	}
	return nil
}

// handleLogin checks the agent's password; failures are limited per
// client address and per agent name.
func (d *Desk) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Agent    string `json:"agent"`
		Password string `json:"password"`
	}
	if err := decodeBody(w, r, maxSmallBody, &req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if req.Agent == "" || len(req.Agent) > maxName || len(req.Password) > maxPassword || !utf8.ValidString(req.Agent) {
		writeError(w, http.StatusBadRequest, "give an agent name and a password")
		return
	}
	ip := clientIP(r)
	if ok, wait := d.failures.allowed("ip:"+ip, "agent:"+req.Agent); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		writeError(w, http.StatusTooManyRequests, "too many failed sign-ins: try again later")
		return
	}
	if !d.center.Authenticate(req.Agent, req.Password) {
		d.failures.fail("ip:"+ip, "agent:"+req.Agent)
		d.log.Info("agent sign-in failed", "agent", req.Agent, "client", ip)
		writeError(w, http.StatusUnauthorized, "wrong agent name or password")
		return
	}
	token := d.newSession(req.Agent)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: cookiePath, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	d.log.Info("agent signed in", "agent", req.Agent, "client", ip)
	st, ok := d.status(req.Agent)
	if !ok {
		writeError(w, http.StatusNotFound, "no such agent")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleLogout ends the session (its event streams close) and clears the
// cookie; without a session it only clears the cookie.
func (d *Desk) handleLogout(w http.ResponseWriter, r *http.Request) {
	if s := d.lookup(r); s != nil {
		d.mu.Lock()
		d.endSessionLocked(s)
		d.mu.Unlock()
		d.log.Info("agent signed out", "agent", s.agent)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: cookiePath, MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// failureLimiter counts failed sign-ins per key: burst failures at once,
// then one per period. Its memory is bounded.
type failureLimiter struct {
	burst  float64
	period time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*failBucket
}

type failBucket struct {
	left float64 // failures still allowed
	at   time.Time
}

const maxFailBuckets = 10000

func newFailureLimiter(burst int, period time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{burst: float64(burst), period: period, now: now, buckets: map[string]*failBucket{}}
}

func (l *failureLimiter) refillLocked(b *failBucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.left = min(l.burst, b.left+float64(d)/float64(l.period))
	}
	b.at = now
}

// allowed reports whether every key may try again, and if not, when.
func (l *failureLimiter) allowed(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		b := l.buckets[k]
		if b == nil {
			continue
		}
		l.refillLocked(b, now)
		if b.left < 1 {
			wait = max(wait, time.Duration((1-b.left)*float64(l.period)))
		}
	}
	return wait == 0, wait
}

// fail records one failure against every key.
func (l *failureLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		b := l.buckets[k]
		if b == nil {
			if len(l.buckets) >= maxFailBuckets {
				for key, o := range l.buckets {
					l.refillLocked(o, now)
					if o.left >= l.burst {
						delete(l.buckets, key)
					}
				}
			}
			if len(l.buckets) >= maxFailBuckets {
				continue // a flood of names: the per-address bucket still counts
			}
			b = &failBucket{left: l.burst, at: now}
			l.buckets[k] = b
		}
		l.refillLocked(b, now)
		b.left = max(0, b.left-1)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// clientIP is the connection's peer address; forwarded headers are not
// trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
