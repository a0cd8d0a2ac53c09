// Package webrtc answers calls from web browsers (the call widget) on
// pion/webrtc: HTTP offer/answer signalling with an origin allowlist and a
// rate limit, ICE (STUN, TURN, 1:1 NAT addresses, a UDP port range),
// DTLS-SRTP, Opus with G.722 and PCMU as fallbacks, RFC 4733 key presses from the
// browser's keypad, and a data channel for live captions and call state.
//
// A browser call is a *Call, which has the same shape as a SIP call, so the
// dialog engine runs it like any other; its channel is "webrtc".
package webrtc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// ErrClosed is returned by a Server that has been closed.
var ErrClosed = errors.New("webrtc: server closed")

// Server is a WebRTC endpoint: an http.Handler for signalling plus the
// calls it answered. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	api     *webrtc.API
	origins originPolicy
	limiter *rateLimiter
	log     *slog.Logger
	mux     *http.ServeMux

	ctx    context.Context // handlers' context; cancelled by Close
	cancel context.CancelFunc

	mu     sync.Mutex
	calls  map[string]*Call
	closed bool
	wg     sync.WaitGroup // handler goroutines
}

// NewServer checks cfg and prepares the endpoint. Nothing listens until
// the handler is mounted on an HTTP server; ICE ports open per call.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	api, err := newAPI(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		api:     api,
		origins: newOriginPolicy(cfg.AllowedOrigins, cfg.AllowNoOrigin),
		limiter: newRateLimiter(cfg.CallsPerMinute, cfg.CallBurst, cfg.now),
		log:     cfg.Logger,
		calls:   map[string]*Call{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mux = http.NewServeMux()
	p := cfg.Prefix
	s.mux.HandleFunc("GET "+p+"/config", s.handleConfig)
	s.mux.HandleFunc("POST "+p+"/calls", s.handleOffer)
	s.mux.HandleFunc("DELETE "+p+"/calls/{id}", s.handleDelete)
	s.mux.HandleFunc("OPTIONS "+p+"/", s.handlePreflight)
	return s, nil
}

// newAPI builds the pion API: our codecs, interceptors (RTCP reports,
// NACK) and ICE settings.
func newAPI(cfg Config) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	var codecs []webrtc.RTPCodecParameters
	if opusAvailable && !cfg.DisableOpus {
		codecs = append(codecs,
			webrtc.RTPCodecParameters{RTPCodecCapability: capOpus, PayloadType: 111},
			webrtc.RTPCodecParameters{RTPCodecCapability: capEvent48k, PayloadType: 110})
	}
	codecs = append(codecs,
		webrtc.RTPCodecParameters{RTPCodecCapability: capG722, PayloadType: 9},
		webrtc.RTPCodecParameters{RTPCodecCapability: capPCMU, PayloadType: 0},
		webrtc.RTPCodecParameters{RTPCodecCapability: capEvent8k, PayloadType: 126})
	for _, c := range codecs {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtc: register %s: %w", c.MimeType, err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, fmt.Errorf("webrtc: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{cfg.Logger}}
	se.SetICETimeouts(cfg.DisconnectTimeout/2, cfg.DisconnectTimeout, 2*time.Second)
	if cfg.UDPPortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("webrtc: port range: %w", err)
		}
	}
	if len(cfg.PublicIPs) > 0 {
		rule := webrtc.ICEAddressRewriteRule{External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost}
		if err := se.SetICEAddressRewriteRules(rule); err != nil {
			return nil, fmt.Errorf("webrtc: public IPs: %w", err)
		}
	}
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// Codec capabilities we offer. Browsers send telephone-event at the clock
// rate of the audio codec in use (48 kHz beside Opus, 8 kHz beside PCMU).
var (
	capOpus     = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	capG722     = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeG722, ClockRate: 8000, Channels: 1} // 16 kHz audio, 8 kHz clock (RFC 3551)
	capPCMU     = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}
	capEvent48k = webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 48000, SDPFmtpLine: "0-15"}
	capEvent8k  = webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-15"}
)

const mimeTelephoneEvent = "audio/telephone-event"

