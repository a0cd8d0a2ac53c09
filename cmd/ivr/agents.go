package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openivr/ivr/acd"
	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/telephony/sip"
)

// browserDesk is the agent web page's side of ringing (package agentdesk).
type browserDesk interface {
	Online(agent string) bool
	Ring(ctx context.Context, agent string, o acd.Offer) (bridge.Leg, error)
}

// agentRinger rings agents where they are: the agent page when it is set
// to answer in the browser, else the SIP phone registered to the IVR,
// else the agent's static SIP URI.
type agentRinger struct {
	cfg  atomic.Pointer[config.Config]
	srv  *sip.Server
	reg  *sip.Registrar
	desk atomic.Value // browserDesk
	log  *slog.Logger
}

func (r *agentRinger) browser(agent string) browserDesk {
	if d, ok := r.desk.Load().(browserDesk); ok && d != nil && d.Online(agent) {
		return d
	}
	return nil
}

// Reachable reports whether some device of the agent can ring.
func (r *agentRinger) Reachable(agent string) bool {
	_, ok := r.target(agent)
	return ok || r.browser(agent) != nil
}

// target is the SIP URI that rings the agent's phone.
func (r *agentRinger) target(agent string) (string, bool) {
	a := r.cfg.Load().Agents[agent]
	if a == nil {
		return "", false
	}
	if a.SIPUser != "" && r.reg != nil {
		if bs := r.reg.Lookup(a.SIPUser); len(bs) > 0 {
			return bs[0].Contact, true
		}
	}
	if a.URI != "" {
		return a.URI, true
	}
	return "", false
}

// Ring offers the call to the agent and returns their answered leg.
func (r *agentRinger) Ring(ctx context.Context, agent string, o acd.Offer) (bridge.Leg, error) {
	if d := r.browser(agent); d != nil {
		return d.Ring(ctx, agent, o)
	}
	uri, ok := r.target(agent)
	if !ok {
		return nil, fmt.Errorf("agent %s: no device to ring", agent)
	}
	ring := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		ring = time.Until(dl)
	}
	caller := o.Pop.Caller
	if caller == "" {
		caller = "ivr"
	}
	h := map[string]string{"X-IVR-Call-ID": o.Pop.CallID, "X-IVR-Queue": o.Queue, "X-IVR-Caller": caller}
	if o.Pop.Intent != "" {
		h["X-IVR-Intent"] = o.Pop.Intent
	}
	if len(o.Pop.Path) > 0 {
		h["X-IVR-Path"] = strings.Join(o.Pop.Path, ",")
	}
	if o.Pop.VIP {
		h["X-IVR-VIP"] = "true"
	}
	if o.Pop.Callback {
		h["X-IVR-Callback"] = "true"
	}
	c, err := r.srv.Dial(ctx, uri, sip.DialOptions{FromUser: userPart(caller), DisplayName: caller, Headers: h, RingTimeout: ring})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// userPart keeps what a SIP user part may hold.
func userPart(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("+-_.!~*'()", r) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "ivr"
	}
	return b.String()
}

// agentUsers are the phones that may register: SIP user -> password.
func agentUsers(cfg *config.Config) map[string]string {
	m := map[string]string{}
	for _, a := range cfg.Agents {
		if a != nil && a.SIPUser != "" {
			m[a.SIPUser] = a.Password
		}
	}
	return m
}

// queueService adapts the call distributor to the dialog.
type queueService struct{ c *acd.Center }

func (q queueService) Join(ctx context.Context, queue string, pop models.ScreenPop, priority int) (dialog.QueueTicket, error) {
	t, err := q.c.Join(ctx, queue, pop, priority)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// callbackDialer places queue callbacks: it calls the caller back
// (through the queue's trunk when it has one) and runs the callback on
// the current flow.
type callbackDialer struct {
	cfg    func() *config.Config
	srv    *sip.Server
	engine func() *dialog.Engine
	// dialTrunk places a call through a named trunk (nil: no trunks).
	dialTrunk func(ctx context.Context, trunk, number string, o sip.DialOptions) (*sip.Call, error)
	// dialTrunkURI calls a URI with a trunk's credentials.
	dialTrunkURI func(ctx context.Context, trunk, uri string, o sip.DialOptions) (*sip.Call, error)
	log          *slog.Logger
	// ready closes once the SIP server and trunks are wired in.
	ready chan struct{}
}

// errNoRoute means the config gives no way to reach the caller.
var errNoRoute = errors.New("callback: no uri or trunk to call the caller back")

func (d *callbackDialer) place(ctx context.Context, cb models.QueueCallback, t *acd.Ticket) {
	select {
	case <-d.ready:
	case <-ctx.Done():
		return
	}
	cfg := d.cfg()
	qc := cfg.Queues[cb.Queue]
	if qc == nil || qc.Callback == nil {
		t.Leave(models.QueueFailed)
		return
	}
	name := cfg.Line.Name
	if name == "" {
		name = "IVR"
	}
	o := sip.DialOptions{FromUser: "ivr", DisplayName: name, RingTimeout: qc.Callback.RingTimeout,
		Headers: map[string]string{"X-IVR-Callback": cb.ID}}
	var c *sip.Call
	var err error
	switch {
	case qc.Callback.Trunk != "" && qc.Callback.URI == "" && d.dialTrunk != nil:
		o.FromUser = "" // the trunk's caller ID: providers refuse others
		c, err = d.dialTrunk(ctx, qc.Callback.Trunk, cb.Number, o)
	default:
		uri := callbackURI(qc.Callback.URI, cb)
		switch {
		case uri == "":
			err = errNoRoute
		case qc.Callback.Trunk != "" && d.dialTrunkURI != nil:
			o.FromUser = ""
			c, err = d.dialTrunkURI(ctx, qc.Callback.Trunk, uri, o)
		default:
			c, err = d.srv.Dial(ctx, uri, o)
		}
	}
	if err != nil {
		d.log.Info("callback not answered", "queue", cb.Queue, "number", cb.Number, "attempt", cb.Attempts, "err", err)
		t.Leave(models.QueueNoAnswer)
		return
	}
	defer c.Close()
	d.log.Info("callback answered", "queue", cb.Queue, "number", cb.Number, "call_id", c.ID())
	d.engine().RunCallback(ctx, c, t, cb)
}

// callbackURI is where to call the caller back: the configured template,
// else the caller's own From URI with the number as its user.
func callbackURI(tmpl string, cb models.QueueCallback) string {
	if tmpl != "" {
		return strings.ReplaceAll(tmpl, "{{number}}", userPart(cb.Number))
	}
	if cb.Pop == nil || !strings.HasPrefix(cb.Pop.From, "sip:") {
		return ""
	}
	rest := strings.TrimPrefix(cb.Pop.From, "sip:")
	if _, host, ok := strings.Cut(rest, "@"); ok {
		rest = host
	}
	if i := strings.IndexAny(rest, ";>"); i >= 0 {
		rest = rest[:i]
	}
	return "sip:" + userPart(cb.Number) + "@" + rest
}
