// Package browser holds the end-to-end test of the call widget in headless
// Chromium: a real browser with a fake microphone calls the demo line over
// WebRTC, from the IVR's own demo page and from pages on other origins.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/prompt"
	"github.com/openivr/ivr/store"
	"github.com/openivr/ivr/telephony/webrtc"
	"github.com/openivr/ivr/web"
)

// callerSays is what the fake microphone says (a WAV made by `ivr say`).
const callerSays = "I would like to talk to someone in sales, please."

// TestWidgetInChromium runs widget.test.mjs (node, playwright-core,
// Chromium) against the demo line served in-process with the real dialog
// engine and call store, then checks the call records, through `ivr calls`
// too.
//
// TODO(lead): once serve mounts newWebRTC and config carries the allowed
// origins, start `ivr serve --sip-addr --http-addr --data-dir` here
// instead of the in-process wiring in startIVR.
func TestWidgetInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("headless Chromium end-to-end test: not in -short mode")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s: apt-get install -y chromium (or set CHROMIUM)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no node: apt-get install -y nodejs npm")
	}
	if _, err := os.Stat("node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core missing: (cd test/browser && npm ci)")
	}
	out := os.Getenv("BROWSER_OUT")
	if out == "" {
		out, _ = filepath.Abs("out")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	ivr := filepath.Join(tmp, "ivr")
	run(t, "../..", "go", "build", "-o", ivr, "./cmd/ivr")
	mic := filepath.Join(tmp, "caller.wav")
	run(t, tmp, ivr, "say", callerSays, "--rate", "16000", "-o", mic)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dataDir := filepath.Join(tmp, "data")
	logFile, err := os.Create(filepath.Join(out, "ivr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))

	allowed, refused := listen(t), listen(t)
	ivrURL, stop := startIVR(t, ctx, dataDir, []string{"http://" + allowed.Addr().String()}, log)
	defer stop()
	go hostPage(allowed, "A shop (allowed origin)", ivrURL)
	go hostPage(refused, "Another site (not allowed)", ivrURL)
	defer allowed.Close()
	defer refused.Close()

	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "widget.test.mjs")
	cmd.Env = append(os.Environ(),
		"IVR_URL="+ivrURL,
		"ALLOWED_PAGE=http://"+allowed.Addr().String()+"/",
		"REFUSED_PAGE=http://"+refused.Addr().String()+"/",
		"FAKE_MIC="+mic,
		"CHROMIUM="+chromium,
		"OUT_DIR="+out,
	)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	timer := time.AfterFunc(4*time.Minute, cancel)
	err = cmd.Run()
	timer.Stop()
	t.Logf("node --test widget.test.mjs:\n%s", buf.String())
	if err != nil {
		t.Fatalf("browser test failed: %v (IVR log: %s)", err, logFile.Name())
	}
	stop() // end calls, write the last records, close the store

	// The records: browser calls on the webrtc channel that took the
	// keypad branch and ended with the caller's hang-up.
	st, err := store.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.List(context.Background(), store.Query{})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d call records, want 2 (demo page, allowed origin): %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Channel != "webrtc" || r.AnsweredAt == nil || r.EndedAt == nil {
			t.Errorf("record %s: channel %q answered %v ended %v", r.CallID, r.Channel, r.AnsweredAt, r.EndedAt)
		}
		if !strings.HasPrefix(r.Digits, "4") || !slices.Contains(r.Path, "directory") {
			t.Errorf("record %s: digits %q path %v, want the directory branch by key 4", r.CallID, r.Digits, r.Path)
		}
		if r.EndReason != models.EndCallerHangup {
			t.Errorf("record %s: end %q, want %q", r.CallID, r.EndReason, models.EndCallerHangup)
		}
		if r.Media == nil || r.Media.PacketsIn == 0 || r.Media.InPeakDBFS < -60 {
			t.Errorf("record %s: media %+v, want the caller's microphone heard", r.CallID, r.Media)
		}
		b, _ := json.Marshal(r.Media)
		t.Logf("call %s: path %v digits %q end %s media %s", r.CallID, r.Path, r.Digits, r.EndReason, b)
	}
	listing := run(t, tmp, ivr, "calls", "--data-dir", dataDir)
	t.Logf("ivr calls:\n%s", listing)
	if strings.Count(listing, " webrtc ") != 2 {
		t.Errorf("ivr calls does not list the two browser calls:\n%s", listing)
	}
}

// startIVR serves the demo line like `ivr serve` does: the dialog engine
// with recorded prompts and the SQLite call store, the WebRTC signalling,
// the demo page and the widget. stop ends calls and closes the store; it
// is idempotent.
func startIVR(t *testing.T, ctx context.Context, dataDir string, origins []string, log *slog.Logger) (url string, stop func()) {
	t.Helper()
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := prompt.Load(ctx, cfg, nil, audio.Rate8k)
	if err != nil {
		st.Close()
		t.Fatalf("demo prompts: %v (apt-get install -y asterisk-core-sounds-en-wav)", err)
	}
	eng, err := dialog.NewEngine(cfg, dialog.Options{Prompts: ps, Records: st, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	wsrv, err := webrtc.NewServer(webrtc.Config{
		Handler:         func(ctx context.Context, c *webrtc.Call) { eng.Run(ctx, c) },
		AllowedOrigins:  origins,
		IncludeLoopback: true,
		Logger:          log,
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := web.Handler(web.Options{Title: cfg.Line.Name, Flow: cfg.Flow.Start})
	if err != nil {
		t.Fatal(err)
	}
	// The same routes as cmd/ivr's webrtcService.Mount.
	mux := http.NewServeMux()
	mux.Handle("/webrtc/", wsrv)
	mux.Handle("GET /{$}", page)
	mux.Handle("GET /widget.js", page)
	mux.Handle("GET /widget.css", page)
	ln := listen(t)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	stopped := false
	return "http://" + ln.Addr().String(), func() {
		if stopped {
			return
		}
		stopped = true
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		if err := wsrv.Close(sctx); err != nil {
			t.Errorf("webrtc close: %v", err)
		}
		st.Close()
	}
}

// hostPage serves a plain HTML page that embeds the widget with the
// one-line snippet, as a business's own site would.
func hostPage(ln net.Listener, title, ivrURL string) {
	page := fmt.Sprintf(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title></head>
<body>
<h1>%s</h1>
<p>Questions about your order? Call us from this page.</p>
<script src="%s/widget.js" data-flow="main" defer></script>
</body>
</html>
`, title, title, ivrURL)
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// run runs a command in dir and returns its output; failure ends the test.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return string(b)
}
