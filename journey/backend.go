package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Request is a request the stand-in backend received.
type Request struct {
	Backend string // backend name, or "webhook"
	Method  string
	Path    string
	Body    string
	Status  int
}

// String is "METHOD backend /path" (webhooks: "webhook name").
func (r Request) String() string {
	if r.Backend == "webhook" {
		return "webhook " + strings.TrimPrefix(r.Path, "/")
	}
	return fmt.Sprintf("%s %s %s", r.Method, r.Backend, r.Path)
}

// stub is the in-process HTTP server that stands in for a line's backends
// and webhooks during a journey (test only): /b/<backend>/<path> answers
// from the journey's canned responses, /w/<name> records a webhook.
type stub struct {
	canned map[string][]Canned
	srv    *http.Server
	addr   string

	mu  sync.Mutex
	log []Request
}

func newStub(canned map[string][]Canned) (*stub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &stub{canned: canned, addr: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// BackendURL is the base URL the named backend is replaced with.
func (s *stub) BackendURL(name string) string { return s.addr + "/b/" + name }

// WebhookURL is where the named webhook is sent instead.
func (s *stub) WebhookURL(name string) string { return s.addr + "/w/" + name }

func (s *stub) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
}

func (s *stub) requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rest := strings.TrimPrefix(r.URL.Path, "/")
	kind, rest, _ := strings.Cut(rest, "/")
	name, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	req := Request{Method: r.Method, Path: path, Body: string(body)}
	if kind == "w" {
		req.Backend, req.Path, req.Status = "webhook", "/"+name, http.StatusOK
		s.record(req)
		w.WriteHeader(http.StatusOK)
		return
	}
	req.Backend = name
	for _, c := range s.canned[name] {
		if c.Method != "" && !strings.EqualFold(c.Method, r.Method) || c.Path != path ||
			c.BodyContains != "" && !strings.Contains(string(body), c.BodyContains) {
			continue
		}
		if c.Delay > 0 {
			select {
			case <-time.After(c.Delay):
			case <-r.Context().Done():
				req.Status = 0
				s.record(req)
				return
			}
		}
		req.Status = c.Status
		if req.Status == 0 {
			req.Status = http.StatusOK
		}
		s.record(req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(req.Status)
		if c.JSON != nil {
			json.NewEncoder(w).Encode(jsonable(c.JSON))
		}
		return
	}
	req.Status = http.StatusNotFound
	s.record(req)
	http.Error(w, `{"error": "no canned answer in the journey"}`, http.StatusNotFound)
}

func (s *stub) record(r Request) {
	s.mu.Lock()
	s.log = append(s.log, r)
	s.mu.Unlock()
}

// jsonable turns YAML-decoded maps (map[string]any with any keys) into
// what encoding/json takes.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonable(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[fmt.Sprint(k)] = jsonable(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonable(x)
		}
		return out
	}
	return v
}
