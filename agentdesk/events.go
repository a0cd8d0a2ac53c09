package agentdesk

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/openivr/ivr/acd"
)

// Status is what the page is told about its agent: the distributor's
// view (state, since, the ringing or connected call's screen pop and
// ticket) plus the desk's.
type Status struct {
	acd.AgentStatus
	// Device is where calls ring: "browser" or "phone".
	Device string `json:"device"`
	// Online is true while a page of the agent can answer in the browser.
	Online bool `json:"online"`
	// Now is the server's clock, so the page's timers agree with Since.
	Now time.Time `json:"now"`
}

func (d *Desk) status(agent string) (Status, bool) {
	st, ok := d.center.Agent(agent)
	if !ok {
		return Status{}, false
	}
	return d.withDesk(st), true
}

func (d *Desk) withDesk(st acd.AgentStatus) Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	dev := DeviceBrowser
	if p := d.agents[st.Name]; p != nil {
		dev = p.device
	}
	return Status{AgentStatus: st, Device: dev, Online: d.onlineLocked(st.Name), Now: d.now().UTC()}
}

func (d *Desk) handleMe(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	st, ok := d.status(s.agent)
	if !ok {
		writeError(w, http.StatusNotFound, "no such agent")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleState sets the agent available or away and where calls ring.
func (d *Desk) handleState(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	var req struct {
		State  string `json:"state"`
		Device string `json:"device"`
	}
	if err := decodeBody(w, r, maxSmallBody, &req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	switch req.Device {
	case "", DeviceBrowser, DevicePhone:
	default:
		writeError(w, http.StatusBadRequest, `device: want "browser" or "phone"`)
		return
	}
	switch acd.State(req.State) {
	case "":
	case acd.Available, acd.Away:
		if err := d.center.SetState(s.agent, acd.State(req.State)); err != nil {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		d.log.Info("agent state set", "agent", s.agent, "state", req.State)
	default:
		writeError(w, http.StatusBadRequest, `state: want "available" or "away"`)
		return
	}
	if req.Device != "" {
		d.setDevice(s.agent, req.Device)
	}
	st, ok := d.status(s.agent)
	if !ok {
		writeError(w, http.StatusNotFound, "no such agent")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// setDevice chooses where the agent's calls ring; the agent's streams
// are told, and a ring in the page ends when calls go to the phone.
func (d *Desk) setDevice(agent, device string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.presenceLocked(agent)
	if p.device == device {
		return
	}
	p.device = device
	d.log.Info("agent device set", "agent", agent, "device", device)
	d.kickLocked(agent)
	if !d.onlineLocked(agent) {
		d.dropRingsLocked(agent)
	}
}

// stream is one open event stream.
type stream struct {
	kick chan struct{} // the desk's part of the status changed
}

// kickLocked tells the agent's streams to send their status again.
func (d *Desk) kickLocked(agent string) {
	if p := d.agents[agent]; p != nil {
		for st := range p.streams {
			select {
			case st.kick <- struct{}{}:
			default:
			}
		}
	}
}

// handleEvents streams the agent's status (Server-Sent Events): an
// "status" event at once and on every change, a heartbeat comment every
// Desk.heartbeat, a "signed_out" event when the session ends. While it is
// open (and the device is the browser) the agent is Online.
func (d *Desk) handleEvents(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	rc := http.NewResponseController(w)
	ch, stop, err := d.center.Watch(s.agent)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such agent")
		return
	}
	defer stop()
	st := &stream{kick: make(chan struct{}, 1)}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "the service is shutting down")
		return
	}
	p := d.presenceLocked(s.agent)
	if dev := r.URL.Query().Get("device"); dev == DeviceBrowser || dev == DevicePhone {
		p.device = dev
	}
	p.streams[st] = true
	d.kickLocked(s.agent)
	d.mu.Unlock()
	d.log.Info("agent page connected", "agent", s.agent, "client", clientIP(r))
	defer func() {
		d.mu.Lock()
		delete(p.streams, st)
		d.kickLocked(s.agent)
		if !d.onlineLocked(s.agent) {
			d.dropRingsLocked(s.agent)
		}
		d.mu.Unlock()
		d.log.Info("agent page disconnected", "agent", s.agent)
	}()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	var last acd.AgentStatus
	have := false
	send := func() bool {
		b, err := json.Marshal(d.withDesk(last))
		if err != nil {
			return false
		}
		return write(append(append([]byte("event: status\ndata: "), b...), '\n', '\n'))
	}
	hb := time.NewTicker(d.heartbeat)
	defer hb.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.done:
			write([]byte("event: closing\ndata: {}\n\n"))
			return
		case <-s.done:
			write([]byte("event: signed_out\ndata: {}\n\n"))
			return
		case a, ok := <-ch:
			if !ok {
				return
			}
			last, have = a, true
			if !send() {
				return
			}
		case <-st.kick:
			if have && !send() {
				return
			}
		case <-hb.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}
