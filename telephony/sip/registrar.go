package sip

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Registrar lets agents' phones register to the IVR (RFC 3261 section 10)
// with digest authentication (RFC 2617 / RFC 8760, MD5 with qop=auth), so
// queues can ring them where they are. It is safe for concurrent use.
type Registrar struct {
	// Realm of the challenges; default "openivr".
	Realm string
	// Users maps a user name (the AOR's user part) to its password.
	Users map[string]string
	// MaxExpires caps a binding's lifetime; default 3600 s.
	MaxExpires time.Duration

	mu       sync.Mutex
	bindings map[string]map[string]*Binding // user -> contact URI -> binding
	nonces   map[string]time.Time           // issued nonce -> expiry
	now      func() time.Time
}

// Binding is where a registered user can be reached.
type Binding struct {
	User    string
	Contact string    // the Contact URI the phone registered
	Source  string    // host:port the REGISTER came from (a NAT's public side)
	Expires time.Time // when the binding lapses unless refreshed
}

const nonceLife = 5 * time.Minute

func (r *Registrar) init() {
	if r.bindings == nil {
		r.bindings = map[string]map[string]*Binding{}
		r.nonces = map[string]time.Time{}
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.Realm == "" {
		r.Realm = "openivr"
	}
	if r.MaxExpires == 0 {
		r.MaxExpires = time.Hour
	}
}

// password is user's password (ok false: no such user).
func (r *Registrar) password(user string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.Users[user]
	return p, ok
}

// SetUsers replaces the users (a config reload). Bindings of users who
// are gone lapse at once.
func (r *Registrar) SetUsers(users map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	r.Users = users
	for u := range r.bindings {
		if _, ok := users[u]; !ok {
			delete(r.bindings, u)
		}
	}
}

// Lookup returns the live bindings of user, newest expiry first.
func (r *Registrar) Lookup(user string) []Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	var out []Binding
	now := r.now()
	for c, b := range r.bindings[user] {
		if now.After(b.Expires) {
			delete(r.bindings[user], c)
			continue
		}
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Expires.After(out[j].Expires) })
	return out
}

// serve answers one REGISTER.
func (r *Registrar) serve(req *gosip.Request, tx gosip.ServerTransaction) {
	r.mu.Lock()
	r.init()
	r.mu.Unlock()
	to := req.To()
	if to == nil || (to.Address.Scheme != "sip" && to.Address.Scheme != "sips") {
		respond(tx, req, 400, "Bad Request - To must be a SIP AOR")
		return
	}
	user := to.Address.User
	if _, ok := r.password(user); !ok {
		respond(tx, req, 404, "Not Found")
		return
	}
	if !r.authorized(req, user) {
		r.challenge(req, tx, false)
		return
	}
	expires := 3600
	if h := req.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			expires = v
		}
	}
	now := r.now()
	r.mu.Lock()
	if r.bindings[user] == nil {
		r.bindings[user] = map[string]*Binding{}
	}
	for _, h := range req.GetHeaders("Contact") {
		ch, ok := h.(*gosip.ContactHeader)
		if !ok {
			continue
		}
		if ch.Address.Wildcard {
			if expires == 0 { // section 10.3 step 6: "*" removes all
				delete(r.bindings, user)
			}
			continue
		}
		e := expires
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				e = n
			}
		}
		d := min(time.Duration(e)*time.Second, r.MaxExpires)
		uri := ch.Address.String()
		if e == 0 {
			delete(r.bindings[user], uri)
			continue
		}
		r.bindings[user][uri] = &Binding{User: user, Contact: uri, Source: req.Source(), Expires: now.Add(d)}
	}
	res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, b := range r.bindings[user] {
		res.AppendHeader(gosip.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.Itoa(int(b.Expires.Sub(now).Seconds()))))
	}
	r.mu.Unlock()
	res.AppendHeader(gosip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	tx.Respond(res)
}

// authorized checks the Authorization header against the user's password
// and a nonce we issued and that has not expired.
func (r *Registrar) authorized(req *gosip.Request, user string) bool {
	h := req.GetHeader("Authorization")
	if h == nil {
		return false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username != user || cred.Realm != r.Realm {
		return false
	}
	r.mu.Lock()
	exp, ok := r.nonces[cred.Nonce]
	r.mu.Unlock()
	if !ok || r.now().After(exp) {
		return false
	}
	chal := &digest.Challenge{Realm: r.Realm, Nonce: cred.Nonce, Algorithm: "MD5", Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	password, _ := r.password(user)
	want, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: cred.URI,
		Username: user, Password: password, Count: cred.Nc, Cnonce: cred.Cnonce})
	return err == nil && want.Response == cred.Response
}

// challenge answers 401 with a fresh nonce (stale when the old one lapsed).
func (r *Registrar) challenge(req *gosip.Request, tx gosip.ServerTransaction, stale bool) {
	b := make([]byte, 16)
	rand.Read(b)
	nonce := hex.EncodeToString(b)
	now := r.now()
	r.mu.Lock()
	for n, exp := range r.nonces { // forget lapsed nonces
		if now.After(exp) {
			delete(r.nonces, n)
		}
	}
	r.nonces[nonce] = now.Add(nonceLife)
	r.mu.Unlock()
	chal := digest.Challenge{Realm: r.Realm, Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	respond(tx, req, 401, "Unauthorized", gosip.NewHeader("WWW-Authenticate", chal.String()))
}
