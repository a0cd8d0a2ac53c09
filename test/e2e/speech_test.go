package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/models"
)

// bankConfig writes the example bank line with short menu timeouts.
func bankConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "bank", "ivr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "timeout: 6s", "timeout: 2s", 1)
	path := filepath.Join(t.TempDir(), "bank.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// callerAudio writes what a SIPp caller streams: lead silence, the words
// spoken by a voice other than the IVR's, then silence; mu-law for SIPp.
func callerAudio(t *testing.T, dir, words string) {
	t.Helper()
	var pcm []int16
	if words != "" {
		wav := filepath.Join(dir, "words.wav")
		out, err := exec.Command(ivrBin, "say", words, "--voice", "flite/rms", "--rate", "8000", "-o", wav).CombinedOutput()
		if err != nil {
			t.Fatalf("ivr say: %v\n%s", err, out)
		}
		clip, err := audio.ReadWAVFile(wav)
		if err != nil {
			t.Fatal(err)
		}
		pcm = audio.Resample(clip.Samples, clip.Rate, 8000)
	}
	lead := make([]int16, 8000*3/2) // speak 1.5 s into the greeting: barge-in
	all := append(append(lead, pcm...), make([]int16, 8000*3)...)
	if err := writeMulawWAV(filepath.Join(dir, "keys.wav"), all); err != nil {
		t.Fatal(err)
	}
}

// streamCall makes a SIPp call that streams dir/keys.wav and stays on
// for hold after the stream starts.
func streamCall(t *testing.T, s *server, dir string, hold time.Duration) {
	t.Helper()
	scen, err := os.ReadFile(filepath.Join(repoRoot(), "test", "sipp", "caller_inband.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scen = []byte(strings.Replace(string(scen), `<pause milliseconds="4000"/>`, fmt.Sprintf(`<pause milliseconds="%d"/>`, hold.Milliseconds()), 1))
	os.WriteFile(filepath.Join(dir, "caller.xml"), scen, 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := sipp(ctx, t, "caller_inband.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(t)),
		"-mp", fmt.Sprint(mediaPort(t)), "-s", "ivr", fmt.Sprintf("127.0.0.1:%d", s.sipPort))
	cmd.Args[2] = filepath.Join(dir, "caller.xml")
	cmd.Dir = dir
	runSipp(t, cmd)
}

func hasEvent(r models.CallRecord, kind, text string) bool {
	for _, e := range r.Events {
		if e.Kind == kind && strings.Contains(e.Text, text) {
			return true
		}
	}
	return false
}

// TestSpokenRequestReachesIntent: a SIPp caller streams a recorded
// request ("I lost my card", in a different synthetic voice, through
// G.711) over the greeting; the greeting stops (barge-in), the embedded
// recognizer and classifier find lost_card, and the flow goes there.
func TestSpokenRequestReachesIntent(t *testing.T) {
	s := startIVR(t, bankConfig(t))
	dir := t.TempDir()
	callerAudio(t, dir, "I lost my card")
	streamCall(t, s, dir, 6*time.Second)
	r := s.waitEnded(t, 1)[0]
	if len(r.Path) < 2 || r.Path[1] != "lost" {
		t.Errorf("path %v, want main>lost...; events %+v", r.Path, r.Events)
	}
	if r.Vars["last_intent"] != "lost_card" {
		t.Errorf("intent %q (heard %q)", r.Vars["last_intent"], r.Vars["last_utterance"])
	}
	if !hasEvent(r, "barge_in", "") {
		t.Error("the caller's speech did not stop the greeting")
	}
	// The default engines: Moonshine, with PocketSphinx as a second opinion.
	if b, _ := os.ReadFile(s.log.Name()); !strings.Contains(string(b), `msg="speech recognizers" engine=moonshine second=sphinx`) {
		t.Error("the server did not start the default recognizers (moonshine with sphinx)")
	}
}

// TestSilenceLadderReadsKeypadOptions: a caller who says nothing hears the
// question again, then the keypad options read out (the step after, a
// human, is covered by the dialog tests).
func TestSilenceLadderReadsKeypadOptions(t *testing.T) {
	s := startIVR(t, bankConfig(t))
	dir := t.TempDir()
	// Line noise only: the ladder takes three timeouts and four prompts.
	if err := writeMulawWAV(filepath.Join(dir, "keys.wav"), make([]int16, 8000*60)); err != nil {
		t.Fatal(err)
	}
	streamCall(t, s, dir, 36*time.Second)
	r := s.waitEnded(t, 1)[0]
	if !hasEvent(r, "prompt", "You can also use your keypad. To check your balance, press 1.") {
		t.Errorf("no keypad options read out; events %+v", r.Events)
	}
	noInput := 0
	for _, e := range r.Events {
		if e.Kind == "no_input" {
			noInput++
		}
	}
	if noInput != 2 {
		t.Errorf("%d no-input events before the keypad list, want 2", noInput)
	}
}
