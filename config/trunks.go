package config

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// Trunk is a SIP provider: the IVR registers to it as a client (digest
// authentication) and places outbound calls through it.
type Trunk struct {
	// Registrar is where REGISTER goes: sip:sip.provider.example:5060, or
	// just host[:port]; empty means the trunk does not register
	// (IP-authenticated trunks).
	Registrar string `yaml:"registrar"`
	// Register: false keeps a trunk with a registrar from registering
	// (say, to pause it). Default true when a registrar is set.
	Register *bool `yaml:"register"`
	// Domain is where outbound INVITEs go (sip:<number>@<domain>), and
	// the host of the trunk's address of record. Default: the registrar's
	// host and port.
	Domain string `yaml:"domain"`
	// Username is the account: the user part of the address of record
	// registered (sip:<username>@<domain>). Password is its secret; keep
	// it out of the file with ${TRUNK_PASSWORD}.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// AuthUsername is the digest user name when the provider's differs
	// from the account (an "auth ID"). Default: username.
	AuthUsername string `yaml:"auth_username"`
	// FromUser is the caller ID of outbound calls: the user part of From
	// (sip:<from_user>@<domain>). Default: username.
	FromUser string `yaml:"from_user"`
	// FromName is the display name of outbound calls' From. Default none.
	FromName string `yaml:"from_name"`
	// Transport is udp, tcp or tls. Default udp.
	Transport string `yaml:"transport"`
	// OutboundProxy, when set, is where every request of the trunk is
	// sent first (a loose Route), e.g. sip:edge.provider.example:5060.
	OutboundProxy string `yaml:"outbound_proxy"`
	// Expires is the registration lifetime asked for; the registrar may
	// grant less, and the IVR refreshes before what it granted runs out.
	// Default 300s.
	Expires time.Duration `yaml:"expires"`
	// KeepAlive is how often a registered trunk sends OPTIONS to its
	// registrar: it keeps a NAT's mapping open and notices a provider
	// that stopped answering (two unanswered pings register again at
	// once). Default 25s; 0s disables.
	KeepAlive *time.Duration `yaml:"keepalive"`
}

// Registers tells whether the trunk registers to its provider.
func (t *Trunk) Registers() bool {
	return t.Registrar != "" && Bool(t.Register, true)
}

func (c *Config) trunkDefaults() {
	for _, t := range c.Trunks {
		if t == nil {
			continue
		}
		if t.Expires == 0 {
			t.Expires = 300 * time.Second
		}
		if t.Transport == "" {
			t.Transport = "udp"
		}
		if t.KeepAlive == nil {
			d := 25 * time.Second
			t.KeepAlive = &d
		}
		t.Transport = strings.ToLower(t.Transport)
	}
}

func (c *Config) validateTrunks(add addFunc) {
	for name, t := range c.Trunks {
		path := "trunks." + name
		if t == nil {
			add(path, "trunk %q is empty", name)
			continue
		}
		if t.Registrar == "" && t.Domain == "" {
			add(path, "trunk %q needs a registrar or a domain", name)
		}
		if t.Registrar != "" && !validSIPTarget(t.Registrar) {
			add(path+".registrar", "trunk %q: registrar %q is not a SIP URI or host[:port]", name, t.Registrar)
		}
		if t.Domain != "" && !validSIPTarget(t.Domain) {
			add(path+".domain", "trunk %q: domain %q is not a SIP URI or host[:port]", name, t.Domain)
		}
		if t.OutboundProxy != "" && !validSIPTarget(t.OutboundProxy) {
			add(path+".outbound_proxy", "trunk %q: outbound_proxy %q is not a SIP URI or host[:port]", name, t.OutboundProxy)
		}
		switch t.Transport {
		case "", "udp", "tcp", "tls":
		default:
			add(path+".transport", "trunk %q: transport %q is not udp, tcp or tls", name, t.Transport)
		}
		if t.Registers() && t.Username == "" {
			add(path+".username", "trunk %q registers, so it needs a username", name)
		}
		if t.Password != "" && t.Username == "" && t.AuthUsername == "" {
			add(path+".username", "trunk %q has a password but no username", name)
		}
		if t.Expires < 0 || t.Expires > 0 && t.Expires < 10*time.Second || t.Expires > 24*time.Hour {
			add(path+".expires", "trunk %q: expires %s is outside 10s..24h", name, t.Expires)
		}
		if k := t.KeepAlive; k != nil && (*k < 0 || *k > 0 && *k < time.Second || *k > time.Hour) {
			add(path+".keepalive", "trunk %q: keepalive %s is outside 1s..1h (0s turns it off)", name, *k)
		}
		for field, v := range map[string]string{"username": t.Username, "auth_username": t.AuthUsername, "from_user": t.FromUser} {
			if !validSIPUser(v) {
				add(path+"."+field, "trunk %q: %s %q has characters a SIP URI's user part cannot carry", name, field, v)
			}
		}
	}
}

// validSIPTarget accepts sip:host[:port][;params], sips:..., or a bare
// host[:port]. It is a sanity check; the SIP stack parses it for real.
func validSIPTarget(s string) bool {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	switch {
	case strings.HasPrefix(low, "sips:"):
		s = s[5:]
	case strings.HasPrefix(low, "sip:"):
		s = s[4:]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return false
	}
	host := s
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return false
		}
		host = h
	} else if strings.Contains(s, ":") && !strings.HasPrefix(s, "[") && net.ParseIP(s) == nil {
		return false // host:port with a bad port
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(host) != nil {
		return true
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// validSIPUser accepts what a SIP URI's user part carries unescaped
// (RFC 3261 section 25.1: unreserved and user-unreserved characters).
func validSIPUser(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.!~*'()&=+$,;?/", r)) {
			return false
		}
	}
	return true
}
