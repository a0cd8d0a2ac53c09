package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openivr/ivr/acd"
	"github.com/openivr/ivr/admin"
	"github.com/openivr/ivr/agentdesk"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/prompt"
	"github.com/openivr/ivr/store"
	"github.com/openivr/ivr/telephony/sip"
)

func init() {
	register("serve", "answer calls on a line (the demo line without --config)", runServe)
}

// serveFlags are the overrides `ivr serve` takes on top of the config file.
type serveFlags struct {
	config, sipAddr, httpAddr, dataDir, logLevel string
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	fs.StringVar(&f.config, "config", "", "config file (default: the embedded demo line)")
	fs.StringVar(&f.sipAddr, "sip-addr", "", "SIP listen address host:port for UDP and TCP (overrides sip.listen)")
	fs.StringVar(&f.httpAddr, "http-addr", "", "HTTP listen address host:port (overrides http.addr)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory for call records (overrides data_dir)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		fmt.Fprintf(stderr, "ivr serve: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, f, log); err != nil {
		fmt.Fprintf(stderr, "ivr serve: %v\n", err)
		return 1
	}
	return 0
}

// loadConfig reads the config (or the demo) and applies flag overrides.
func loadConfig(f serveFlags) (*config.Config, error) {
	var cfg *config.Config
	var err error
	if f.config == "" {
		cfg, err = config.Demo()
	} else {
		cfg, err = config.Load(f.config)
	}
	if err != nil {
		return nil, err
	}
	if f.sipAddr != "" {
		if _, _, err := net.SplitHostPort(f.sipAddr); err != nil {
			return nil, fmt.Errorf("--sip-addr %q: %v", f.sipAddr, err)
		}
		cfg.SIP.Listen = []string{"udp:" + f.sipAddr, "tcp:" + f.sipAddr}
	}
	if f.httpAddr != "" {
		cfg.HTTP.Addr = f.httpAddr
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// serve runs the SIP and HTTP servers until ctx ends.
func serve(ctx context.Context, cfg *config.Config, f serveFlags, log *slog.Logger) error {
	for _, line := range speechStatus() {
		log.Info(line)
	}
	st, err := store.Open(cfg.Resolve(cfg.DataDir))
	if err != nil {
		return err
	}
	defer st.Close()

	var engine atomic.Pointer[dialog.Engine]
	var srv *sip.Server
	transfers := &sipTransfers{log: log}
	// Agents' phones register here; queues ring them, the agent page or
	// their static URIs.
	registrar := &sip.Registrar{Users: agentUsers(cfg)}
	ringer := &agentRinger{reg: registrar, log: log}
	ringer.cfg.Store(cfg)
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	callbacks := &callbackDialer{cfg: current.Load, engine: engine.Load, log: log, ready: make(chan struct{})}
	center, err := acd.New(acd.Options{Config: cfg, Ringer: ringer, Store: st, Callback: callbacks.place, Logger: log})
	if err != nil {
		return err
	}
	defer center.Close()
	// Announcements switched on through the admin API outlive reloads and restarts.
	announcements, err := admin.Open(filepath.Join(cfg.Resolve(cfg.DataDir), "announcements.json"))
	if err != nil {
		return err
	}
	announcements.SetConfig(cfg)
	build := func(c *config.Config) (*dialog.Engine, error) {
		v, err := newVoice(c, log)
		if err != nil {
			return nil, err
		}
		ps, err := prompt.Load(ctx, c, v, audio.Rate8k, audio.Rate16k)
		if err != nil {
			return nil, err
		}
		listen, err := ears(c, log)
		if err != nil {
			return nil, err
		}
		e, err := dialog.NewEngine(c, dialog.Options{Prompts: ps, Transfers: transfers, Records: st, Ears: listen, Logger: log,
			Announcer: announcements, DataDir: c.Resolve(c.DataDir), Queues: queueService{center}})
		if err == nil {
			dialog.PreloadMusic(c)
			log.Info("flow ready", "speech", e.Speech(), "prompts", len(c.Prompts.Items))
		}
		return e, err
	}
	e, err := build(cfg)
	if err != nil {
		return err
	}
	engine.Store(e)

	var listeners []sip.Listener
	for _, l := range cfg.Listeners() {
		listeners = append(listeners, sip.Listener{Network: l.Network, Addr: l.Addr})
	}
	scfg := sip.Config{
		Listeners: listeners, TLSCert: cfg.Resolve(cfg.SIP.TLSCert), TLSKey: cfg.Resolve(cfg.SIP.TLSKey),
		RTPPortMin: cfg.RTP.PortMin, RTPPortMax: cfg.RTP.PortMax, Codecs: cfg.SIP.Codecs,
		MediaTimeout: *cfg.RTP.MediaTimeout, RingTime: cfg.SIP.RingTime, MaxCalls: cfg.SIP.MaxCalls,
		UserAgent: "openivr/" + version, Logger: log, Registrar: registrar,
	}
	if cfg.SIP.PublicIP != "" {
		scfg.PublicIP = net.ParseIP(cfg.SIP.PublicIP)
	}
	srv, err = sip.NewServer(scfg, sip.HandlerFunc(func(ctx context.Context, c *sip.Call) {
		eng := engine.Load() // a call keeps the flow it started with
		if d := eng.Config().SIP.RingTime; d > 0 {
			c.Ringing()
			select {
			case <-time.After(d):
			case <-c.Done():
			case <-ctx.Done():
			}
		}
		eng.Run(ctx, c)
	}))
	if err != nil {
		return err
	}
	transfers.srv = srv
	trunks, err := startTrunks(ctx, cfg, srv, log)
	if err != nil {
		return err
	}
	defer trunks.Close()
	ringer.srv, callbacks.srv, callbacks.dialTrunk, callbacks.dialTrunkURI = srv, srv, trunks.Dial, trunks.DialURI
	close(callbacks.ready) // restored callbacks may be placed from now on

	// SIGHUP reloads the config; a bad file is refused and the old flow
	// keeps serving. Trunks follow the new config (changed ones register
	// again); listener and port changes need a restart.
	if f.config != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
				}
				nc, err := loadConfig(f)
				if err == nil {
					var ne *dialog.Engine
					if ne, err = build(nc); err == nil {
						engine.Store(ne)
						announcements.SetConfig(nc)
						current.Store(nc)
						ringer.cfg.Store(nc)
						registrar.SetUsers(agentUsers(nc))
						center.Reload(nc)
						if err := trunks.Reload(nc); err != nil {
							log.Error("config reloaded, but a trunk did not start", "err", err)
						}
						log.Info("config reloaded", "file", f.config)
						continue
					}
				}
				log.Error("config reload refused; the running config stays", "err", err)
			}
		}()
	}

	wrtc, err := newWebRTC(webrtcOptionsFrom(cfg), func(ctx context.Context, c dialog.Call) {
		engine.Load().Run(ctx, c) // a call keeps the flow it started with
	}, log)
	if err != nil {
		return err
	}

	token := func() string { return engine.Load().Config().Admin.Token }
	// The agent page: agents sign in, see the screen pop and answer in
	// the browser.
	desk := agentdesk.New(center, wrtc.srv, log, agentdesk.WithAdminToken(token))
	ringer.desk.Store(browserDesk(desk))
	defer desk.Close()
	adminAPI := admin.Handler(announcements, token)
	mux := httpHandler(st, srv, wrtc, adminAPI, trunks, token)
	desk.Mount(mux)
	hs := &http.Server{Addr: cfg.HTTP.Addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	hs.RegisterOnShutdown(desk.Close)
	hl, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	go hs.Serve(hl)
	log.Info("http listening", "addr", hl.Addr().String())
	log.Info("serving line", "name", cfg.Line.Name, "config", cfg.Path, "data_dir", cfg.Resolve(cfg.DataDir))

	err = srv.ListenAndServe(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	wrtc.Close(sctx)
	return err
}

func httpHandler(st *store.Store, srv *sip.Server, wrtc *webrtcService, adminAPI http.Handler, trunks *trunkSet, token func() string) *http.ServeMux {
	mux := http.NewServeMux()
	trunks.Mount(mux, token)
	wrtc.Mount(mux)
	mux.Handle("/api/admin/", adminAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "active_calls": srv.ActiveCalls() + wrtc.ActiveCalls()})
	})
	mux.HandleFunc("GET /api/calls", func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("last"))
		recs, err := st.List(r.Context(), store.Query{Limit: limit})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(recs)
	})
	return mux
}

var version = "dev"
