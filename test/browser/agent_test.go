package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/models"
)

// The agent test's line: the caller says what they want (the bank's
// intents), hears "please hold", and waits in the "cards" queue, whose
// only member is alice, who answers in the agent page.
const agentLineYAML = `
line:
  name: Example Bank

speech:
  engine: sphinx
  end_silence: 500ms

tts:
  engine: embedded
  voice: flite/kal16

webrtc:
  calls_per_minute: 600
  call_burst: 50

admin:
  token: agent-test-admin-token

intents:
  - name: check_balance
    description: check your balance
    examples: [check my balance, what is my balance, how much money do I have, balance please]
  - name: lost_card
    description: report a lost or stolen card
    examples: [I lost my card, my card was stolen, I can't find my card, block my card, lost card]

prompts:
  items:
    welcome:
      text: Welcome to Example Bank. In a few words, tell me what you are calling about.
    hold:
      text: Thank you. Please hold for the next available person.
    sorry:
      text: Sorry, I could not help you. Goodbye.

flow:
  start: main
  escape:
    key: "0"
    node: hold
  nodes:
    main:
      type: menu
      prompt: welcome
      timeout: 8s
      reprompts: 1
      options:
        - {key: "1", intent: check_balance, goto: hold}
        - {key: "2", intent: lost_card, goto: hold}
      on_failure: sorry
    hold:
      type: say
      prompt: hold
      next: cards
    cards:
      type: queue
      queue: cards
    sorry:
      type: hangup
      prompt: sorry

agents:
  alice:
    name: Alice Smith
    password: alice-secret-pw

queues:
  cards:
    members: [alice]
    ring_timeout: 40s
    wrap_up: 2s
    announce_every: 30s
`

// Tones that tell the two microphones apart in what each side hears.
const (
	callerToneHz = 1000
	agentToneHz  = 660
	// callerToneAt is when the caller's microphone starts its tone, well
	// after the request and the menu, so the recognizer hears only words.
	callerToneAt = 14 * time.Second
)

