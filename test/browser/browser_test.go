// Package browser holds the end-to-end test of the call widget in headless
// Chromium: a real browser with a fake microphone calls `ivr serve` (the
// real binary) over WebRTC, from the IVR's own demo page and from pages on
// other origins, by keypad and by voice.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ivr-browser")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	goleak.VerifyTestMain(exitHook{m, func() { os.RemoveAll(dir) }})
}

// exitHook runs a cleanup after the tests (goleak.VerifyTestMain exits).
type exitHook struct {
	m    *testing.M
	done func()
}

func (h exitHook) Run() int {
	code := h.m.Run()
	h.done()
	return code
}

var (
	buildDir  string
	buildOnce sync.Once
	buildErr  string
)

// browserSetup checks what the browser tests need (Chromium, node,
// playwright-core), makes the output directory, and builds ivr once for
// all the tests.
func browserSetup(t *testing.T) (chromium, node, out, ivr string) {
	t.Helper()
	if testing.Short() {
		t.Skip("headless Chromium end-to-end test: not in -short mode")
	}
	chromium = os.Getenv("CHROMIUM")
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
	out = os.Getenv("BROWSER_OUT")
	if out == "" {
		out, _ = filepath.Abs("out")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	ivr = filepath.Join(buildDir, "ivr")
	buildOnce.Do(func() {
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", ivr, "./cmd/ivr")
		cmd.Dir = "../.."
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Sprintf("go build ./cmd/ivr: %v\n%s", err, b)
		}
		t.Logf("go build ./cmd/ivr: %v", time.Since(start).Round(time.Millisecond))
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return chromium, node, out, ivr
}

// callerSays is what the fake microphone says, in a voice other than the
// IVR's (flite/kal16), so the recognizer hears a different speaker.
// BROWSER_CALLER_SAYS and BROWSER_CALLER_VOICE change them to measure
// other lost-card requests ("my card was stolen", flite/awb...).
var (
	callerSays  = envOr("BROWSER_CALLER_SAYS", "I lost my card")
	callerVoice = envOr("BROWSER_CALLER_VOICE", "flite/rms")
)

const (
	// callerLead is the silence before the words: the microphone starts
	// with getUserMedia, and the greeting begins once ICE and DTLS are up
	// (well under a second on loopback), so the caller speaks over the
	// greeting (barge-in) as callers do.
	callerLead = 2500 * time.Millisecond
	// callerTail is the silence after: Chromium loops the file, and the
	// request must be said once per call.
	callerTail = 60 * time.Second
)

// TestWidgetInChromium builds `ivr`, serves two lines with `ivr serve` and
// runs widget.test.mjs (node, playwright-core, Chromium) against them:
//
//   - the demo line (the embedded keypad menu, recorded prompts) with a
//     webrtc.allowed_origins entry: its demo page, a page on an allowed
//     origin and one on a refused origin;
//   - a speech-first line (testdata/speech.yaml: examples/bank's menu,
//     synthesized prompts, the embedded recognizer): the caller says "I
//     lost my card", then presses 1.
//
// Then it reads the call records with `ivr calls --json`.
func TestWidgetInChromium(t *testing.T) {
	chromium, node, out, ivr := browserSetup(t)
	tmp := t.TempDir()
	start := time.Now()
	var err error
	// BROWSER_SPEECH_CALLS repeats the speech call (measuring recognition).
	speechCalls := 1
	if v := os.Getenv("BROWSER_SPEECH_CALLS"); v != "" {
		if speechCalls, err = strconv.Atoi(v); err != nil || speechCalls < 1 {
			t.Fatalf("BROWSER_SPEECH_CALLS=%q: want a positive number", v)
		}
	}
	mic := filepath.Join(tmp, "caller.wav")
	callerAudio(t, ivr, mic)

	// The pages that embed the widget: one on an allowed origin, one not.
	allowed, refused := listen(t), listen(t)
	allowedOrigin := "http://" + allowed.Addr().String()

	// The demo line, with the allowed origin added.
	demoCfg := filepath.Join(tmp, "demo.yaml")
	demoYAML := string(config.DemoYAML()) + fmt.Sprintf("\nwebrtc:\n  allowed_origins: [%q]\n", allowedOrigin)
	if err := os.WriteFile(demoCfg, []byte(demoYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	speechCfg, err := filepath.Abs("testdata/speech.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Both start at once: loading the recognizer takes a few seconds.
	demo := startServe(t, ivr, demoCfg, filepath.Join(tmp, "demo-data"), filepath.Join(out, "ivr-demo.log"))
	speech := startServe(t, ivr, speechCfg, filepath.Join(tmp, "speech-data"), filepath.Join(out, "ivr-speech.log"))
	start = time.Now()
	demo.waitReady(t)
	speech.waitReady(t)
	t.Logf("ivr serve (demo and speech lines) ready: %v", time.Since(start).Round(time.Millisecond))

	hosts := []*http.Server{hostPage(allowed, "A shop (allowed origin)", demo.url), hostPage(refused, "Another site (not allowed)", demo.url)}
	defer func() {
		for _, h := range hosts {
			h.Close()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute+time.Duration(speechCalls)*30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-concurrency=1", "widget.test.mjs")
	cmd.Env = append(os.Environ(),
		"IVR_URL="+demo.url,
		"SPEECH_URL="+speech.url,
		"ALLOWED_PAGE="+allowedOrigin+"/",
		"REFUSED_PAGE=http://"+refused.Addr().String()+"/",
		"FAKE_MIC="+mic,
		"CHROMIUM="+chromium,
		"OUT_DIR="+out,
		"SPEECH_CALLS="+strconv.Itoa(speechCalls),
	)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start = time.Now()
	err = cmd.Run()
	t.Logf("node --test widget.test.mjs (%v):\n%s", time.Since(start).Round(time.Millisecond), buf.String())
	if err != nil {
		t.Errorf("browser test failed: %v (IVR logs: %s, %s)", err, demo.logPath, speech.logPath)
	}
	// SIGTERM: the servers end their calls and write the last records.
	// The records are read even when the browser side failed: they say
	// what the IVR heard and did.
	demo.stop(t)
	speech.stop(t)

	// The demo line: two keypad calls (demo page, allowed origin), both to
	// the directory by key 4, ended by the caller. The allowed-origin call
	// is over before the microphone's words start; the demo page's is not.
	recs := calls(t, ivr, demo.dataDir)
	if len(recs) != 2 {
		t.Errorf("demo line: %d call records, want 2 (demo page, allowed origin)", len(recs))
	}
	heard := 0
	for _, r := range recs {
		checkBrowserCall(t, r)
		if !strings.HasPrefix(r.Digits, "4") || !slices.Contains(r.Path, "directory") {
			t.Errorf("record %s: digits %q path %v, want the directory branch by key 4", r.CallID, r.Digits, r.Path)
		}
		if r.Media != nil && r.Media.InPeakDBFS > -60 {
			heard++
		}
	}
	if heard == 0 {
		t.Error("demo line: no call heard the caller's microphone")
	}

	// The speech line: the lost-card branch by voice, then the keypad's 1
	// blocks the card.
	recs = calls(t, ivr, speech.dataDir)
	if len(recs) != speechCalls {
		t.Errorf("speech line: %d call records, want %d", len(recs), speechCalls)
	}
	recognized, verbatim := 0, 0
	for _, r := range recs {
		checkBrowserCall(t, r)
		if r.Media == nil || r.Media.Codec != "opus" || r.Media.InPeakDBFS < -60 {
			t.Errorf("speech call %s: media %+v, want the microphone heard over Opus", r.CallID, r.Media)
		}
		for _, e := range r.Events {
			if e.Kind == "speech" || e.Kind == "barge_in" || e.Kind == "no_match" || e.Kind == "no_input" || e.Kind == "asr_error" {
				t.Logf("speech call %s: %s %s %q at +%v", r.CallID, e.Kind, e.Node, e.Text, e.At.Sub(r.StartedAt).Round(time.Millisecond))
			}
		}
		if r.Vars["last_intent"] != "lost_card" {
			t.Errorf("speech call %s: intent %q (heard %q), want lost_card", r.CallID, r.Vars["last_intent"], r.Vars["last_utterance"])
			continue
		}
		recognized++
		if normalize(r.Vars["last_utterance"]) == normalize(callerSays) {
			verbatim++
		}
		if len(r.Path) < 3 || r.Path[0] != "main" || r.Path[1] != "lost" || r.Path[2] != "blocked" {
			t.Errorf("speech call %s: path %v, want main>lost>blocked...", r.CallID, r.Path)
		}
		if !strings.HasPrefix(r.Digits, "1") {
			t.Errorf("speech call %s: digits %q, want 1 (block the card)", r.CallID, r.Digits)
		}
	}
	t.Logf("speech line: %d of %d calls recognized %q (%s) as lost_card, %d word for word", recognized, len(recs), callerSays, callerVoice, verbatim)
}

// checkBrowserCall checks what every widget call's record shows: the
// webrtc channel, answered, ended by the caller's hang-up, and the
// microphone heard.
func checkBrowserCall(t *testing.T, r models.CallRecord) {
	t.Helper()
	if r.Channel != "webrtc" || r.AnsweredAt == nil || r.EndedAt == nil {
		t.Errorf("record %s: channel %q answered %v ended %v", r.CallID, r.Channel, r.AnsweredAt, r.EndedAt)
	}
	if r.EndReason != models.EndCallerHangup {
		t.Errorf("record %s: end %q, want %q", r.CallID, r.EndReason, models.EndCallerHangup)
	}
	if r.Media == nil || r.Media.PacketsIn == 0 {
		t.Errorf("record %s: media %+v, want the caller's audio received", r.CallID, r.Media)
	}
	b, _ := json.Marshal(r.Media)
	t.Logf("call %s: path %v digits %q vars %v end %s media %s", r.CallID, r.Path, r.Digits, r.Vars, r.EndReason, b)
}

// callerAudio writes the fake microphone's file: lead silence, the
// request spoken by `ivr say` in the caller's voice, long silence; 16 kHz.
func callerAudio(t *testing.T, ivr, path string) {
	t.Helper()
	words := filepath.Join(filepath.Dir(path), "words.wav")
	run(t, filepath.Dir(path), ivr, "say", callerSays, "--voice", callerVoice, "--rate", "16000", "-o", words)
	clip, err := audio.ReadWAVFile(words)
	if err != nil {
		t.Fatal(err)
	}
	const rate = audio.Rate16k
	pcm := audio.Resample(clip.Samples, clip.Rate, rate)
	lead := make([]int16, audio.SamplesPer(rate, callerLead))
	tail := make([]int16, audio.SamplesPer(rate, callerTail))
	all := slices.Concat(lead, pcm, tail)
	if err := audio.WriteWAVFile(path, audio.Clip{Rate: rate, Samples: all}); err != nil {
		t.Fatal(err)
	}
}

// server is one `ivr serve` process.
type server struct {
	url, dataDir, logPath string
	cmd                   *exec.Cmd
	exited                chan struct{}
	err                   error // after exited
	stopped               bool
}

// startServe starts `ivr serve` on free loopback ports; t's cleanup
// stops it.
func startServe(t *testing.T, ivr, cfg, dataDir, logPath string) *server {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	s := &server{url: "http://" + httpAddr, dataDir: dataDir, logPath: logPath, exited: make(chan struct{})}
	s.cmd = exec.Command(ivr, "serve", "--config", cfg, "--sip-addr", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--http-addr", httpAddr, "--data-dir", dataDir, "--log-level", "debug")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// waitReady waits for /healthz.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			t.Fatalf("ivr serve exited: %v (log %s)", s.err, s.logPath)
		default:
		}
		res, err := http.Get(s.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ivr serve not ready after 60 s (log %s)", s.logPath)
}

// stop sends SIGTERM and waits for a clean exit; idempotent.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.err != nil {
			t.Errorf("ivr serve: %v (log %s)", s.err, s.logPath)
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("ivr serve did not stop within 20 s of SIGTERM (log %s)", s.logPath)
	}
}

// calls reads a data directory's records with `ivr calls --json`.
func calls(t *testing.T, ivr, dataDir string) []models.CallRecord {
	t.Helper()
	cmd := exec.Command(ivr, "calls", "--data-dir", dataDir, "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("ivr calls --data-dir %s --json: %v\n%s", dataDir, err, stderr.Bytes())
	}
	var recs []models.CallRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("ivr calls --json: %v\n%s", err, b)
	}
	return recs
}

// hostPage serves a plain HTML page that embeds the widget with the
// one-line snippet, as a business's own site would.
func hostPage(ln net.Listener, title, ivrURL string) *http.Server {
	page := fmt.Sprintf(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title><link rel="icon" href="data:,"></head>
<body>
<h1>%s</h1>
<p>Questions about your order? Call us from this page.</p>
<script src="%s/widget.js" data-flow="main" defer></script>
</body>
</html>
`, title, title, ivrURL)
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	})}
	go hs.Serve(ln)
	return hs
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// freePorts returns n loopback ports, each free for both TCP and UDP a
// moment ago (SIP listens on both), and distinct: all are held open until
// all are found, so the kernel cannot hand out one twice.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n && tries < 50; tries++ {
		ln := listen(t)
		held = append(held, ln)
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		held = append(held, pc)
		ports = append(ports, port)
	}
	if len(ports) < n {
		t.Fatalf("found %d free ports, want %d", len(ports), n)
	}
	return ports
}

// normalize lower-cases s and keeps letters and digits, words separated
// by single spaces ("I can't" and "i cant" are the same).
func normalize(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "'", "")
	f := strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	return strings.Join(f, " ")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
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
