package webrtc

import (
	"net/http"
	"net/url"
	"strings"
)

// originPolicy decides which web pages may use the endpoint (the Origin
// header, RFC 6454) and writes the CORS headers (Fetch standard) that let
// an allowed page on another origin read our answers.
type originPolicy struct {
	any      bool
	patterns []originPattern
	noOrigin bool
}

func newOriginPolicy(allowed []string, noOrigin bool) originPolicy {
	p := originPolicy{noOrigin: noOrigin}
	for _, s := range allowed {
		if s == "*" {
			p.any = true
			continue
		}
		if op, err := parseOriginPattern(s); err == nil { // validated before
			p.patterns = append(p.patterns, op)
		}
	}
	return p
}

// allowed reports whether r comes from a permitted page. The server's own
// origin (same host and port as the request) is always permitted.
func (p originPolicy) allowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		// Browsers leave Origin out of same-origin GETs (the demo page
		// reading the config) but say where the request came from in
		// Fetch Metadata.
		return p.noOrigin || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	if o == "null" { // sandboxed frames, file: pages
		return p.any
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := strings.ToLower(u.Host)
	if host == strings.ToLower(r.Host) {
		return true
	}
	if p.any {
		return true
	}
	for _, op := range p.patterns {
		if op.match(u.Scheme, host) {
			return true
		}
	}
	return false
}

// cors writes the CORS response headers for any request carrying an
// Origin. A refused origin gets them too, so its page can read why it was
// refused; what protects the service is that refused requests do nothing.
func cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	if o == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Expose-Headers", "Location")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "600")
	}
}
