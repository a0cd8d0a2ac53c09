package dialog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/tmpl"
)

// maxResponse bounds what a backend may send back.
const maxResponse = 1 << 20

// lookup calls a backend (a CRM, an order system) with the call's
// variables and saves fields of its JSON answer into variables: 2xx goes
// to next, 4xx to on_not_found, anything else (after retries) to
// on_failure.
func (s *session) lookup(name string, n *config.Node) (string, error) {
	if len(n.Prompt) > 0 {
		if err := s.play(name, n.Prompt); err != nil {
			return "", err
		}
	}
	status, body, err := s.request(name, n)
	select {
	case <-s.call.Done():
		return "", errCallerGone
	default:
	}
	s.rec.Vars["lookup_status"] = strconv.Itoa(status)
	switch {
	case err != nil:
		s.log.Warn("lookup failed", "node", name, "err", err)
		return n.OnFailure, nil
	case status >= 200 && status < 300:
		s.saveFields(n, body)
		return n.Next, nil
	case status >= 400 && status < 500:
		return n.OnNotFound, nil
	}
	return n.OnFailure, nil
}

// request makes the lookup's HTTP request with the backend's timeout and
// retries (network errors, timeouts and 5xx are retried; 4xx are not).
func (s *session) request(name string, n *config.Node) (int, []byte, error) {
	b := s.e.cfg.Backends[n.Backend]
	u := strings.TrimRight(b.URL, "/") + n.PathTemplate().Render(s.Var, tmpl.Path)
	var body string
	if t := n.BodyTemplate(); t != nil {
		body = t.Render(s.Var, tmpl.JSON)
	}
	retries := 0
	if b.Retries != nil {
		retries = *b.Retries
	}
	var lastErr error
	for attempt := 0; attempt <= retries; attempt++ {
		start := time.Now()
		status, resp, err := s.do(n.Method, u, body, b.Headers, b.Timeout)
		took := time.Since(start).Round(time.Millisecond)
		// The event names the request, never its body (it may carry a PIN).
		what := fmt.Sprintf("%s %s", n.Method, redactURL(u, s.secrets))
		switch {
		case err != nil:
			s.event("lookup", name, fmt.Sprintf("%s: %v (%s)", what, err, took))
			lastErr = err
		case status >= 500:
			s.event("lookup", name, fmt.Sprintf("%s -> %d (%s)", what, status, took))
			lastErr = fmt.Errorf("backend answered %d", status)
		default:
			s.event("lookup", name, fmt.Sprintf("%s -> %d (%s)", what, status, took))
			return status, resp, nil
		}
		if s.ctx.Err() != nil {
			break
		}
	}
	return 0, nil, lastErr
}

// redactURL hides secret values that a path template put in a URL.
func redactURL(u string, secrets map[string]string) string {
	for _, v := range secrets {
		if v != "" {
			u = strings.ReplaceAll(u, v, "***")
		}
	}
	return u
}

func (s *session) do(method, u, body string, headers map[string]string, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-IVR-Call-ID", s.rec.CallID)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := s.e.http.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, nil, fmt.Errorf("no answer within %s", timeout)
		}
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, b, nil
}

// saveFields copies fields of a JSON answer into variables; a field the answer
// lacks clears the variable, so an old value never lingers.
func (s *session) saveFields(n *config.Node, body []byte) {
	if len(n.Save) == 0 {
		return
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		s.log.Warn("lookup answer is not JSON", "err", err)
		doc = nil
	}
	for v, path := range n.Save {
		if val, ok := JSONPath(doc, path); ok {
			s.rec.Vars[v] = val
		} else {
			delete(s.rec.Vars, v)
		}
	}
}

// JSONPath finds a dotted path ("delivery.eta", "items.0.name") in a
// decoded JSON document and returns it as text: strings as they are,
// numbers and booleans as written, objects and arrays as JSON, null as
// not found.
func JSONPath(doc any, path string) (string, bool) {
	cur := doc
	if path != "" && path != "." {
		for _, part := range strings.Split(path, ".") {
			switch v := cur.(type) {
			case map[string]any:
				next, ok := v[part]
				if !ok {
					return "", false
				}
				cur = next
			case []any:
				i, err := strconv.Atoi(part)
				if err != nil || i < 0 || i >= len(v) {
					return "", false
				}
				cur = v[i]
			default:
				return "", false
			}
		}
	}
	switch v := cur.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return boolStr(v), true
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}

// notify posts a JSON payload to a webhook and reports whether it took it
// (2xx). It never blocks a call for longer than the webhook's timeout.
func (s *session) notify(what string, w *config.Webhook, payload any) bool {
	if w == nil {
		return false
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return false
	}
	// The caller may have hung up: the message must still get out.
	ctx, cancel := context.WithTimeout(context.Background(), w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(b))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	res, err := s.e.http.Do(req)
	if err != nil {
		s.log.Warn("webhook failed", "what", what, "err", err)
		s.event("webhook", "", what+": "+err.Error())
		return false
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse))
	res.Body.Close()
	s.event("webhook", "", fmt.Sprintf("%s -> %d", what, res.StatusCode))
	return res.StatusCode >= 200 && res.StatusCode < 300
}

// callInfo is the common part of webhook payloads.
type callInfo struct {
	CallID     string            `json:"call_id"`
	From       string            `json:"from"`
	Caller     string            `json:"caller"`
	To         string            `json:"to"`
	Channel    string            `json:"channel"`
	StartedAt  time.Time         `json:"started_at"`
	Path       []string          `json:"path"`
	Intent     string            `json:"intent,omitempty"`
	Vars       map[string]string `json:"vars"`
	Transcript []line            `json:"transcript"`
}

// line is one thing said on the call.
type line struct {
	Who  string    `json:"who"` // "ivr" or "caller"
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

func (s *session) info() callInfo {
	ci := callInfo{CallID: s.rec.CallID, From: s.rec.From, Caller: s.call.FromUser(), To: s.rec.To, Channel: s.rec.Channel,
		StartedAt: s.rec.StartedAt, Path: append([]string(nil), s.rec.Path...), Intent: s.rec.Vars["last_intent"],
		Vars: s.publicVars(), Transcript: []line{}}
	for _, e := range s.rec.Events {
		switch e.Kind {
		case "prompt":
			ci.Transcript = append(ci.Transcript, line{"ivr", e.Text, e.At})
		case "speech":
			text, _, _ := strings.Cut(e.Text, " => ")
			ci.Transcript = append(ci.Transcript, line{"caller", text, e.At})
		}
	}
	return ci
}

// screenPop tells the agents' desktop about a transfer before it rings.
func (s *session) screenPop(node, target, uri string) {
	w := s.e.cfg.ScreenPop
	if w == nil {
		return
	}
	s.notify("screen_pop", w, struct {
		Event  string `json:"event"`
		Node   string `json:"node"`
		Target string `json:"target"`
		URI    string `json:"uri"`
		callInfo
	}{"transfer", node, target, uri, s.info()})
}
