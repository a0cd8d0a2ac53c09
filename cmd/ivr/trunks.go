package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/telephony/sip"
)

// trunkSet is the running SIP trunks of a line (config trunks:), by name.
type trunkSet struct {
	log *slog.Logger
	srv *sip.Server
	ctx context.Context

	mu     sync.RWMutex
	cfg    *config.Config
	trunks map[string]*sip.Trunk
	conf   map[string]sip.TrunkConfig // what each running trunk was started with
	names  []string

	voiceOnce sync.Once
	voice     *voice
	voiceErr  error
}

// errNoTrunk is returned for a trunk name the config does not have.
var errNoTrunk = errors.New("no such trunk")

// startTrunks starts every configured trunk on srv: those with a
// registrar register (once srv listens) and stay registered until ctx
// ends, Close, or srv shuts down. Reload applies a new config's trunks.
func startTrunks(ctx context.Context, cfg *config.Config, srv *sip.Server, log *slog.Logger) (*trunkSet, error) {
	ts := &trunkSet{log: log, srv: srv, ctx: ctx, trunks: map[string]*sip.Trunk{}, conf: map[string]sip.TrunkConfig{}}
	if err := ts.Reload(cfg); err != nil {
		ts.Close()
		return nil, err
	}
	return ts, nil
}

// trunkConfig is what the SIP layer needs of a configured trunk.
func trunkConfig(name string, t *config.Trunk) sip.TrunkConfig {
	tc := sip.TrunkConfig{
		Name: name, Domain: t.Domain, Username: t.Username, AuthUsername: t.AuthUsername, Password: t.Password,
		FromUser: t.FromUser, FromName: t.FromName, Transport: t.Transport, OutboundProxy: t.OutboundProxy, Expires: t.Expires,
	}
	tc.KeepAlive = -1 // 0s in the config: no pings
	if t.KeepAlive != nil && *t.KeepAlive > 0 {
		tc.KeepAlive = *t.KeepAlive
	}
	if t.Registers() {
		tc.Registrar = t.Registrar
	} else if tc.Domain == "" {
		tc.Domain = t.Registrar // register: false still calls there
	}
	return tc
}

// Reload makes the running trunks those of cfg (at start, and on a
// config reload): a trunk whose settings did not change keeps running
// (and its registration); a changed one unregisters and starts again with
// the new settings; a removed one unregisters; a new one starts. Calls
// already up are not touched. On an error the trunks that did start are
// kept and the error names the one that did not.
func (ts *trunkSet) Reload(cfg *config.Config) error {
	var stop []*sip.Trunk
	ts.mu.Lock()
	ts.cfg = cfg
	names := make([]string, 0, len(cfg.Trunks))
	for name := range cfg.Trunks {
		names = append(names, name)
	}
	sort.Strings(names)
	for name, tr := range ts.trunks {
		if t, ok := cfg.Trunks[name]; !ok || !reflect.DeepEqual(trunkConfig(name, t), ts.conf[name]) {
			stop = append(stop, tr)
			delete(ts.trunks, name)
			delete(ts.conf, name)
			ts.log.Info("trunk stopped", "trunk", name, "why", map[bool]string{true: "changed", false: "removed"}[ok])
		}
	}
	var errs []error
	ts.names = ts.names[:0]
	for _, name := range names {
		if _, ok := ts.trunks[name]; ok {
			ts.names = append(ts.names, name)
			continue
		}
		tc := trunkConfig(name, cfg.Trunks[name])
		tr, err := ts.srv.StartTrunk(ts.ctx, tc)
		if err != nil {
			errs = append(errs, fmt.Errorf("trunks.%s: %w", name, err))
			continue
		}
		ts.trunks[name], ts.conf[name] = tr, tc
		ts.names = append(ts.names, name)
		ts.log.Info("trunk started", "trunk", name, "registers", tc.Registrar != "", "registrar", tc.Registrar, "domain", tc.Domain)
	}
	ts.mu.Unlock()
	closeTrunks(stop)
	return errors.Join(errs...)
}

