package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// TrunkConfig is an account at a SIP provider: the IVR registers to it as
// a client (RFC 3261 section 10.2, digest authentication) and places
// outbound calls through it.
type TrunkConfig struct {
	// Name is for logs and status.
	Name string
	// Registrar is where REGISTER goes: a SIP URI or host[:port]. Empty:
	// the trunk does not register (an IP-authenticated trunk).
	Registrar string
	// Domain is where outbound INVITEs go (sip:<number>@<domain>) and the
	// host of the address of record. Default: the registrar's host:port.
	Domain string
	// Username is the account (the AOR is sip:<username>@<domain host>);
	// AuthUsername the digest user name when it differs (default
	// Username); Password the secret.
	Username, AuthUsername, Password string
	// FromUser is the default caller ID of outbound calls (default
	// Username); FromName its display name.
	FromUser, FromName string
	// Transport is "udp" (default), "tcp" or "tls".
	Transport string
	// OutboundProxy, when set, is where every request is sent first
	// (a loose Route).
	OutboundProxy string
	// Expires is the registration lifetime asked for; default 300 s. The
	// registrar's grant wins, and the trunk refreshes before it runs out.
	Expires time.Duration
	// RetryMin and RetryMax bound the backoff between failed
	// registrations: it starts at RetryMin (default 5 s) and doubles up
	// to RetryMax (default 5 min). A Retry-After from the registrar wins.
	RetryMin, RetryMax time.Duration
	// Timeout bounds one REGISTER transaction; default 10 s.
	Timeout time.Duration
	// KeepAlive is how often a registered trunk sends OPTIONS to its
	// registrar, from the listening socket: it keeps a NAT's mapping
	// open (UDP mappings often last 30-60 s, much less than a
	// registration) and tells whether the provider still answers. Two
	// pings in a row with no answer make the trunk register again at once.
	// Zero means 25 s; negative turns it off.
	KeepAlive time.Duration
}

// keepAliveMisses is how many unanswered pings in a row make a trunk
// register again.
const keepAliveMisses = 2

// TrunkStatus is what a trunk's registration looks like now.
type TrunkStatus struct {
	Name string `json:"name"`
	// Registers is false for a trunk that does not register.
	Registers bool   `json:"registers"`
	Registrar string `json:"registrar,omitempty"`
	// AOR is the address of record registered.
	AOR string `json:"aor,omitempty"`
	// Registered is true while a registration the registrar granted has
	// not run out.
	Registered bool `json:"registered"`
	// Expires is when the current registration runs out.
	Expires time.Time `json:"expires,omitzero"`
	// Granted is the lifetime the registrar granted last, in seconds.
	Granted int `json:"granted_seconds,omitempty"`
	// LastAttempt and LastSuccess are the last REGISTER sent and the last
	// one accepted.
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is why the last attempt failed ("" when it did not).
	LastError string `json:"last_error,omitempty"`
	// Failures counts the attempts that failed in a row.
	Failures int `json:"failures"`
	// Registrations counts accepted REGISTERs (refreshes included).
	Registrations int `json:"registrations"`
	// Reachable is whether the last keep-alive OPTIONS got an answer
	// (any answer: a provider that refuses OPTIONS is still there);
	// LastKeepAlive when it was sent, RTTMillis how long the answer took,
	// KeepAliveMisses the unanswered pings in a row.
	Reachable       bool      `json:"reachable"`
	LastKeepAlive   time.Time `json:"last_keepalive,omitzero"`
	RTTMillis       float64   `json:"rtt_ms,omitempty"`
	KeepAliveMisses int       `json:"keepalive_misses,omitempty"`
}

// Trunk is a running provider account; StartTrunk makes one.
type Trunk struct {
	srv *Server
	cfg TrunkConfig

	registrar gosip.Uri  // Request-URI of REGISTER (no user part)
	domain    gosip.Uri  // host[:port][;transport] outbound calls go to
	aor       gosip.Uri  // sip:<username>@<domain host>
	proxy     *gosip.Uri // loose Route, or nil
	transport string

	// Registration dialog state, used by the run goroutine only.
	callID  string
	fromTag string
	cseq    uint32

	cancel context.CancelFunc // ends run
	done   chan struct{}      // closed when run has unregistered

	mu     sync.Mutex
	status TrunkStatus
	now    func() time.Time
}

