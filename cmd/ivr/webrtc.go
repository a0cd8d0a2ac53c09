package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/telephony/webrtc"
	"github.com/openivr/ivr/web"
)

// webrtcOptions are the browser-call settings of `ivr serve`.
type webrtcOptions struct {
	// Title names the line on the demo page; Flow is what its widget calls.
	Title, Flow string
	// ICEServers (STUN/TURN) for both peers; TURNSecret makes time-limited
	// TURN credentials (coturn use-auth-secret).
	ICEServers []webrtc.ICEServer
	TURNSecret string
	// PublicIPs are our addresses behind a 1:1 NAT.
	PublicIPs []string
	// UDPPortMin/Max bound ICE's ports (0/0: any).
	UDPPortMin, UDPPortMax uint16
	// AllowedOrigins may embed the widget; the server's own origin always may.
	AllowedOrigins []string
	// CallsPerMinute and CallBurst limit call starts per client address;
	// MaxCalls limits concurrent browser calls (0: defaults).
	CallsPerMinute float64
	CallBurst      int
	MaxCalls       int
	// IncludeLoopback offers loopback ICE candidates: set when the HTTP
	// server listens on a loopback address, where the only browsers are on
	// this machine (and may have no other interface in common with us).
	IncludeLoopback bool
}

// webrtcOptionsFrom takes the WebRTC settings from a line's config.
func webrtcOptionsFrom(cfg *config.Config) webrtcOptions {
	w := cfg.WebRTC
	o := webrtcOptions{Title: cfg.Line.Name, Flow: cfg.Flow.Start, TURNSecret: w.TURNSecret, PublicIPs: w.PublicIPs,
		UDPPortMin: uint16(w.PortMin), UDPPortMax: uint16(w.PortMax), AllowedOrigins: w.AllowedOrigins,
		CallsPerMinute: w.CallsPerMinute, CallBurst: w.CallBurst, MaxCalls: w.MaxCalls,
		IncludeLoopback: loopbackAddr(cfg.HTTP.Addr)}
	for _, s := range w.ICEServers {
		o.ICEServers = append(o.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return o
}

// loopbackAddr reports whether a listen address (host:port) is on a
// loopback interface only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// webrtcService is the browser side of `ivr serve`: signalling under
// /webrtc/, the demo page at / and the widget's files.
type webrtcService struct {
	srv *webrtc.Server
	web http.Handler
}

// newWebRTC builds the WebRTC endpoint; run serves one call (the dialog
// engine's Run) and its return ends the call.
func newWebRTC(o webrtcOptions, run func(ctx context.Context, c dialog.Call), log *slog.Logger) (*webrtcService, error) {
	srv, err := webrtc.NewServer(webrtc.Config{
		Handler:         func(ctx context.Context, c *webrtc.Call) { run(ctx, c) },
		ICEServers:      o.ICEServers,
		TURNSecret:      o.TURNSecret,
		PublicIPs:       o.PublicIPs,
		UDPPortMin:      o.UDPPortMin,
		UDPPortMax:      o.UDPPortMax,
		AllowedOrigins:  o.AllowedOrigins,
		CallsPerMinute:  o.CallsPerMinute,
		CallBurst:       o.CallBurst,
		MaxCalls:        o.MaxCalls,
		IncludeLoopback: o.IncludeLoopback,
		Logger:          log,
	})
	if err != nil {
		return nil, err
	}
	h, err := web.Handler(web.Options{Title: o.Title, Flow: o.Flow})
	if err != nil {
		srv.Close(context.Background())
		return nil, err
	}
	return &webrtcService{srv: srv, web: h}, nil
}

// Mount adds the signalling, the demo page and the widget to mux.
func (w *webrtcService) Mount(mux *http.ServeMux) {
	mux.Handle("/webrtc/", w.srv)
	mux.Handle("GET /{$}", w.web)
	mux.Handle("GET /widget.js", w.web)
	mux.Handle("GET /widget.css", w.web)
}

// ActiveCalls counts browser calls in progress.
func (w *webrtcService) ActiveCalls() int { return w.srv.ActiveCalls() }

// Close ends browser calls and waits for their dialogs (or ctx).
func (w *webrtcService) Close(ctx context.Context) error { return w.srv.Close(ctx) }

// A browser call is a dialog call that can show captions.
var (
	_ dialog.Call      = (*webrtc.Call)(nil)
	_ dialog.Captioner = (*webrtc.Call)(nil)
)