// trunk returns the running trunk of that name.
func (ts *trunkSet) trunk(name string) (*sip.Trunk, error) {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	t, ok := ts.trunks[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", errNoTrunk, name)
	}
	return t, nil
}

// Dial calls number through the named trunk and returns the call
// answered; the caller must Hangup and Close it.
func (ts *trunkSet) Dial(ctx context.Context, trunk, number string, opts sip.DialOptions) (*sip.Call, error) {
	t, err := ts.trunk(trunk)
	if err != nil {
		return nil, err
	}
	return t.Dial(ctx, number, opts)
}

// DialURI calls uri (a queue callback's own URI template, say) through
// the named trunk: its caller ID, credentials and outbound proxy.
func (ts *trunkSet) DialURI(ctx context.Context, trunk, uri string, opts sip.DialOptions) (*sip.Call, error) {
	t, err := ts.trunk(trunk)
	if err != nil {
		return nil, err
	}
	return t.DialURI(ctx, uri, opts)
}

// Status reports every trunk's registration, by name.
func (ts *trunkSet) Status() []sip.TrunkStatus {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := make([]sip.TrunkStatus, 0, len(ts.names))
	for _, name := range ts.names {
		if t, ok := ts.trunks[name]; ok {
			out = append(out, t.Status())
		}
	}
	return out
}

// Close unregisters every trunk.
func (ts *trunkSet) Close() {
	ts.mu.Lock()
	var all []*sip.Trunk
	for _, t := range ts.trunks {
		all = append(all, t)
	}
	ts.trunks, ts.conf, ts.names = map[string]*sip.Trunk{}, map[string]sip.TrunkConfig{}, nil
	ts.mu.Unlock()
	closeTrunks(all)
}

// closeTrunks unregisters trunks concurrently and waits.
func closeTrunks(ts []*sip.Trunk) {
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Go(t.Close)
	}
	wg.Wait()
}

// outboundRequest is the body of POST /api/calls/outbound.
type outboundRequest struct {
	Trunk  string `json:"trunk"`
	Number string `json:"number"`
	// Text is what the call says (default: a test-call sentence).
	Text string `json:"text"`
	// RingTimeout in seconds; default 30.
	RingTimeout float64 `json:"ring_timeout"`
}

// outboundResult is what POST /api/calls/outbound answers once the call
// is over.
type outboundResult struct {
	Trunk      string             `json:"trunk"`
	Number     string             `json:"number"`
	CallID     string             `json:"call_id,omitempty"`
	Answered   bool               `json:"answered"`
	AnsweredAt time.Time          `json:"answered_at,omitzero"`
	DurationMS int64              `json:"duration_ms,omitempty"`
	EndedBy    string             `json:"ended_by,omitempty"` // "ivr" or "remote"
	SIPStatus  int                `json:"sip_status,omitempty"`
	Error      string             `json:"error,omitempty"`
	Media      *models.MediaStats `json:"media,omitempty"`
}

// Mount adds the trunk API to mux, behind the admin bearer token (token
// returns the one in force; "" turns the API off):
//
//	GET  /api/trunks           every trunk's registration status
//	POST /api/calls/outbound   {"trunk","number"[,"text"]}: call the number
//	                           through the trunk, say a short test sentence,
//	                           hang up, and answer how it went
func (ts *trunkSet) Mount(mux *http.ServeMux, token func() string) {
	mux.Handle("GET /api/trunks", bearer(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trunkJSON(w, http.StatusOK, ts.Status())
	})))
	mux.Handle("POST /api/calls/outbound", bearer(token, http.HandlerFunc(ts.serveOutbound)))
}

