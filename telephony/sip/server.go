// Package sip answers and places SIP calls (RFC 3261) on sipgo: listeners
// for UDP, TCP and TLS, INVITE/ACK/BYE/CANCEL/OPTIONS/INFO/REFER, re-INVITE
// for hold and session refresh, and one RTP session per call. It knows
// nothing of what a call does: each answered call goes to one Handler.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"github.com/openivr/ivr/telephony/rtp"
)

// Handler runs an answered call. The call ends (with a BYE if still up)
// when HandleCall returns. ctx is cancelled when the server shuts down.
type Handler interface {
	HandleCall(ctx context.Context, c *Call)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Call)

// HandleCall calls f.
func (f HandlerFunc) HandleCall(ctx context.Context, c *Call) { f(ctx, c) }

// Listener is one transport and address to listen on.
type Listener struct {
	Network string // "udp", "tcp" or "tls"
	Addr    string // host:port
}

// Config of the SIP user agent.
type Config struct {
	Listeners []Listener
	// TLSCert and TLSKey are PEM files, needed when a "tls" listener is set.
	TLSCert, TLSKey string
	// PublicIP is the address written in Contact and SDP. Default: the
	// first listener's IP, or the host's outbound IP when that is a wildcard.
	PublicIP net.IP
	// RTPPortMin and RTPPortMax bound the per-call RTP ports.
	RTPPortMin, RTPPortMax int
	// Codecs lists SDP encoding names we accept, in our preference (used
	// for our offers; answers follow the caller's order).
	Codecs []string
	// MediaTimeout hangs up a call with no RTP for this long; 0 disables.
	MediaTimeout time.Duration
	// RingTime is how long we send 180 Ringing before answering.
	RingTime time.Duration
	// MaxCalls refuses new calls with 503 beyond this many; 0 is no limit.
	MaxCalls int
	// UserAgent is the product token in User-Agent and Server headers.
	UserAgent string
	// Registrar, when set, accepts REGISTER from agents' phones (digest
	// authentication); without it REGISTER gets 405.
	Registrar *Registrar
	Logger    *slog.Logger
}

// Server is a SIP user agent server (and client, for BYE, REFER and
// outbound calls).
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler Handler
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	ports   *rtp.PortPool
	// contacts per transport ("udp", "tcp", "tls").
	contacts map[string]gosip.ContactHeader

	mu    sync.Mutex
	calls map[string]*Call // by dialog ID, guarded by mu
	addrs []Listener       // bound addresses, guarded by mu
	// closing refuses new calls once shutdown began, so wg.Add never
	// races wg.Wait. Guarded by mu.
	closing bool
	wg      sync.WaitGroup      // running handlers
	trunks  map[*Trunk]struct{} // started trunks, guarded by mu; unregistered on shutdown
	ready   chan struct{}       // closed when every listener is bound
	base    context.Context     // parent of call contexts
	stop    context.CancelFunc
}

