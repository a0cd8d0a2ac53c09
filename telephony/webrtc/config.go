package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// ICEServer is a STUN or TURN server handed to both peers.
type ICEServer struct {
	// URLs are stun:, turn: or turns: URLs (RFC 7064, RFC 7065).
	URLs []string `json:"urls"`
	// Username and Credential are static TURN credentials. Leave them
	// empty and set Config.TURNSecret for time-limited ones.
	Username   string `json:"username,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// Config describes a WebRTC endpoint. The zero value (plus a Handler)
// serves browsers on the same origin as the page, on any UDP port, with no
// STUN or TURN: enough on a LAN or localhost.
type Config struct {
	// Handler runs one call; its return ends the call (like net/http).
	// Required.
	Handler func(ctx context.Context, c *Call)

	// Prefix is the URL path the signalling lives under. Default "/webrtc".
	Prefix string

	// ICEServers are given to our peer connections and to the browser.
	ICEServers []ICEServer
	// TURNSecret, when set, makes time-limited TURN credentials for the
	// browser (the TURN REST API scheme coturn calls use-auth-secret):
	// username "<expiry unix time>:<call>", credential
	// base64(HMAC-SHA1(secret, username)), for every turn:/turns: URL in
	// ICEServers that has no static credentials.
	TURNSecret string
	// TURNTTL is how long such credentials last. Default 1 h.
	TURNTTL time.Duration

	// PublicIPs are the server's public addresses behind a 1:1 NAT; our
	// host candidates carry them instead of the private addresses.
	PublicIPs []string
	// UDPPortMin and UDPPortMax bound the ports ICE listens on (both 0:
	// any port).
	UDPPortMin, UDPPortMax uint16

	// AllowedOrigins are the web origins whose pages may place calls:
	// "https://shop.example.com", "https://*.example.com" (any subdomain),
	// or "*" (any). The server's own origin (the demo page) is always
	// allowed.
	AllowedOrigins []string
	// AllowNoOrigin admits requests without an Origin header (non-browser
	// clients). Off by default: browsers always send Origin on POST.
	AllowNoOrigin bool

	// CallsPerMinute is how many calls one client address may start per
	// minute, with a burst of CallBurst. Defaults 6 and 3; negative turns
	// the limit off.
	CallsPerMinute float64
	CallBurst      int
	// MaxCalls limits concurrent browser calls. Default 100; negative: no limit.
	MaxCalls int

	// ConnectTimeout bounds ICE and DTLS after the answer. Default 15 s.
	ConnectTimeout time.Duration
	// DisconnectTimeout ends a call whose connectivity is lost for this
	// long. Default 10 s.
	DisconnectTimeout time.Duration
	// GatherTimeout bounds our ICE gathering before we answer (STUN
	// servers that do not reply). Default 3 s.
	GatherTimeout time.Duration

	// OpusRate is the PCM rate of Opus calls in Hz: 16000 (what the
	// recognizer wants; the default) or 48000. PCMU calls run at 8000.
	OpusRate int
	// DisableOpus offers PCMU only, even when the build has Opus.
	DisableOpus bool

	// IncludeLoopback gathers loopback candidates (tests, a browser on the
	// same machine).
	IncludeLoopback bool

	Logger *slog.Logger

	// now is the clock (tests inject one).
	now func() time.Time
}

// Errors of the configuration.
var ErrConfig = errors.New("webrtc: bad config")

// withDefaults checks c and fills in defaults; it returns a copy.
func (c Config) withDefaults() (Config, error) {
	if c.Handler == nil {
		return c, fmt.Errorf("%w: a handler is required", ErrConfig)
	}
	if c.Prefix == "" {
		c.Prefix = "/webrtc"
	}
	c.Prefix = "/" + strings.Trim(c.Prefix, "/")
	if c.TURNTTL <= 0 {
		c.TURNTTL = time.Hour
	}
	if c.CallsPerMinute == 0 {
		c.CallsPerMinute = 6
	}
	if c.CallBurst <= 0 {
		c.CallBurst = 3
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = 100
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 15 * time.Second
	}
	if c.DisconnectTimeout <= 0 {
		c.DisconnectTimeout = 10 * time.Second
	}
	if c.GatherTimeout <= 0 {
		c.GatherTimeout = 3 * time.Second
	}
	if c.OpusRate == 0 {
		c.OpusRate = 16000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, c.validate()
}

func (c Config) validate() error {
	if c.OpusRate != 16000 && c.OpusRate != 48000 {
		return fmt.Errorf("%w: opus rate %d: want 16000 or 48000", ErrConfig, c.OpusRate)
	}
	if (c.UDPPortMin == 0) != (c.UDPPortMax == 0) || c.UDPPortMin > c.UDPPortMax {
		return fmt.Errorf("%w: UDP port range %d-%d", ErrConfig, c.UDPPortMin, c.UDPPortMax)
	}
	for _, ip := range c.PublicIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("%w: public IP %q is not an IP address", ErrConfig, ip)
		}
	}
	for _, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("%w: an ICE server without URLs", ErrConfig)
		}
		for _, u := range s.URLs {
			scheme, _, _ := strings.Cut(u, ":")
			switch strings.ToLower(scheme) {
			case "stun", "stuns", "turn", "turns":
			default:
				return fmt.Errorf("%w: ICE server URL %q: want stun:, stuns:, turn: or turns:", ErrConfig, u)
			}
		}
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			continue
		}
		if _, err := parseOriginPattern(o); err != nil {
			return fmt.Errorf("%w: allowed origin %q: %v", ErrConfig, o, err)
		}
	}
	return nil
}

// originPattern is an allowed origin: scheme and host (with port), where
// the host may start with "*." for any subdomain.
type originPattern struct {
	scheme, host string
	wildcard     bool // host is a suffix: "*.example.com" matches a.example.com
}

func parseOriginPattern(s string) (originPattern, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil {
		return originPattern{}, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return originPattern{}, errors.New("want http:// or https://")
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return originPattern{}, errors.New("want scheme://host[:port] only")
	}
	p := originPattern{scheme: u.Scheme, host: strings.ToLower(u.Host)}
	if rest, ok := strings.CutPrefix(p.host, "*."); ok {
		if rest == "" || strings.Contains(rest, "*") {
			return originPattern{}, errors.New("bad wildcard")
		}
		p.host, p.wildcard = "."+rest, true
	} else if strings.Contains(p.host, "*") {
		return originPattern{}, errors.New("a wildcard may only start the host")
	}
	return p, nil
}

// match reports whether a request's Origin (already parsed) fits.
func (p originPattern) match(scheme, host string) bool {
	if scheme != p.scheme {
		return false
	}
	if p.wildcard {
		return strings.HasSuffix(host, p.host) && len(host) > len(p.host)
	}
	return host == p.host
}