// ServeHTTP serves the signalling under Config.Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ActiveCalls counts the calls in progress.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Close refuses new calls, ends the calls in progress (their handlers'
// context is cancelled) and waits for their handlers to return or ctx to
// end. It is idempotent.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	calls := make([]*Call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	s.cancel()
	for _, c := range calls {
		c.end(EndShutdown)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	cors(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// handleConfig tells an allowed page the ICE servers to use, with fresh
// TURN credentials when a TURN secret is configured.
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	cors(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if !s.origins.allowed(r) {
		s.refuse(w, r, http.StatusForbidden, "calls from this website are not allowed")
		return
	}
	writeJSON(w, http.StatusOK, configResponse{ICEServers: s.iceServersFor(newID())})
}

// iceServersFor returns the ICE servers, with TURN REST credentials
// (draft-uberti-behave-turn-rest) for user when a secret is set.
func (s *Server) iceServersFor(user string) []ICEServer {
	out := make([]ICEServer, 0, len(s.cfg.ICEServers))
	for _, is := range s.cfg.ICEServers {
		if s.cfg.TURNSecret != "" && is.Username == "" && isTURN(is) {
			exp := s.cfg.now().Add(s.cfg.TURNTTL).Unix()
			is.Username = strconv.FormatInt(exp, 10) + ":" + user
			mac := hmac.New(sha1.New, []byte(s.cfg.TURNSecret))
			io.WriteString(mac, is.Username)
			is.Credential = base64.StdEncoding.EncodeToString(mac.Sum(nil))
		}
		is.URLs = append([]string(nil), is.URLs...)
		out = append(out, is)
	}
	return out
}

func isTURN(is ICEServer) bool {
	for _, u := range is.URLs {
		if strings.HasPrefix(strings.ToLower(u), "turn") {
			return true
		}
	}
	return false
}

// handleOffer starts a call: checks, answer, and the handler's goroutine.
func (s *Server) handleOffer(w http.ResponseWriter, r *http.Request) {
	cors(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if !s.origins.allowed(r) {
		s.refuse(w, r, http.StatusForbidden, "calls from this website are not allowed")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		s.refuse(w, r, http.StatusUnsupportedMediaType, "want Content-Type application/json")
		return
	}
	s.mu.Lock()
	closed, n := s.closed, len(s.calls)
	s.mu.Unlock()
	if closed {
		s.refuse(w, r, http.StatusServiceUnavailable, "the service is shutting down")
		return
	}
	if s.cfg.MaxCalls > 0 && n >= s.cfg.MaxCalls {
		w.Header().Set("Retry-After", "30")
		s.refuse(w, r, http.StatusServiceUnavailable, "all lines are busy")
		return
	}
	client := clientIP(r)
	if ok, wait := s.limiter.allow(client); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.refuse(w, r, http.StatusTooManyRequests, "too many calls: try again later")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBody))
	if err != nil {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, "offer too large")
		return
	}
	offer, err := parseOffer(body)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	c, answer, err := s.answer(r.Context(), offer, client, r.Header.Get("Origin"))
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrBadRequest) {
			code = http.StatusBadRequest
		}
		s.refuse(w, r, code, err.Error())
		return
	}
	if !s.start(c) {
		c.end(EndShutdown)
		c.cleanup()
		s.refuse(w, r, http.StatusServiceUnavailable, "the service is shutting down")
		return
	}
	w.Header().Set("Location", s.cfg.Prefix+"/calls/"+c.id)
	writeJSON(w, http.StatusCreated, answerResponse{Type: "answer", ID: c.id, SDP: answer})
}

// start registers c and runs the handler; false once the server is closed.
func (s *Server) start(c *Call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.calls[c.id] = c
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			c.cleanup()
			s.mu.Lock()
			delete(s.calls, c.id)
			s.mu.Unlock()
		}()
		defer func() {
			if p := recover(); p != nil {
				c.log.Error("call handler panic", "panic", p)
			}
		}()
		s.cfg.Handler(s.ctx, c)
	}()
	return true
}

// handleDelete hangs up a call (the widget's hang-up, WHIP's DELETE).
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	cors(w, r)
	if !s.origins.allowed(r) {
		s.refuse(w, r, http.StatusForbidden, "calls from this website are not allowed")
		return
	}
	s.mu.Lock()
	c := s.calls[r.PathValue("id")]
	s.mu.Unlock()
	if c == nil {
		s.refuse(w, r, http.StatusNotFound, "no such call")
		return
	}
	c.end(EndRemoteHangup)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.log.Info("webrtc request refused", "path", r.URL.Path, "status", code, "origin", r.Header.Get("Origin"),
		"client", clientIP(r), "reason", msg)
	writeJSON(w, code, errorResponse{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// clientIP is the peer address of the HTTP connection. Forwarded headers
// are not trusted: behind a reverse proxy, the proxy should rate-limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// newID returns a random call ID.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