// NewServer checks cfg and prepares a server; ListenAndServe starts it.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if h == nil {
		return nil, errors.New("sip: nil handler")
	}
	if len(cfg.Listeners) == 0 {
		return nil, errors.New("sip: no listeners")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "openivr"
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []string{"PCMU", "PCMA"}
	}
	if cfg.RTPPortMin == 0 && cfg.RTPPortMax == 0 {
		cfg.RTPPortMin, cfg.RTPPortMax = 10000, 20000
	}
	if cfg.PublicIP == nil {
		cfg.PublicIP = defaultIP(cfg.Listeners[0].Addr)
	}
	for _, l := range cfg.Listeners {
		switch l.Network {
		case "udp", "tcp":
		case "tls":
			if cfg.TLSCert == "" || cfg.TLSKey == "" {
				return nil, fmt.Errorf("sip: tls listener %s needs a certificate and key", l.Addr)
			}
		default:
			return nil, fmt.Errorf("sip: unknown transport %q", l.Network)
		}
		if _, _, err := net.SplitHostPort(l.Addr); err != nil {
			return nil, fmt.Errorf("sip: listener address %q: %w", l.Addr, err)
		}
	}
	var uaOpts []sipgo.UserAgentOption
	uaOpts = append(uaOpts, sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgentHostname(cfg.PublicIP.String()))
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("sip: tls: %w", err)
		}
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(cfg.Logger.With("layer", "sipgo")))
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(cfg.PublicIP.String()), sipgo.WithClientLogger(cfg.Logger.With("layer", "sipgo")))
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, handler: h, ua: ua, srv: srv, client: client,
		ports:    &rtp.PortPool{IP: bindIP(cfg.Listeners[0].Addr), Min: cfg.RTPPortMin, Max: cfg.RTPPortMax},
		contacts: map[string]gosip.ContactHeader{},
		calls:    map[string]*Call{},
		ready:    make(chan struct{}),
	}
	s.base, s.stop = context.WithCancel(context.Background())
	for _, l := range cfg.Listeners {
		if _, ok := s.contacts[l.Network]; ok {
			continue
		}
		_, port, _ := net.SplitHostPort(l.Addr)
		p, _ := strconv.Atoi(port)
		c := gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: "ivr", Host: cfg.PublicIP.String(), Port: p}}
		if l.Network == "tls" {
			c.Address.Scheme = "sips"
		}
		if l.Network == "tcp" {
			c.Address.UriParams = gosip.NewParams()
			c.Address.UriParams.Add("transport", "tcp")
		}
		s.contacts[l.Network] = c
	}
	srv.OnInvite(s.guard(s.onInvite))
	srv.OnAck(s.onAck) // no response to ACK, so no guard
	srv.OnBye(s.guard(s.inDialog("Call/Transaction Does Not Exist", (*Call).readBye)))
	srv.OnOptions(s.guard(s.onOptions))
	srv.OnInfo(s.guard(s.inDialog("Call/Transaction Does Not Exist", (*Call).readInfo)))
	srv.OnNotify(s.guard(s.inDialog("Subscription Does Not Exist", (*Call).readNotify)))
	srv.OnUpdate(s.guard(s.inDialog("Call/Transaction Does Not Exist", (*Call).readUpdate)))
	srv.OnRefer(s.guard(s.onRefer))
	srv.OnMessage(s.guard(s.notAllowed))
	srv.OnSubscribe(s.guard(s.notAllowed))
	if cfg.Registrar != nil {
		srv.OnRegister(s.guard(cfg.Registrar.serve))
	} else {
		srv.OnRegister(s.guard(s.notAllowed))
	}
	srv.OnPrack(s.guard(s.notAllowed))
	srv.OnPublish(s.guard(s.notAllowed))
	srv.OnNoRoute(s.guard(s.notImplemented))
	return s, nil
}

// allowed is what we answer in Allow headers.
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, UPDATE"

// ListenAndServe binds every listener and serves until ctx is done, then
// hangs up the calls in progress and waits for their handlers.
func (s *Server) ListenAndServe(ctx context.Context) error {
	errc := make(chan error, len(s.cfg.Listeners))
	var bound sync.WaitGroup
	for _, l := range s.cfg.Listeners {
		switch l.Network {
		case "udp":
			pc, err := net.ListenPacket("udp", l.Addr)
			if err != nil {
				s.closeAll()
				return fmt.Errorf("sip: listen udp %s: %w", l.Addr, err)
			}
			s.log.Info("sip listening", "transport", "udp", "addr", pc.LocalAddr().String())
			s.bound("udp", pc.LocalAddr().String())
			bound.Add(1)
			go func() {
				bound.Done()
				errc <- s.srv.ServeUDP(&validatingConn{PacketConn: pc, log: s.log, ua: s.cfg.UserAgent})
			}()
		case "tcp":
			ln, err := net.Listen("tcp", l.Addr)
			if err != nil {
				s.closeAll()
				return fmt.Errorf("sip: listen tcp %s: %w", l.Addr, err)
			}
			s.log.Info("sip listening", "transport", "tcp", "addr", ln.Addr().String())
			s.bound("tcp", ln.Addr().String())
			bound.Add(1)
			go func() {
				bound.Done()
				errc <- s.srv.ServeTCP(&validatingListener{Listener: ln, log: s.log, ua: s.cfg.UserAgent})
			}()
		case "tls":
			cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
			if err != nil {
				s.closeAll()
				return fmt.Errorf("sip: tls: %w", err)
			}
			ln, err := tls.Listen("tcp", l.Addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
			if err != nil {
				s.closeAll()
				return fmt.Errorf("sip: listen tls %s: %w", l.Addr, err)
			}
			s.log.Info("sip listening", "transport", "tls", "addr", ln.Addr().String())
			s.bound("tls", ln.Addr().String())
			bound.Add(1)
			go func() {
				bound.Done()
				errc <- s.srv.ServeTLS(&validatingListener{Listener: ln, log: s.log, ua: s.cfg.UserAgent})
			}()
		}
	}
	bound.Wait()
	close(s.ready)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("sip: listener stopped: %w", err)
	}
	s.shutdown()
	return err
}

func (s *Server) bound(network, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs = append(s.addrs, Listener{Network: network, Addr: addr})
	// With port 0 in the config, Contact must carry the real port.
	if c, ok := s.contacts[network]; ok && c.Address.Port == 0 {
		if _, p, err := net.SplitHostPort(addr); err == nil {
			c.Address.Port, _ = strconv.Atoi(p)
			s.contacts[network] = c
		}
	}
}

// Addrs lists the bound listeners (after Ready), with real ports when the
// config asked for port 0.
func (s *Server) Addrs() []Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Listener(nil), s.addrs...)
}

