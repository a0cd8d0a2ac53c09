package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadWithBrokenFileKeepsCalls: while a caller is mid-request, the
// config file is replaced by a broken one and `ivr serve` gets SIGHUP.
// The reload is refused, the call goes on to the end of its flow, and a
// call after that still gets the old flow.
func TestReloadWithBrokenFileKeepsCalls(t *testing.T) {
	cfg := bankConfig(t)
	good, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := startIVR(t, cfg)
	dir := t.TempDir()
	callerAudio(t, dir, "I lost my card")
	done := make(chan struct{})
	go func() {
		defer close(done)
		streamCall(t, s, dir, 6*time.Second)
	}()
	// Mid-greeting: break the file and ask for a reload.
	time.Sleep(time.Second)
	broken := bytes.Replace(good, []byte("    main:\n      type: menu"), []byte("    main:\n      type: menu\n      colour: blue"), 1)
	if err := os.WriteFile(cfg, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	<-done
	r := s.waitEnded(t, 1)[0]
	if len(r.Path) < 2 || r.Path[1] != "lost" || r.Vars["last_intent"] != "lost_card" {
		t.Errorf("the call in progress: path %v vars %v", r.Path, r.Vars)
	}
	log, _ := os.ReadFile(s.log.Name())
	if !strings.Contains(string(log), "config reload refused") || !strings.Contains(string(log), "colour is not a known key") {
		t.Errorf("the broken file was not refused with its reason:\n%s", tail(string(log), 3000))
	}
	// The server still serves the flow it had.
	callerAudio(t, dir, "I lost my card")
	streamCall(t, s, dir, 6*time.Second)
	recs := s.waitEnded(t, 2)
	if len(recs[0].Path) < 2 || recs[0].Path[1] != "lost" {
		t.Errorf("a call after the refused reload: path %v", recs[0].Path)
	}
}

// TestValidateCommand: the examples validate clean; a broken file gives
// file:line messages and exit status 1.
func TestValidateCommand(t *testing.T) {
	examples, _ := filepath.Glob(filepath.Join(repoRoot(), "examples", "*", "ivr.yaml"))
	out, err := exec.Command(ivrBin, append([]string{"validate", "--strict"}, examples...)...).CombinedOutput()
	if err != nil {
		t.Errorf("ivr validate --strict on the examples: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("flow:\n  start: main\n  nodes:\n    main: {type: menu, options: [{key: \"11\", goto: nowhere}]}\n"), 0o644)
	cmd := exec.Command(ivrBin, "validate", bad)
	out, err = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d (%v), want 1\n%s", code, err, out)
	}
	if !strings.Contains(string(out), bad+`:4: error: menu "main": option key "11" is not a keypad key`) {
		t.Errorf("output:\n%s", out)
	}
}

// TestJourneysText runs the examples' journeys through `ivr test`.
func TestJourneysText(t *testing.T) {
	for _, ex := range []string{"bank", "courier", "solo", "contact"} {
		out, err := exec.Command(ivrBin, "test", filepath.Join(repoRoot(), "examples", ex, "ivr.yaml")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), " 0 failed") {
			t.Errorf("ivr test %s: %v\n%s", ex, err, out)
		}
	}
}

// TestJourneyAudioAgentFromDeepNode: `ivr test --audio` synthesizes the
// caller's words and calls the bank line over loopback SIP: the spoken
// request reaches the identity check, the account number is keyed as
// RFC 4733 events, and "agent" said at the PIN prompt reaches the
// transfer, with the context but without the PIN.
func TestJourneyAudioAgentFromDeepNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ivrBin, "test", "--audio", "-v", filepath.Join(repoRoot(), "examples", "bank", "ivr.yaml"),
		filepath.Join(repoRoot(), "examples", "bank", "journeys", "agent_from_pin.yaml"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS saying \"agent\" at the PIN prompt") {
		t.Errorf("ivr test --audio: %v\n%s", err, out)
	}
}
