package dialog

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/speech"
)

const nodesFlow = `
intents:
  - {name: balance, examples: [what is my balance, how much money do I have]}
backends:
  crm: {url: "BACKEND", timeout: 300ms, retries: 1}
screen_pop: {url: "BACKEND/pop"}
prompts:
  items:
    ask: {text: "Your account number?"}
    pin: {text: "Your PIN?"}
    bal: {text: "Your balance is {amount:{{balance}} GBP}."}
    vm: {text: "Leave a message."}
    down: {text: "Sorry."}
    hold: {text: "Hold on."}
targets:
  agent: {uri: "sip:agent@example.com"}
flow:
  start: acct
  escape: {key: "*", node: human}
  identity:
    account: {prompt: ask, min_length: 4, max_length: 4}
    pin: {prompt: pin, min_length: 4, max_length: 4}
    check: {backend: crm, method: POST, path: /verify, body: '{"account": "{{account}}", "pin": "{{pin}}"}', save: {verified: ok}}
    attempts: 1
  nodes:
    acct: {type: lookup, requires_identity: true, backend: crm, path: "/balance/{{account}}", save: {balance: data.amount}, next: say, on_failure: down}
    say: {type: say, prompt: bal, next: vm}
    vm: {type: voicemail, prompt: vm, max_duration: 2s, notify: {url: "BACKEND/vm"}}
    down: {type: say, prompt: down, next: human}
    human: {type: transfer, prompt: hold, target: agent}
`

// backend is an in-test HTTP server for lookups and webhooks.
type backend struct {
	mu   sync.Mutex
	reqs []string
	body map[string]string
	fail int // answer 503 this many times first
	slow time.Duration
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.reqs = append(b.reqs, r.Method+" "+r.URL.Path)
	if b.body == nil {
		b.body = map[string]string{}
	}
	b.body[r.URL.Path] = string(body)
	fail := b.fail > 0
	if fail {
		b.fail--
	}
	b.mu.Unlock()
	if b.slow > 0 {
		time.Sleep(b.slow)
	}
	switch {
	case fail:
		w.WriteHeader(503)
	case r.URL.Path == "/verify":
		json.NewEncoder(w).Encode(map[string]any{"ok": strings.Contains(string(body), `"pin": "4321"`)})
	case r.URL.Path == "/balance/1234":
		io.WriteString(w, `{"data": {"amount": 112.40}}`)
	default:
		w.WriteHeader(200)
	}
}

func (b *backend) requests() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.reqs, ", ")
}

// audioCall is a speechCall that sends caller audio into the sink.
type audioCall struct {
	*testCall
	mu   sync.Mutex
	sink func(audio.Frame)
}

func (c *audioCall) SetSink(fn func(audio.Frame)) { c.mu.Lock(); c.sink = fn; c.mu.Unlock() }
func (c *audioCall) talk(frames int) {
	for i := 0; i < frames; i++ {
		c.mu.Lock()
		fn := c.sink
		c.mu.Unlock()
		if fn != nil {
			fn(audio.Frame{Rate: 8000, Samples: make([]int16, 160)})
		}
	}
}

