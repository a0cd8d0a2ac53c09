package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openivr/ivr/nlu"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testIntents = []nlu.Intent{
	{Name: "check_balance", Description: "The caller wants an account balance.", Examples: []string{"check my balance", "how much money do I have"}, Entities: []string{"account_number"}},
	{Name: "report_lost_card", Examples: []string{"I lost my card", "my card was stolen"}},
	{Name: "talk_to_agent", Examples: []string{"let me speak to a person", "agent please"}},
}

// fakeServer speaks the chat completions API: it records the last request
// and answers with the tool arguments that reply returns, after delay.
type fakeServer struct {
	*httptest.Server
	last    atomic.Value // map[string]any
	calls   atomic.Int32
	delay   time.Duration
	status  int
	reply   func(userText string) string // tool call arguments
	content bool                         // answer in message content instead of a tool call
}

func newFakeServer(t *testing.T, f *fakeServer) *fakeServer {
	t.Helper()
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.last.Store(req)
		if f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.status != 0 {
			http.Error(w, `{"error":{"message":"boom","type":"server_error"}}`, f.status)
			return
		}
		msgs := req["messages"].([]any)
		user := msgs[len(msgs)-1].(map[string]any)["content"].(string)
		args := f.reply(user)
		msg := map[string]any{"role": "assistant", "content": nil,
			"tool_calls": []any{map[string]any{"id": "call_1", "type": "function",
				"function": map[string]any{"name": toolName, "arguments": args}}}}
		if f.content {
			msg = map[string]any{"role": "assistant", "content": args}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "model": req["model"],
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": "tool_calls"}},
		})
	}))
	t.Cleanup(f.Close)
	return f
}

// localClassifier counts the calls to a trained classifier.
type localClassifier struct {
	c *nlu.Classifier
	n atomic.Int32
}

func (l *localClassifier) Classify(text string) nlu.Result {
	l.n.Add(1)
	return l.c.Classify(text)
}