// StartTrunk starts a trunk: when it has a registrar it registers (once
// the server's listeners are bound), keeps the registration fresh, retries
// with backoff when the registrar fails, and unregisters when ctx ends,
// Close is called or the server shuts down.
func (s *Server) StartTrunk(ctx context.Context, cfg TrunkConfig) (*Trunk, error) {
	t, err := newTrunk(s, cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, errors.New("sip: server is shutting down")
	}
	if s.trunks == nil {
		s.trunks = map[*Trunk]struct{}{}
	}
	s.trunks[t] = struct{}{}
	s.mu.Unlock()
	if t.status.Registers {
		ctx, t.cancel = context.WithCancel(ctx)
		go t.run(ctx)
	} else {
		t.cancel = func() {}
		close(t.done)
	}
	return t, nil
}

func newTrunk(s *Server, cfg TrunkConfig) (*Trunk, error) {
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	cfg.Transport = strings.ToLower(cfg.Transport)
	switch cfg.Transport {
	case "udp", "tcp", "tls":
	default:
		return nil, fmt.Errorf("sip: trunk %s: unknown transport %q", cfg.Name, cfg.Transport)
	}
	if cfg.Expires <= 0 {
		cfg.Expires = 300 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 5 * time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Minute, cfg.RetryMin)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 25 * time.Second
	}
	if cfg.AuthUsername == "" {
		cfg.AuthUsername = cfg.Username
	}
	if cfg.FromUser == "" {
		cfg.FromUser = cfg.Username
	}
	t := &Trunk{srv: s, cfg: cfg, transport: cfg.Transport, done: make(chan struct{}), now: time.Now}
	if cfg.Registrar == "" && cfg.Domain == "" {
		return nil, fmt.Errorf("sip: trunk %s needs a registrar or a domain", cfg.Name)
	}
	if cfg.Registrar != "" {
		u, err := parseTarget(cfg.Registrar, cfg.Transport)
		if err != nil {
			return nil, fmt.Errorf("sip: trunk %s: registrar: %w", cfg.Name, err)
		}
		u.User = ""
		t.registrar = u
		if cfg.Username == "" {
			return nil, fmt.Errorf("sip: trunk %s registers, so it needs a username", cfg.Name)
		}
	}
	if cfg.Domain != "" {
		u, err := parseTarget(cfg.Domain, cfg.Transport)
		if err != nil {
			return nil, fmt.Errorf("sip: trunk %s: domain: %w", cfg.Name, err)
		}
		u.User = ""
		t.domain = u
	} else {
		t.domain = *t.registrar.Clone()
	}
	if cfg.OutboundProxy != "" {
		u, err := parseTarget(cfg.OutboundProxy, cfg.Transport)
		if err != nil {
			return nil, fmt.Errorf("sip: trunk %s: outbound proxy: %w", cfg.Name, err)
		}
		u.User = ""
		if _, ok := u.UriParams.Get("lr"); !ok {
			u.UriParams.Add("lr", "")
		}
		t.proxy = &u
	}
	t.aor = gosip.Uri{Scheme: "sip", User: cfg.Username, Host: t.domain.Host}
	if t.domain.Scheme == "sips" {
		t.aor.Scheme = "sips"
	}
	t.callID = strconv.FormatUint(rand.Uint64(), 36) + strconv.FormatUint(rand.Uint64(), 36) + "@openivr"
	t.fromTag = strconv.FormatUint(rand.Uint64(), 36)
	t.cseq = rand.Uint32N(1 << 16)
	t.status = TrunkStatus{Name: cfg.Name, Registers: cfg.Registrar != ""}
	if t.status.Registers {
		t.status.Registrar = t.registrar.String()
		t.status.AOR = t.aor.String()
	}
	return t, nil
}