// Ready is closed once every listener is bound.
func (s *Server) Ready() <-chan struct{} { return s.ready }

func (s *Server) shutdown() {
	s.stop()
	s.mu.Lock()
	s.closing = true
	calls := make([]*Call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	for _, c := range calls {
		c.end(endShutdown)
	}
	s.wg.Wait()
	s.closeTrunks() // unregister while the listeners are still open
	s.closeAll()
}

func (s *Server) closeAll() {
	s.srv.Close()
	s.client.Close()
	s.ua.Close()
}

// ActiveCalls is the number of calls in progress.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// guard checks a request before its handler: malformed or unsupported
// requests get the response RFC 3261 (and RFC 4475) name, and a panic in
// a handler becomes a 500 instead of taking the server down.
func (s *Server) guard(h func(req *gosip.Request, tx gosip.ServerTransaction)) func(req *gosip.Request, tx gosip.ServerTransaction) {
	return func(req *gosip.Request, tx gosip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("sip handler panic", "method", req.Method, "panic", r)
				respond(tx, req, 500, "Server Internal Error")
			}
		}()
		if code, reason, hdrs := checkRequest(req); code != 0 {
			s.log.Info("sip request refused", "method", req.Method, "code", code, "reason", reason)
			respond(tx, req, code, reason, hdrs...)
			return
		}
		h(req, tx)
	}
}

func respond(tx gosip.ServerTransaction, req *gosip.Request, code int, reason string, hdrs ...gosip.Header) {
	res := gosip.NewResponseFromRequest(req, code, reason, nil)
	res.SipVersion = "SIP/2.0" // even to a SIP/7.0 request (RFC 4475 3.1.2.16)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	tx.Respond(res)
}

func (s *Server) onOptions(req *gosip.Request, tx gosip.ServerTransaction) {
	// RFC 3261 section 11.2: capabilities, answered in or out of a dialog.
	res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(gosip.NewHeader("Allow", allowed))
	res.AppendHeader(gosip.NewHeader("Accept", "application/sdp, application/dtmf-relay, application/dtmf"))
	res.AppendHeader(gosip.NewHeader("Supported", "replaces, timer"))
	tx.Respond(res)
}

func (s *Server) notAllowed(req *gosip.Request, tx gosip.ServerTransaction) {
	respond(tx, req, 405, "Method Not Allowed", gosip.NewHeader("Allow", allowed))
}

func (s *Server) notImplemented(req *gosip.Request, tx gosip.ServerTransaction) {
	respond(tx, req, 501, "Not Implemented", gosip.NewHeader("Allow", allowed))
}

// lookup finds the call a request belongs to.
func (s *Server) lookup(req *gosip.Request) *Call {
	id, err := gosip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *Server) add(c *Call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.cfg.MaxCalls > 0 && len(s.calls) >= s.cfg.MaxCalls {
		return false
	}
	s.calls[c.dialogID] = c
	if c.inbound {
		s.wg.Add(1) // the handler goroutine; Done when it returns
	}
	return true
}

func (s *Server) remove(c *Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[c.dialogID] == c {
		delete(s.calls, c.dialogID)
	}
}

func (s *Server) onAck(req *gosip.Request, tx gosip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		return // ACK for a non-2xx final response is absorbed by the transaction
	}
	c.readAck(req, tx)
}

// inDialog routes a request to the call whose dialog it belongs to, or
// answers it with missing (481 and a reason) when there is none (RFC 3261
// section 12.2.2).
func (s *Server) inDialog(missing string, h func(c *Call, req *gosip.Request, tx gosip.ServerTransaction)) func(req *gosip.Request, tx gosip.ServerTransaction) {
	return func(req *gosip.Request, tx gosip.ServerTransaction) {
		c := s.lookup(req)
		if c == nil {
			respond(tx, req, 481, missing)
			return
		}
		h(c, req, tx)
	}
}

func (s *Server) onRefer(req *gosip.Request, tx gosip.ServerTransaction) {
	// We transfer callers; we do not let peers transfer us elsewhere.
	respond(tx, req, 603, "Decline")
}

func defaultIP(addr string) net.IP {
	if ip := bindIP(addr); ip != nil && !ip.IsUnspecified() {
		return ip
	}
	// The address the kernel would use to reach the outside world; no
	// packet is sent by a UDP "connect".
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil {
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).IP
	}
	return net.IPv4(127, 0, 0, 1)
}

func bindIP(addr string) net.IP {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if host == "" {
		return net.IPv4zero
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip
	}
	if ips, err := net.LookupIP(host); err == nil && len(ips) > 0 {
		return ips[0]
	}
	return nil
}

func transportOf(req *gosip.Request) string {
	return strings.ToLower(req.Transport())
}