func nodesEngine(t *testing.T, b *backend, ears *scriptedEars) (*Engine, *records, string) {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	cfg, err := config.Parse([]byte(strings.ReplaceAll(nodesFlow, "BACKEND", srv.URL)), "nodes.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	ps := prompts{}
	for name, p := range cfg.Prompts.Items {
		ps[name] = p.Text
	}
	recs := &records{}
	dir := t.TempDir()
	o := Options{Prompts: ps, Records: recs, DataDir: dir, HTTP: srv.Client(),
		Transfers: &transfers{res: TransferResult{Outcome: "answered", CallerLeft: true, EndReason: "transferred"}}}
	if ears != nil {
		o.Ears = func(ctx context.Context, rate int) (Listener, error) { return ears, nil }
	}
	e, err := NewEngine(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return e, recs, dir
}

func runCall(t *testing.T, e *Engine, c Call, leave func(), script func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { e.Run(context.Background(), c); close(done) }()
	script()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		leave()
		<-done
		t.Fatal("the call did not end")
	}
}

// TestIdentityLookupVoicemail: the PIN is keyed and spoken-free, checked
// by a lookup, never recorded; the balance lookup fills a templated
// prompt; the voicemail records the caller's audio to a WAV file and the
// webhook hears about it.
func TestIdentityLookupVoicemail(t *testing.T) {
	b := &backend{}
	e, recs, dir := nodesEngine(t, b, nil)
	c := &audioCall{testCall: newTestCall(time.Millisecond)}
	runCall(t, e, c, c.callerLeaves, func() {
		c.press("1234")
		c.press("4321")
		time.Sleep(200 * time.Millisecond) // the lookups, the balance, the voicemail prompt and beep
		c.talk(50)                         // one second of the message
		c.press("#")
	})
	r := recs.last
	if got := strings.Join(r.Path, ">"); got != "acct>say>vm" {
		t.Fatalf("path %s; events %+v", got, r.Events)
	}
	if r.Digits != "1234****#" || r.Vars["pin"] != "" || r.Vars["account"] != "1234" || r.Vars["balance"] != "112.40" {
		t.Errorf("digits %q vars %v", r.Digits, r.Vars)
	}
	if !strings.Contains(strings.Join(c.heard, "|"), "Your balance is {amount:112.40 GBP}.") {
		t.Errorf("heard %v", c.heard)
	}
	for _, ev := range r.Events {
		if strings.Contains(ev.Text, "4321") {
			t.Errorf("the PIN leaked into an event: %+v", ev)
		}
	}
	if got := b.requests(); got != "POST /verify, GET /balance/1234, POST /vm" {
		t.Errorf("requests %s", got)
	}
	vm := r.Voicemail
	if vm == nil || vm.DurationMS != 1000 || !vm.Notified || !strings.HasPrefix(vm.File, filepath.Join(dir, "voicemail")) {
		t.Fatalf("voicemail %+v", vm)
	}
	if clip, err := audio.ReadWAVFile(vm.File); err != nil || len(clip.Samples) != 8000 {
		t.Errorf("recording: %v", err)
	}
	var hook struct {
		Voicemail struct{ File string } `json:"voicemail"`
		Vars      map[string]string     `json:"vars"`
	}
	b.mu.Lock()
	json.Unmarshal([]byte(b.body["/vm"]), &hook)
	b.mu.Unlock()
	if hook.Voicemail.File != vm.File || hook.Vars["pin"] != "" || hook.Vars["account"] != "1234" {
		t.Errorf("webhook %+v", hook)
	}
	if r.EndReason != "voicemail" {
		t.Errorf("end %s", r.EndReason)
	}
	os.Remove(vm.File)
}

// TestLookupRetriesThenFails: a backend that answers 503 is retried once,
// then the call goes to on_failure (and the agent gets a screen pop).
func TestLookupRetriesThenFails(t *testing.T) {
	b := &backend{fail: 2}
	e, recs, _ := nodesEngine(t, b, nil)
	e.cfg.Flow.Nodes["acct"].RequiresIdentity = false
	c := &audioCall{testCall: newTestCall(time.Millisecond)}
	runCall(t, e, c, c.callerLeaves, func() {})
	if got := strings.Join(recs.last.Path, ">"); got != "acct>down>human" {
		t.Errorf("path %s", got)
	}
	// No account yet: the placeholder is empty.
	if got := b.requests(); got != "GET /balance/, GET /balance/, POST /pop" {
		t.Errorf("requests %s", got)
	}
	if recs.last.Vars["lookup_status"] != "0" {
		t.Errorf("lookup_status %q", recs.last.Vars["lookup_status"])
	}
}

// TestLookupTimeout: a backend slower than the timeout counts as down.
func TestLookupTimeout(t *testing.T) {
	b := &backend{slow: time.Second}
	e, recs, _ := nodesEngine(t, b, nil)
	e.cfg.Flow.Nodes["acct"].RequiresIdentity = false
	e.cfg.ScreenPop = nil
	c := &audioCall{testCall: newTestCall(time.Millisecond)}
	start := time.Now()
	runCall(t, e, c, c.callerLeaves, func() {})
	if got := strings.Join(recs.last.Path, ">"); got != "acct>down>human" {
		t.Errorf("path %s", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("two 300 ms attempts took %s", d)
	}
}

// TestSpokenPINIsMasked: a PIN said aloud is used for the check but
// appears nowhere in the record.
func TestSpokenPINIsMasked(t *testing.T) {
	b := &backend{}
	ears := &scriptedEars{events: make(chan speech.Event, 8)}
	e, recs, _ := nodesEngine(t, b, ears)
	c := &audioCall{testCall: newTestCall(time.Millisecond)}
	runCall(t, e, c, c.callerLeaves, func() {
		<-c.playing
		ears.say("one two three four", "", 0)
		<-c.playing
		ears.say("four three two one", "", 0)
		time.Sleep(100 * time.Millisecond)
		c.callerLeaves()
	})
	r := recs.last
	if r.Vars["identity_verified"] != "true" {
		t.Fatalf("not verified: %v %+v", r.Vars, r.Events)
	}
	for _, ev := range r.Events {
		if strings.Contains(ev.Text, "four three two one") || strings.Contains(ev.Text, "4321") {
			t.Errorf("the PIN leaked: %+v", ev)
		}
	}
	if r.Vars["last_utterance"] == "four three two one" {
		t.Error("the PIN is the last utterance")
	}
}

func TestJSONPath(t *testing.T) {
	var doc any
	dec := json.NewDecoder(strings.NewReader(`{"a": {"b": [1, {"c": "x"}], "t": true, "n": null, "f": 1.50}}`))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"a.b.1.c": "x", "a.t": "true", "a.f": "1.50", "a.b.0": "1", "a.b": `[1,{"c":"x"}]`} {
		if got, ok := JSONPath(doc, path); !ok || got != want {
			t.Errorf("%s = %q %v, want %q", path, got, ok, want)
		}
	}
	for _, path := range []string{"a.n", "a.b.2", "a.b.-1", "a.x", "a.t.x", "a.b.c"} {
		if got, ok := JSONPath(doc, path); ok {
			t.Errorf("%s = %q, want not found", path, got)
		}
	}
}

func TestTextListener(t *testing.T) {
	clf, err := nlu.Train([]nlu.Intent{{Name: "balance", Examples: []string{"what is my balance", "how much money"}},
		{Name: "lost", Examples: []string{"I lost my card", "my card was stolen"}}}, nlu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := NewTextListener(clf)
	if err := l.Type("  What is   my BALANCE "); err != nil {
		t.Fatal(err)
	}
	if ev := <-l.Events(); ev.Type != speech.SpeechStarted {
		t.Errorf("first event %v", ev.Type)
	}
	ev := <-l.Events()
	if ev.Type != speech.Final || ev.Result.Text != "what is my balance" || ev.Intent == nil || ev.Intent.Intent != "balance" {
		t.Errorf("final %+v", ev)
	}
	for i := 0; i < 8; i++ {
		l.Type("x")
	}
	if err := l.Type("one too many"); err != ErrListenerFull {
		t.Errorf("full: %v", err)
	}
	l.Close()
	if err := l.Type("after close"); err != speech.ErrClosed {
		t.Errorf("closed: %v", err)
	}
}