// parseTarget reads a SIP URI or a bare host[:port], and puts the
// transport in it (a transport parameter; sips for tls) unless it says
// one already.
func parseTarget(s, transport string) (gosip.Uri, error) {
	s = strings.TrimSpace(s)
	var u gosip.Uri
	if s == "" {
		return u, errors.New("empty address")
	}
	switch transport {
	case "udp", "tcp", "tls":
	default:
		return u, fmt.Errorf("unknown transport %q", transport)
	}
	low := strings.ToLower(s)
	if !strings.HasPrefix(low, "sip:") && !strings.HasPrefix(low, "sips:") {
		s = "sip:" + s
	}
	if err := gosip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("%q: %w", s, err)
	}
	if u.Host == "" || u.Wildcard {
		return u, fmt.Errorf("%q has no host", s)
	}
	if u.Port < 0 || u.Port > 65535 {
		return u, fmt.Errorf("%q: port out of range", s)
	}
	if strings.ContainsAny(u.Host, " <>\"\r\n") {
		return u, fmt.Errorf("%q: bad host", s)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.UriParams == nil {
		u.UriParams = gosip.NewParams()
	}
	if _, ok := u.UriParams.Get("transport"); !ok && transport != "udp" && u.Scheme != "sips" {
		u.UriParams.Add("transport", transport)
	}
	u.Headers = nil
	return u, nil
}

// Status reports the registration.
func (t *Trunk) Status() TrunkStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.status
	st.Registered = !st.Expires.IsZero() && t.now().Before(st.Expires)
	return st
}

// Name is the trunk's name.
func (t *Trunk) Name() string { return t.cfg.Name }

// Close stops refreshing and unregisters (Expires: 0), waiting up to a few
// seconds for the registrar. Idempotent.
func (t *Trunk) Close() {
	t.cancel()
	<-t.done
	t.srv.mu.Lock()
	delete(t.srv.trunks, t)
	t.srv.mu.Unlock()
}

// closeTrunks unregisters every trunk; the server calls it on shutdown,
// while its listeners are still open.
func (s *Server) closeTrunks() {
	s.mu.Lock()
	ts := make([]*Trunk, 0, len(s.trunks))
	for t := range s.trunks {
		ts = append(ts, t)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Go(t.Close)
	}
	wg.Wait()
}

// run keeps the registration fresh until ctx ends or Close.
func (t *Trunk) run(ctx context.Context) {
	defer close(t.done)
	select {
	case <-t.srv.ready:
	case <-ctx.Done():
		return
	}
	log := t.srv.log.With("trunk", t.cfg.Name)
	registrar := t.registrar.String()
	backoff := t.cfg.RetryMin
	var last time.Duration // the last grant, 0 after a failure
	for {
		granted, retryAfter, err := t.register(ctx, t.cfg.Expires)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wait = backoff
			// 20 % jitter, so trunks restarted together do not retry together.
			wait += time.Duration(rand.Int64N(int64(wait)/5 + 1))
			if retryAfter > 0 {
				wait = retryAfter
			}
			backoff = min(2*backoff, t.cfg.RetryMax)
			last = 0
			log.Warn("trunk registration failed", "registrar", registrar, "err", err, "retry_in", wait.Round(time.Millisecond))
		} else {
			backoff = t.cfg.RetryMin
			wait = refreshIn(granted)
			// Say it when it changes; routine refreshes are debug.
			level := slog.LevelDebug
			if granted != last {
				level = slog.LevelInfo
			}
			last = granted
			log.Log(ctx, level, "trunk registered", "registrar", registrar, "aor", t.aor.String(), "granted", granted, "refresh_in", wait.Round(time.Millisecond))
		}
		if !t.wait(ctx, wait, err == nil) {
			break
		}
	}
	if t.Status().Registered {
		// ctx may be over: unregistering gets its own few seconds.
		uctx, cancel := context.WithTimeout(context.Background(), min(t.cfg.Timeout, 3*time.Second))
		_, _, err := t.register(uctx, 0)
		cancel()
		if err != nil {
			log.Warn("trunk unregister failed", "err", err)
		} else {
			log.Info("trunk unregistered", "registrar", registrar)
		}
	}
}