// TestAgentPageInChromium serves a line with a queue by `ivr serve` and
// runs agent.test.mjs: the agent signs in to the agent page in one
// Chromium, goes available in the browser; a caller calls with the widget
// from another Chromium (its microphone says "I lost my card", then plays
// a tone), reaches the queue; the agent page shows the screen pop,
// answers; each side hears the other's tone; the agent hangs up. Then
// the call record (GET /api/calls) must hold the queue's statistics with
// alice as the agent.
func TestAgentPageInChromium(t *testing.T) {
	chromium, node, out, ivr := browserSetup(t)
	tmp := t.TempDir()
	start := time.Now()

	callerMic, agentMic := filepath.Join(tmp, "caller.wav"), filepath.Join(tmp, "agent.wav")
	agentCallerAudio(t, ivr, callerMic)
	writePulses(t, agentMic, 0, agentToneHz, 60*time.Second)

	cfg := filepath.Join(tmp, "agent-line.yaml")
	if err := os.WriteFile(cfg, []byte(agentLineYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, ivr, cfg, filepath.Join(tmp, "data"), filepath.Join(out, "ivr-agent.log"))
	start = time.Now()
	srv.waitReady(t)
	t.Logf("ivr serve (agent line) ready: %v", time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-concurrency=1", "agent.test.mjs")
	cmd.Env = append(os.Environ(),
		"IVR_URL="+srv.url,
		"CALLER_MIC="+callerMic,
		"AGENT_MIC="+agentMic,
		"CALLER_TONE_HZ="+strconv.Itoa(callerToneHz),
		"AGENT_TONE_HZ="+strconv.Itoa(agentToneHz),
		"AGENT=alice",
		"AGENT_NAME=Alice Smith",
		"AGENT_PASSWORD=alice-secret-pw",
		"ADMIN_TOKEN=agent-test-admin-token",
		"CHROMIUM="+chromium,
		"OUT_DIR="+out,
	)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start = time.Now()
	err := cmd.Run()
	t.Logf("node --test agent.test.mjs (%v):\n%s", time.Since(start).Round(time.Millisecond), buf.String())
	if err != nil {
		t.Errorf("browser test failed: %v (IVR log: %s)", err, srv.logPath)
	}

	// The call record, from the running server: the queue's statistics
	// name alice as the agent who answered and hung up.
	var rec *models.CallRecord
	deadline := time.Now().Add(20 * time.Second)
	for rec == nil && time.Now().Before(deadline) {
		for _, r := range apiCalls(t, srv.url) {
			if r.Queue != nil && r.EndedAt != nil {
				rec = &r
				break
			}
		}
		if rec == nil {
			time.Sleep(250 * time.Millisecond)
		}
	}
	srv.stop(t)
	if rec == nil {
		t.Fatalf("no ended call record with queue statistics in GET /api/calls (log %s)", srv.logPath)
	}
	b, _ := json.Marshal(rec.Queue)
	t.Logf("call %s: path %v vars %v end %s queue %s", rec.CallID, rec.Path, rec.Vars, rec.EndReason, b)
	q := rec.Queue
	if rec.Channel != "webrtc" || q.Queue != "cards" || q.Outcome != models.QueueAnswered || q.Agent != "alice" {
		t.Errorf("record: channel %q queue %q outcome %q agent %q, want webrtc, cards, answered by alice", rec.Channel, q.Queue, q.Outcome, q.Agent)
	}
	if !q.AgentHungUp || q.TalkMS < 1000 || q.Position != 1 {
		t.Errorf("queue stats: agent hung up %v, talk %d ms, position %d; want the agent's hang-up after a conversation, first in line", q.AgentHungUp, q.TalkMS, q.Position)
	}
	if !slices.Contains(rec.Path, "cards") {
		t.Errorf("path %v does not reach the queue", rec.Path)
	}
}

// apiCalls reads the records from GET /api/calls.
func apiCalls(t *testing.T, base string) []models.CallRecord {
	t.Helper()
	res, err := http.Get(base + "/api/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var recs []models.CallRecord
	if err := json.NewDecoder(res.Body).Decode(&recs); err != nil {
		t.Fatalf("GET /api/calls: %v", err)
	}
	return recs
}

// agentCallerAudio writes the caller's microphone: silence, the request
// in the caller's voice, silence until callerToneAt, then tone pulses.
func agentCallerAudio(t *testing.T, ivr, path string) {
	t.Helper()
	words := filepath.Join(filepath.Dir(path), "caller-words.wav")
	run(t, filepath.Dir(path), ivr, "say", callerSays, "--voice", callerVoice, "--rate", "16000", "-o", words)
	clip, err := audio.ReadWAVFile(words)
	if err != nil {
		t.Fatal(err)
	}
	const rate = audio.Rate16k
	pcm := slices.Concat(make([]int16, audio.SamplesPer(rate, callerLead)), audio.Resample(clip.Samples, clip.Rate, rate))
	if n := audio.SamplesPer(rate, callerToneAt); len(pcm) < n {
		pcm = append(pcm, make([]int16, n-len(pcm))...)
	} else {
		t.Fatalf("the request lasts past %v", callerToneAt)
	}
	pcm = append(pcm, pulses(rate, callerToneHz, 60*time.Second)...)
	if err := audio.WriteWAVFile(path, audio.Clip{Rate: rate, Samples: pcm}); err != nil {
		t.Fatal(err)
	}
}

// writePulses writes lead silence then d of tone pulses at hz.
func writePulses(t *testing.T, path string, lead time.Duration, hz float64, d time.Duration) {
	t.Helper()
	const rate = audio.Rate16k
	pcm := slices.Concat(make([]int16, audio.SamplesPer(rate, lead)), pulses(rate, hz, d))
	if err := audio.WriteWAVFile(path, audio.Clip{Rate: rate, Samples: pcm}); err != nil {
		t.Fatal(err)
	}
}

// pulses is a tone at hz switched on for 400 ms and off for 100 ms, so
// the browser's noise suppression does not take it for steady noise.
func pulses(rate int, hz float64, d time.Duration) []int16 {
	pcm := make([]int16, audio.SamplesPer(rate, d))
	period, on := rate/2, rate*2/5
	ramp := rate / 100 // 10 ms fades: no clicks
	for i := range pcm {
		k := i % period
		if k >= on {
			continue
		}
		g := 1.0
		if k < ramp {
			g = float64(k) / float64(ramp)
		} else if on-k < ramp {
			g = float64(on-k) / float64(ramp)
		}
		pcm[i] = int16(g * 9000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return pcm
}
