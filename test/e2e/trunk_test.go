package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// trunkConfig is a small line with an admin token and one trunk: it
// registers to a SIPp registrar and calls out through a SIPp provider.
func trunkConfig(t *testing.T, regPort, provPort int) string {
	t.Helper()
	src := fmt.Sprintf(`
line: {name: Trunk Test}
speech: {engine: none}
admin: {token: e2e-trunk-token}
prompts:
  items:
    hello: {text: Hello}
flow:
  start: main
  nodes:
    main: {type: say, prompt: hello, next: bye}
    bye: {type: hangup}
trunks:
  acme:
    registrar: 127.0.0.1:%d
    domain: sip:127.0.0.1:%d
    username: acme
    password: ${IVR_E2E_TRUNK_PASSWORD}
    from_user: "+15550001111"
    expires: 60s
    keepalive: 0s # the SIPp provider's scenario has no OPTIONS step (pings: telephony/sip TestTrunkKeepAlive)
`, regPort, provPort)
	path := filepath.Join(t.TempDir(), "trunk.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// trunkStatus is the part of GET /api/trunks the test reads.
type trunkStatus struct {
	Name          string    `json:"name"`
	Registered    bool      `json:"registered"`
	Granted       int       `json:"granted_seconds"`
	Registrations int       `json:"registrations"`
	Failures      int       `json:"failures"`
	LastError     string    `json:"last_error"`
	Expires       time.Time `json:"expires"`
}

func (s *server) api(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", s.httpPort, path), rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, b.Bytes()
}

// startSipp starts a SIPp scenario in the background; wait returns its
// error (with its output and error log) once it ends.
func startSipp(t *testing.T, cmd *exec.Cmd) (wait func(time.Duration) error) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return func(d time.Duration) error {
		select {
		case err := <-done:
			if err != nil {
				errs, _ := os.ReadFile(filepath.Join(cmd.Dir, "errors.log"))
				return fmt.Errorf("%s: %v\n%s\n%s", filepath.Base(cmd.Args[2]), err, tail(out.String(), 1500), errs)
			}
			return nil
		case <-time.After(d):
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("%s still running after %v\n%s", filepath.Base(cmd.Args[2]), d, tail(out.String(), 1500))
		}
	}
}

// TestTrunkRegisterAndOutboundCallWithSIPp is issue 9's "REGISTER to a
// SIP provider as a client (digest auth) and place outbound calls through
// it" against SIPp: `ivr serve` registers its trunk (401, verified
// credentials), refreshes within the 2 s the registrar granted, places an
// outbound call through the admin API that the provider challenges with
// 407 and answers (echoing the audio), hangs up, and unregisters when it
// stops.
func TestTrunkRegisterAndOutboundCallWithSIPp(t *testing.T) {
	regPort, provPort := freePort(t), freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	waitRegistrar := startSipp(t, sipp(ctx, t, "provider_register.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(regPort)))
	provider := sipp(ctx, t, "provider_invite.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(provPort),
		"-mp", fmt.Sprint(mediaPort(t)), "-rtp_echo", "-trace_logs")
	waitProvider := startSipp(t, provider)
	time.Sleep(300 * time.Millisecond) // SIPp binds its ports

	s := startIVR(t, trunkConfig(t, regPort, provPort), "IVR_E2E_TRUNK_PASSWORD=s3cret")
	const token = "e2e-trunk-token"

	if code, _ := s.api(t, "GET", "/api/trunks", "", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /api/trunks without a token: %d, want 401", code)
	}
	// Registered, then refreshed (the first grant was 2 s; the refresh
	// gets an hour).
	var st []trunkStatus
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := s.api(t, "GET", "/api/trunks", token, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /api/trunks: %d %s", code, body)
		}
		st = nil
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if len(st) == 1 && st[0].Registrations >= 2 && st[0].Granted == 3600 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trunk status %+v: want two registrations, the last granted 3600 s", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !st[0].Registered || st[0].Name != "acme" || st[0].Failures != 0 || time.Until(st[0].Expires) < 3500*time.Second {
		t.Errorf("status %+v", st[0])
	}

	// An outbound test call through the trunk.
	if code, body := s.api(t, "POST", "/api/calls/outbound", token, map[string]string{"trunk": "nope", "number": "1"}); code != http.StatusNotFound {
		t.Errorf("unknown trunk: %d %s", code, body)
	}
	code, body := s.api(t, "POST", "/api/calls/outbound", token, map[string]string{"trunk": "acme", "number": "+1 555 123 4567"})
	if code != http.StatusOK {
		t.Fatalf("POST /api/calls/outbound: %d %s", code, body)
	}
	var res struct {
		Answered   bool   `json:"answered"`
		EndedBy    string `json:"ended_by"`
		DurationMS int64  `json:"duration_ms"`
		Media      struct {
			Codec      string  `json:"codec"`
			PacketsIn  uint64  `json:"packets_in"`
			PacketsOut uint64  `json:"packets_out"`
			InPeakDBFS float64 `json:"in_peak_dbfs"`
		} `json:"media"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	t.Logf("outbound call: %s", body)
	if !res.Answered || res.EndedBy != "ivr" || res.Media.Codec != "PCMU" {
		t.Errorf("call result %s", body)
	}
	// The sentence is about 3 s: it went out, and SIPp echoed it back.
	if res.Media.PacketsOut < 100 || res.Media.PacketsIn < 50 || res.Media.InPeakDBFS < -30 {
		t.Errorf("media %+v: the test sentence should have gone out and come back", res.Media)
	}
	if err := waitProvider(15 * time.Second); err != nil {
		t.Errorf("SIPp provider: %v", err)
	} else {
		checkProxyAuthorization(t, provider.Dir, "acme", "s3cret")
	}

	// Stopping the IVR unregisters the trunk.
	s.cmd.Process.Signal(os.Interrupt)
	if err := waitRegistrar(15 * time.Second); err != nil {
		t.Errorf("SIPp registrar: %v", err)
	}
	log, _ := os.ReadFile(s.log.Name())
	for _, want := range []string{"trunk registered", "trunk unregistered", "outbound test call answered"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("ivr log lacks %q", want)
		}
	}
}

// checkProxyAuthorization recomputes the digest of the Proxy-Authorization
// the SIPp provider received (its scenario logs it with the nonce it
// issued; SIPp's own verifyauth reads only Authorization headers).
func checkProxyAuthorization(t *testing.T, dir, user, pass string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "provider_invite_*_logs.log"))
	if len(logs) != 1 {
		t.Fatalf("SIPp provider logs: %v", logs)
	}
	b, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	var nonce, header string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "nonce "); ok {
			nonce = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "proxy-authorization "); ok {
			header = strings.TrimSpace(v)
		}
	}
	cred, err := digest.ParseCredentials(header)
	if err != nil {
		t.Fatalf("Proxy-Authorization %q: %v\n%s", header, err, b)
	}
	if cred.Username != user || cred.Realm != "sipp.provider" || cred.Nonce != nonce || nonce == "" ||
		!strings.HasPrefix(cred.URI, "sip:+15551234567@") {
		t.Errorf("Proxy-Authorization %q for nonce %q", header, nonce)
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: nonce, Algorithm: cred.Algorithm, QOP: []string{cred.QOP}}
	want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: cred.URI, Username: user, Password: pass, Count: cred.Nc, Cnonce: cred.Cnonce})
	if err != nil || want.Response != cred.Response {
		t.Errorf("Proxy-Authorization response %q, want %q (%v)", cred.Response, want.Response, err)
	}
}