// wait sleeps for d, pinging the registrar every KeepAlive while
// registered. It returns false when ctx ends, and true early when the
// registrar stopped answering pings (so the trunk registers again).
func (t *Trunk) wait(ctx context.Context, d time.Duration, registered bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	var tick <-chan time.Time
	if registered && t.cfg.KeepAlive > 0 {
		tk := time.NewTicker(t.cfg.KeepAlive)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-timer.C:
			return true
		case <-ctx.Done():
			return false
		case <-tick:
			if misses := t.ping(ctx); misses >= keepAliveMisses {
				t.srv.log.Warn("trunk registrar stopped answering keep-alives; registering again",
					"trunk", t.cfg.Name, "registrar", t.registrar.String(), "misses", misses)
				return ctx.Err() == nil
			}
		}
	}
}

// ping sends one OPTIONS to the registrar and records the outcome; it
// returns the unanswered pings in a row.
func (t *Trunk) ping(ctx context.Context) int {
	req := t.newRequest(gosip.OPTIONS, t.registrar, t.registrar, strconv.FormatUint(rand.Uint64(), 36)+"@openivr",
		strconv.FormatUint(rand.Uint64(), 36), 1)
	start := t.now()
	pctx, cancel := context.WithTimeout(ctx, min(t.cfg.Timeout, t.cfg.KeepAlive))
	res, err := t.srv.client.Do(pctx, req)
	cancel()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.LastKeepAlive = start
	if err != nil || res == nil {
		if ctx.Err() == nil {
			t.status.Reachable = false
			t.status.KeepAliveMisses++
		}
		return t.status.KeepAliveMisses
	}
	t.status.Reachable = true
	t.status.KeepAliveMisses = 0
	t.status.RTTMillis = float64(t.now().Sub(start).Microseconds()) / 1000
	return 0
}

// refreshIn is when to refresh a registration granted for d: a minute
// before it runs out, but not before half of it has passed.
func refreshIn(d time.Duration) time.Duration {
	return max(d/2, d-time.Minute)
}

// register sends REGISTER with the given lifetime (0 unregisters),
// answering digest challenges, and returns what the registrar granted.
// retryAfter is the registrar's Retry-After on a failure, if any.
func (t *Trunk) register(ctx context.Context, lifetime time.Duration) (granted, retryAfter time.Duration, err error) {
	secs := int((lifetime + time.Second - 1) / time.Second)
	unregister := secs == 0
	now := t.now()
	if !unregister {
		t.mu.Lock()
		t.status.LastAttempt = now
		t.mu.Unlock()
	}
	defer func() {
		if unregister {
			if err == nil {
				t.mu.Lock()
				t.status.Expires, t.status.Granted = time.Time{}, 0
				t.mu.Unlock()
			}
			return
		}
		if err != nil && ctx.Err() != nil {
			return // stopped, not failed
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if err != nil {
			t.status.LastError = err.Error()
			t.status.Failures++
			return
		}
		t.status.LastError = ""
		t.status.Failures = 0
		t.status.Registrations++
		t.status.LastSuccess = now
		t.status.Granted = int(granted / time.Second)
		t.status.Expires = now.Add(granted)
	}()
	contact := t.contact()
	var auth gosip.Header
	challenges, briefs := 0, 0
	for {
		req := t.newRegister(contact, secs, auth)
		rctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
		res, err := t.srv.client.Do(rctx, req)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return 0, 0, fmt.Errorf("no answer from %s", t.registrar.String())
			}
			return 0, 0, err
		}
		switch code := res.StatusCode; {
		case code >= 200 && code < 300:
			if unregister {
				return 0, 0, nil
			}
			g := grantedExpires(res, contact.Address, secs)
			if g <= 0 {
				return 0, 0, fmt.Errorf("registrar granted no lifetime (200 without our binding)")
			}
			return time.Duration(g) * time.Second, 0, nil
		case code == 401 || code == 407:
			h, stale, aerr := answerChallenge(res, string(gosip.REGISTER), req.Recipient.String(), t.cfg.AuthUsername, t.cfg.Password)
			if aerr != nil {
				return 0, 0, fmt.Errorf("%d %s: %w", code, res.Reason, aerr)
			}
			// A second challenge means the credentials were refused,
			// unless it only says our nonce went stale.
			if challenges > 0 && !stale || challenges > 2 {
				return 0, retryAfterOf(res), fmt.Errorf("authentication refused (%d %s): check username, auth_username and password", code, res.Reason)
			}
			challenges++
			auth = h
		case code == 423 && briefs == 0:
			// Interval Too Brief (section 10.2.8): ask for the minimum.
			h := res.GetHeader("Min-Expires")
			n := 0
			if h != nil {
				n, _ = strconv.Atoi(strings.TrimSpace(h.Value()))
			}
			if n <= secs || n > 86400 {
				return 0, 0, &StatusError{Code: code, Reason: res.Reason}
			}
			secs = n
			briefs++
		default:
			return 0, retryAfterOf(res), &StatusError{Code: code, Reason: res.Reason}
		}
	}
}