func (ts *trunkSet) serveOutbound(w http.ResponseWriter, r *http.Request) {
	var req outboundRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		trunkJSON(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
		return
	}
	ts.mu.RLock()
	names, cfg := slices.Clone(ts.names), ts.cfg
	ts.mu.RUnlock()
	if req.Trunk == "" && len(names) == 1 {
		req.Trunk = names[0]
	}
	res := outboundResult{Trunk: req.Trunk, Number: req.Number}
	if _, err := ts.trunk(req.Trunk); err != nil {
		res.Error = fmt.Sprintf("no trunk %q (trunks: %s)", req.Trunk, strings.Join(names, ", "))
		trunkJSON(w, http.StatusNotFound, res)
		return
	}
	if req.Number == "" {
		res.Error = "number is required"
		trunkJSON(w, http.StatusBadRequest, res)
		return
	}
	ring := 30 * time.Second
	if req.RingTimeout > 0 && req.RingTimeout <= 300 {
		ring = time.Duration(req.RingTimeout * float64(time.Second))
	}
	text := req.Text
	if text == "" {
		text = "This is a test call from " + lineName(cfg) + " through the " + req.Trunk + " trunk. Goodbye."
	}
	ctx := r.Context()
	c, err := ts.Dial(ctx, req.Trunk, req.Number, sip.DialOptions{RingTimeout: ring})
	if err != nil {
		res.Error = err.Error()
		status := http.StatusBadGateway
		var se *sip.StatusError
		switch {
		case errors.As(err, &se):
			res.SIPStatus = se.Code
		case errors.Is(err, sip.ErrNoAnswer):
			status = http.StatusGatewayTimeout
		case errors.Is(err, sip.ErrBadNumber):
			status = http.StatusBadRequest
		}
		ts.log.Info("outbound test call failed", "trunk", req.Trunk, "number", req.Number, "err", err)
		trunkJSON(w, status, res)
		return
	}
	defer c.Close()
	res.Answered, res.CallID, res.AnsweredAt = true, c.ID(), c.AnsweredAt()
	ts.log.Info("outbound test call answered", "trunk", req.Trunk, "number", req.Number, "call_id", c.ID(), "codec", c.Codec())
	clip := ts.render(ctx, text, c.SampleRate())
	played := c.Play(audio.NewClipSource(clip))
	res.EndedBy = "ivr"
	select {
	case <-played:
		// A moment for the last packets to leave before the BYE.
		select {
		case <-time.After(300 * time.Millisecond):
		case <-c.Done():
			res.EndedBy = "remote"
		}
	case <-c.Done():
		res.EndedBy = "remote"
	case <-ctx.Done():
	}
	c.Hangup(context.Background())
	res.DurationMS = time.Since(res.AnsweredAt).Milliseconds()
	m := c.MediaStats()
	res.Media = &m
	trunkJSON(w, http.StatusOK, res)
}

// render says text at rate with the line's voice, or falls back to two
// short beeps when synthesis is not available.
func (ts *trunkSet) render(ctx context.Context, text string, rate int) audio.Clip {
	ts.voiceOnce.Do(func() {
		ts.mu.RLock()
		cfg := ts.cfg
		ts.mu.RUnlock()
		ts.voice, ts.voiceErr = newVoice(cfg, ts.log)
	})
	if ts.voiceErr == nil {
		clip, err := ts.voice.Render(ctx, text, rate)
		if err == nil && len(clip.Samples) > 0 {
			return clip
		}
		ts.log.Warn("test call: synthesis failed; beeping instead", "err", err)
	} else {
		ts.log.Warn("test call: no voice; beeping instead", "err", ts.voiceErr)
	}
	return beeps(rate)
}

// beeps is two 400 ms 440 Hz tones at -12 dBFS with a pause between.
func beeps(rate int) audio.Clip {
	on, off := rate*2/5, rate/5
	s := make([]int16, 2*on+off)
	for i := range on {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		s[i], s[on+off+i] = v, v
	}
	return audio.Clip{Rate: rate, Samples: s}
}

func lineName(cfg *config.Config) string {
	if cfg.Line.Name != "" {
		return cfg.Line.Name
	}
	return "the IVR"
}

// bearer lets a request through with "Authorization: Bearer <token>", the
// admin API's rule: without a configured token the API is off.
func bearer(token func() string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := token()
		if want == "" {
			trunkJSON(w, http.StatusForbidden, map[string]string{"error": "the admin API is off: set admin.token (e.g. ${IVR_ADMIN_TOKEN})"})
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ivr admin"`)
			trunkJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func trunkJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