func newLocal(t *testing.T) *localClassifier {
	c, err := nlu.Train(testIntents, nlu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &localClassifier{c: c}
}

func TestUnderstandUsesModel(t *testing.T) {
	srv := newFakeServer(t, &fakeServer{reply: func(string) string {
		return `{"intent":"check_balance","confidence":0.92,"alternatives":["report_lost_card"],"entities":{"account_number":"4271","bogus":"x"}}`
	}})
	local := newLocal(t)
	e, err := New(Config{BaseURL: srv.URL + "/v1", Model: "test-model", APIKey: "k", Timeout: time.Second}, testIntents, local)
	if err != nil {
		t.Fatal(err)
	}
	u := e.Understand(context.Background(), "what's the balance on four two seven one")
	if u.Err != nil || u.Source != SourceLLM {
		t.Fatalf("source %s err %v, want the model's answer", u.Source, u.Err)
	}
	if u.Intent != "check_balance" || u.OutOfScope || u.Confidence != 0.92 {
		t.Errorf("result %+v", u.Result)
	}
	if len(u.Alternatives) != 2 || u.Alternatives[1].Intent != "report_lost_card" {
		t.Errorf("alternatives %+v", u.Alternatives)
	}
	if len(u.Entities) != 1 || u.Entities["account_number"] != "4271" {
		t.Errorf("entities %v, want only account_number=4271", u.Entities)
	}
	if local.n.Load() != 0 {
		t.Error("local classifier consulted although the model answered")
	}
	// The request forces the tool, whose schema enumerates the intents.
	req := srv.last.Load().(map[string]any)
	if req["model"] != "test-model" {
		t.Errorf("model %v", req["model"])
	}
	choice, _ := json.Marshal(req["tool_choice"])
	if !strings.Contains(string(choice), toolName) {
		t.Errorf("tool_choice %s does not force %s", choice, toolName)
	}
	tools, _ := json.Marshal(req["tools"])
	for _, want := range []string{`"enum":["check_balance","report_lost_card","talk_to_agent","out_of_scope"]`, `"account_number"`} {
		if !strings.Contains(string(tools), want) {
			t.Errorf("tools %s lack %s", tools, want)
		}
	}
	sys := req["messages"].([]any)[0].(map[string]any)["content"].(string)
	if !strings.Contains(sys, "The caller wants an account balance.") || !strings.Contains(sys, `"my card was stolen"`) {
		t.Errorf("system prompt lacks descriptions or examples:\n%s", sys)
	}
}

func TestUnderstandOutOfScopeAndContentAnswer(t *testing.T) {
	srv := newFakeServer(t, &fakeServer{content: true, reply: func(string) string {
		return `{"intent":"out_of_scope","confidence":0.8}`
	}})
	e, err := New(Config{BaseURL: srv.URL + "/v1", Model: "m"}, testIntents, newLocal(t))
	if err != nil {
		t.Fatal(err)
	}
	u := e.Understand(context.Background(), "what's the weather on mars")
	if u.Source != SourceLLM || !u.OutOfScope || u.Intent != "" {
		t.Errorf("got %+v", u)
	}
}

func TestUnderstandFallsBack(t *testing.T) {
	tests := []struct {
		name    string
		srv     *fakeServer
		timeout time.Duration
		wantErr error
	}{
		{name: "timeout", srv: &fakeServer{delay: 2 * time.Second, reply: func(string) string { return `{"intent":"check_balance","confidence":1}` }}, timeout: 150 * time.Millisecond},
		{name: "server error", srv: &fakeServer{status: http.StatusInternalServerError}, timeout: time.Second},
		{name: "unknown intent", srv: &fakeServer{reply: func(string) string { return `{"intent":"order_pizza","confidence":0.9}` }}, timeout: time.Second, wantErr: ErrInvalidAnswer},
		{name: "not json", srv: &fakeServer{reply: func(string) string { return `I think it is check_balance` }}, timeout: time.Second, wantErr: ErrInvalidAnswer},
		{name: "bad confidence", srv: &fakeServer{reply: func(string) string { return `{"intent":"check_balance","confidence":7}` }}, timeout: time.Second, wantErr: ErrInvalidAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, tt.srv)
			local := newLocal(t)
			e, err := New(Config{BaseURL: srv.URL + "/v1", Model: "m", Timeout: tt.timeout}, testIntents, local)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			u := e.Understand(context.Background(), "I lost my card")
			took := time.Since(start)
			if u.Source != SourceLocal || u.Err == nil {
				t.Fatalf("source %s err %v, want the local fallback with an error", u.Source, u.Err)
			}
			if tt.wantErr != nil && !errors.Is(u.Err, tt.wantErr) {
				t.Errorf("err %v, want %v", u.Err, tt.wantErr)
			}
			if u.Intent != "report_lost_card" {
				t.Errorf("fallback intent %q, want report_lost_card", u.Intent)
			}
			if local.n.Load() != 1 {
				t.Errorf("local classifier called %d times", local.n.Load())
			}
			if took > tt.timeout+time.Second {
				t.Errorf("took %v with a %v timeout", took, tt.timeout)
			}
			if srv.calls.Load() == 0 {
				t.Error("the server was never asked")
			}
		})
	}
}

func TestUnderstandServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	e, err := New(Config{BaseURL: url, Model: "m", Timeout: time.Second}, testIntents, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := e.Understand(context.Background(), "agent please")
	if u.Source != SourceLocal || !u.OutOfScope || !errors.Is(u.Err, ErrNoFallback) {
		t.Errorf("got %+v", u)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{{Model: "m"}, {BaseURL: "http://x"}} {
		if _, err := New(c, testIntents, nil); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if _, err := New(Config{BaseURL: "http://x", Model: "m"}, nil, nil); err == nil {
		t.Error("New without intents accepted")
	}
	if _, err := New(Config{BaseURL: "http://x", Model: "m"}, []nlu.Intent{{Name: OutOfScope, Examples: []string{"x"}}}, nil); err == nil {
		t.Error("reserved intent name accepted")
	}
}