// contact is the Contact the trunk registers: our listener for its
// transport, with the account as user part.
func (t *Trunk) contact() *gosip.ContactHeader {
	c := t.srv.contact(t.transport).Clone()
	c.Address.User = t.cfg.Username
	c.Params = nil
	return c
}

// newRegister builds one REGISTER of the registration dialog: same
// Call-ID and From tag every time, CSeq one higher (section 10.2.4).
func (t *Trunk) newRegister(contact *gosip.ContactHeader, secs int, auth gosip.Header) *gosip.Request {
	t.cseq++
	req := t.newRequest(gosip.REGISTER, t.registrar, t.aor, t.callID, t.fromTag, t.cseq)
	req.AppendHeader(contact.Clone())
	req.AppendHeader(gosip.NewHeader("Expires", strconv.Itoa(secs)))
	req.AppendHeader(gosip.NewHeader("Allow", allowed))
	if auth != nil {
		req.AppendHeader(auth)
	}
	return req
}

// newRequest builds an out-of-dialog request of the trunk's account (From
// its address of record) to ruri, leaving from our listening socket.
func (t *Trunk) newRequest(method gosip.RequestMethod, ruri, to gosip.Uri, callID, fromTag string, cseq uint32) *gosip.Request {
	req := gosip.NewRequest(method, *ruri.Clone())
	via := &gosip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: strings.ToUpper(t.transport),
		Host: t.srv.cfg.PublicIP.String(), Params: gosip.NewParams()}
	via.Params.Add("branch", gosip.GenerateBranchN(16))
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	if t.proxy != nil {
		req.AppendHeader(&gosip.RouteHeader{Address: *t.proxy.Clone()})
	}
	from := &gosip.FromHeader{Address: *t.aor.Clone(), Params: gosip.NewParams()}
	from.Params.Add("tag", fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&gosip.ToHeader{Address: *to.Clone(), Params: gosip.NewParams()})
	cid := gosip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&gosip.CSeqHeader{SeqNo: cseq, MethodName: method})
	maxFwd := gosip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(gosip.NewHeader("User-Agent", t.srv.cfg.UserAgent))
	req.SetBody(nil)
	t.fromListener(req)
	return req
}

// fromListener makes a UDP request leave from our listening socket, so
// the provider sees it come from the address it will send calls to (and
// a NAT keeps that mapping open).
func (t *Trunk) fromListener(req *gosip.Request) {
	if la, ok := t.srv.listenerAddr(t.transport); ok {
		req.Laddr = la
	}
}

// listenerAddr is the bound address of our UDP listener, for requests
// that must leave from it. Stream transports dial out from new ports.
func (s *Server) listenerAddr(transport string) (gosip.Addr, bool) {
	if transport != "udp" {
		return gosip.Addr{}, false
	}
	for _, l := range s.Addrs() {
		if l.Network != "udp" {
			continue
		}
		host, port, err := net.SplitHostPort(l.Addr)
		if err != nil {
			continue
		}
		ip := net.ParseIP(host)
		p, err := strconv.Atoi(port)
		if ip == nil || err != nil || p == 0 {
			continue
		}
		return gosip.Addr{IP: ip, Port: p}, true
	}
	return gosip.Addr{}, false
}

// answerChallenge computes the Authorization (for 401) or
// Proxy-Authorization (for 407) answering res's first digest challenge
// we can answer. stale reports the challenge's stale flag.
func answerChallenge(res *gosip.Response, method, uri, user, pass string) (gosip.Header, bool, error) {
	in, out := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		in, out = "Proxy-Authenticate", "Proxy-Authorization"
	}
	chal, err := pickChallenge(res.GetHeaders(in))
	if err != nil {
		return nil, false, err
	}
	if user == "" && pass == "" {
		return nil, chal.Stale, errors.New("challenged, but the trunk has no credentials")
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: pass})
	if err != nil {
		return nil, chal.Stale, err
	}
	return gosip.NewHeader(out, cred.String()), chal.Stale, nil
}

// pickChallenge parses the challenge headers and returns the first digest
// challenge we can compute (MD5, SHA-256, ...; qop auth or none).
func pickChallenge(hdrs []gosip.Header) (*digest.Challenge, error) {
	var firstErr error
	for _, h := range hdrs {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("challenge %q: %w", h.Value(), err)
			}
			continue
		}
		chal.Algorithm = strings.ToUpper(chal.Algorithm)
		if chal.Nonce == "" || !digest.CanDigest(chal) {
			if firstErr == nil {
				firstErr = fmt.Errorf("challenge %q: unsupported", h.Value())
			}
			continue
		}
		if chal.QOP != nil && !chal.SupportsQOP("auth") {
			chal.QOP = nil // auth-int only: we do not sign bodies
			if firstErr == nil {
				firstErr = fmt.Errorf("challenge %q: only qop=auth-int", h.Value())
			}
			continue
		}
		return chal, nil
	}
	if firstErr == nil {
		firstErr = errors.New("no digest challenge")
	}
	return nil, firstErr
}

// grantedExpires reads the lifetime a 2xx to REGISTER grants our contact
// (section 10.2.4): the expires parameter of the Contact that is ours,
// else the Expires header, else what we asked for. It returns seconds.
func grantedExpires(res *gosip.Response, ours gosip.Uri, asked int) int {
	expiresHdr := -1
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			expiresHdr = n
		}
	}
	for _, h := range res.GetHeaders("Contact") {
		for _, c := range contactsOf(h) {
			if !sameContact(c.Address, ours) {
				continue
			}
			for _, kv := range c.Params {
				if strings.EqualFold(kv.K, "expires") {
					if n, err := strconv.Atoi(strings.TrimSpace(kv.V)); err == nil && n >= 0 {
						return min(n, 1<<30)
					}
				}
			}
			if expiresHdr >= 0 {
				return min(expiresHdr, 1<<30)
			}
			return asked
		}
	}
	if expiresHdr >= 0 {
		return min(expiresHdr, 1<<30)
	}
	return asked
}

// contactsOf returns the addresses in a Contact header: the parsed one,
// or each comma-separated value of an unparsed one.
func contactsOf(h gosip.Header) []gosip.ContactHeader {
	if c, ok := h.(*gosip.ContactHeader); ok {
		return []gosip.ContactHeader{*c}
	}
	var out []gosip.ContactHeader
	for _, v := range splitAddresses(h.Value()) {
		var c gosip.ContactHeader
		c.Params = gosip.NewParams()
		if _, err := gosip.ParseAddressValue(v, &c.Address, &c.Params); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// splitAddresses splits a header value at commas outside <> and quotes.
func splitAddresses(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; {
		case ch == '\\' && quoted:
			i++
		case ch == '"':
			quoted = !quoted
		case quoted:
		case ch == '<':
			depth++
		case ch == '>':
			if depth > 0 {
				depth--
			}
		case ch == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[min(start, len(v)):]); s != "" {
		out = append(out, s)
	}
	return out
}

// sameContact compares the parts of a Contact URI a registrar keeps:
// user, host and port (5060 when absent).
func sameContact(a, b gosip.Uri) bool {
	pa, pb := a.Port, b.Port
	if pa == 0 {
		pa = 5060
	}
	if pb == 0 {
		pb = 5060
	}
	return a.User == b.User && strings.EqualFold(a.Host, b.Host) && pa == pb
}

// retryAfterOf reads Retry-After (seconds, capped at an hour).
func retryAfterOf(res *gosip.Response) time.Duration {
	h := res.GetHeader("Retry-After")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(min(n, 3600)) * time.Second
}

// NumberURI is the Request-URI for calling number through the trunk:
// sip:<number>@<domain>. Spaces, dashes, dots and brackets of a
// written phone number are dropped; anything a URI user part cannot
// carry is refused.
func (t *Trunk) NumberURI(number string) (string, error) {
	user, err := dialUser(number)
	if err != nil {
		return "", err
	}
	u := *t.domain.Clone()
	u.User = user
	return u.String(), nil
}

// ErrBadNumber is returned for a number that cannot be dialled.
var ErrBadNumber = errors.New("sip: number cannot be dialled")

// dialUser turns a dialled number into a URI user part.
func dialUser(number string) (string, error) {
	n := strings.TrimSpace(number)
	if n == "" {
		return "", fmt.Errorf("%w: empty", ErrBadNumber)
	}
	if len(n) > 64 {
		return "", fmt.Errorf("%w: longer than 64 characters", ErrBadNumber)
	}
	phone := true
	for i := 0; i < len(n); i++ {
		ch := n[i]
		if !(ch >= '0' && ch <= '9' || strings.IndexByte("+*# ()-./", ch) >= 0) {
			phone = false
			break
		}
	}
	var b strings.Builder
	for i := 0; i < len(n); i++ {
		ch := n[i]
		switch {
		case phone && strings.IndexByte(" ()-./", ch) >= 0:
			// a written number's separators
		case ch == '+' && phone && b.Len() > 0:
			return "", fmt.Errorf("%w: %q: + only leads", ErrBadNumber, number)
		case ch == '#':
			b.WriteString("%23")
		case ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("-_.!~*'()+", ch) >= 0:
			b.WriteByte(ch)
		default:
			return "", fmt.Errorf("%w: %q has %q", ErrBadNumber, number, ch)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%w: %q has no digits", ErrBadNumber, number)
	}
	return b.String(), nil
}

// Dial calls number through the trunk (sip:<number>@<domain>) and returns
// the call answered; see DialURI.
func (t *Trunk) Dial(ctx context.Context, number string, opts DialOptions) (*Call, error) {
	uri, err := t.NumberURI(number)
	if err != nil {
		return nil, err
	}
	return t.DialURI(ctx, uri, opts)
}

// DialURI calls uri through the trunk: From is the trunk's address (the
// caller ID opts.FromUser, or the trunk's from user, at its domain),
// challenges are answered with the trunk's credentials, the INVITE goes
// through the outbound proxy if any and, over UDP, leaves from the
// socket the trunk registered from. The caller owns the returned call
// and must Hangup and Close it.
func (t *Trunk) DialURI(ctx context.Context, uri string, opts DialOptions) (*Call, error) {
	if opts.From == "" {
		user := opts.FromUser
		if user == "" {
			user = t.cfg.FromUser
		}
		if user == "" {
			user = "ivr"
		}
		if u, err := dialUser(user); err == nil {
			user = u
		} else {
			user = t.cfg.FromUser
		}
		from := gosip.Uri{Scheme: t.aor.Scheme, User: user, Host: t.domain.Host}
		opts.From = from.String()
	}
	if opts.DisplayName == "" {
		opts.DisplayName = t.cfg.FromName
	}
	if opts.Username == "" && opts.Password == "" {
		opts.Username, opts.Password = t.cfg.AuthUsername, t.cfg.Password
	}
	if opts.Proxy == "" && t.proxy != nil {
		opts.Proxy = t.proxy.String()
	}
	opts.fromListener = true
	return t.srv.Dial(ctx, uri, opts)
}
