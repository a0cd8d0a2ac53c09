package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/models"
)

const queueYAML = `
line: {name: Acme support}
prompts:
  items:
    welcome: {text: "Welcome to Acme."}
    rate: {text: "Please rate your call from 1 to 5."}
    bye: {text: "Goodbye."}
flow:
  start: welcome
  nodes:
    welcome: {type: say, prompt: welcome, next: wait}
    wait: {type: queue, queue: support, next: survey}
    survey: {type: survey, prompt: rate, timeout: 2s, retries: 0, next: bye, on_failure: bye}
    bye: {type: hangup, prompt: bye}
agents:
  alice: {password: alice-secret}
  bob: {uri: "sip:bob@127.0.0.1:%d"}
queues:
  support:
    strategy: longest_idle
    members: [alice, bob]
    ring_timeout: 10s
    wrap_up: 1s
    announce_every: 30s
    handle_time: 60s
    last_agent_wait: 30s
    callback: {key: "1", uri: "sip:{{number}}@127.0.0.1:%d", attempts: 2, retry_after: 5s}
`

// agentSipp runs a SIPp agent that answers n calls, talks for talk and
// hangs up first.
func agentSipp(ctx context.Context, t *testing.T, port, n int, talk time.Duration) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := sipp(ctx, t, "agent_answer.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-mp", fmt.Sprint(mediaPort(t)),
		"-rtp_echo", "-m", fmt.Sprint(n), "-d", fmt.Sprint(talk.Milliseconds()), "-timeout", "120s")
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	return cmd, done
}

// record finds the record of the call from caller that started after since.
func record(recs []models.CallRecord, caller string, since time.Time) *models.CallRecord {
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if strings.Contains(r.From, "sip:"+caller+"@") && !r.StartedAt.Before(since) {
			return &recs[i]
		}
	}
	return nil
}

// waitFor polls the records until f finds what it wants.
func (s *server) waitFor(t *testing.T, what string, d time.Duration, f func([]models.CallRecord) bool) []models.CallRecord {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		recs := s.calls(t)
		if f(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; records: %+v", what, recs)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestQueueThreeCallersTwoAgents is issue 9's "done when" over SIP: two
// agents (alice's phone registers with digest auth, bob has a static
// URI) and three callers. The third caller hears where they stand, asks
// for a callback, hangs up, and is called back and bridged when an agent
// frees up; a returning caller reaches their last agent; the queue
// statistics are in `ivr calls --json`.
func TestQueueThreeCallersTwoAgents(t *testing.T) {
	alicePort, bobPort, customerPort := freePort(t), freePort(t), freePort(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ivr.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(queueYAML, bobPort, customerPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startIVR(t, cfg)
	ivrAddr := fmt.Sprintf("127.0.0.1:%d", s.sipPort)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	// bob answers the first caller, the callback and the returning caller;
	// alice the second caller. Each talks for 15 s and hangs up first.
	_, bobDone := agentSipp(ctx, t, bobPort, 3, 15*time.Second)
	_, aliceDone := agentSipp(ctx, t, alicePort, 1, 15*time.Second)
	start := time.Now()
	caller := func(scenario, number string) chan error {
		cmd := sipp(ctx, t, scenario, "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(t)), "-mp", fmt.Sprint(mediaPort(t)),
			"-rtp_echo", "-key", "caller", number, "-s", "support", ivrAddr)
		done := make(chan error, 1)
		go func() {
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%s as %s: %v\n%s", scenario, number, err, tail(string(out), 1500))
			}
			done <- err
		}()
		return done
	}
	answeredBy := func(number string) string {
		var agent string
		s.waitFor(t, number+" answered", 30*time.Second, func(recs []models.CallRecord) bool {
			r := record(recs, number, start)
			if r != nil && r.Queue != nil && r.Queue.Agent != "" {
				agent = r.Queue.Agent
				return true
			}
			return false
		})
		return agent
	}

	// Caller 1 arrives while only bob can ring.
	c1 := caller("queue_caller.xml", "447700900001")
	if a := answeredBy("447700900001"); a != "bob" {
		t.Fatalf("caller 1 answered by %q, want bob (alice is not registered yet)", a)
	}
	// alice's phone registers (digest auth); caller 2 gets her.
	reg := sipp(ctx, t, "agent_register.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(t)),
		"-key", "user", "alice", "-au", "alice", "-ap", "alice-secret", "-key", "contact_port", fmt.Sprint(alicePort), ivrAddr)
	runSipp(t, reg)
	time.Sleep(600 * time.Millisecond) // the queues look at registrations every 250 ms
	c2 := caller("queue_caller.xml", "447700900002")
	if a := answeredBy("447700900002"); a != "alice" {
		t.Fatalf("caller 2 answered by %q, want alice", a)
	}
	// Caller 3 waits: both agents are busy. They hear their position and
	// the expected wait, press 1 for a callback, confirm with 1, and the
	// IVR says goodbye.
	customer := sipp(ctx, t, "agent.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(customerPort), "-mp", fmt.Sprint(mediaPort(t)),
		"-rtp_echo", "-timeout", "120s")
	customerDone := make(chan error, 1)
	if err := customer.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { customerDone <- customer.Wait() }()
	c3 := caller("queue_callback.xml", "447700900003")
	for i, ch := range []chan error{c1, c2, c3} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("caller %d: %v", i+1, err)
			}
		case <-ctx.Done():
			t.Fatalf("caller %d did not finish", i+1)
		}
	}
	recs := s.calls(t)
	r3 := record(recs, "447700900003", start)
	if r3 == nil || r3.Queue == nil {
		t.Fatalf("no queue record for caller 3: %+v", recs)
	}
	if q := r3.Queue; q.Outcome != models.QueueCalledBack || q.Position != 1 || q.Callback == nil ||
		q.Callback.Number != "447700900003" || q.Announcements < 1 || q.WaitMS < 2000 {
		t.Errorf("caller 3's queue stats %+v (callback %+v), want callback requested at position 1 after an announcement", q, q.Callback)
	}
	if r3.EndReason != models.EndCallbackRequested {
		t.Errorf("caller 3 ended %q", r3.EndReason)
	}
	announced := false
	for _, e := range r3.Events {
		announced = announced || e.Kind == "prompt" && strings.Contains(e.Text, "You are next in the queue") &&
			strings.Contains(e.Text, "expected wait is")
	}
	if !announced {
		t.Errorf("caller 3 heard no position and wait announcement: %+v", r3.Events)
	}
	if r3.Media == nil || r3.Media.InPeakDBFS < -40 {
		t.Errorf("caller 3 media %+v: the echo of music and announcements should be loud", r3.Media)
	}
	for _, n := range []string{"447700900001", "447700900002"} {
		r := record(recs, n, start)
		if r == nil || r.Queue == nil || r.Queue.Outcome != models.QueueAnswered || !r.Queue.AgentHungUp || r.Queue.TalkMS < 13000 {
			t.Errorf("caller %s queue stats %+v", n, r.Queue)
			continue
		}
		if !equalPath(r.Path, []string{"welcome", "wait", "survey", "bye"}) {
			t.Errorf("caller %s path %v: the agent hung up first, so the survey follows", n, r.Path)
		}
	}

	// The callback: bob frees up first, is reserved, the IVR calls the
	// customer back and bridges them.
	select {
	case err := <-customerDone:
		if err != nil {
			t.Errorf("the called-back customer: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("caller 3 was never called back and bridged")
	}
	recs = s.waitFor(t, "the callback record", 15*time.Second, func(recs []models.CallRecord) bool {
		for _, r := range recs {
			if r.Queue != nil && r.Queue.CallbackOf == r3.CallID && r.EndedAt != nil {
				return true
			}
		}
		return false
	})
	var cb *models.CallRecord
	for i := range recs {
		if recs[i].Queue != nil && recs[i].Queue.CallbackOf == r3.CallID {
			cb = &recs[i]
		}
	}
	if q := cb.Queue; q.Outcome != models.QueueAnswered || q.Agent != "bob" || q.TalkMS < 13000 {
		t.Errorf("callback stats %+v, want answered by bob", q)
	}
	if !strings.Contains(cb.To, "447700900003") {
		t.Errorf("callback dialled %q", cb.To)
	}

	// Caller 1 calls again: alice has been idle longest, but caller 1
	// goes to bob, whom they spoke to last.
	again := time.Now()
	c1b := caller("queue_caller.xml", "447700900001")
	if err := <-c1b; err != nil {
		t.Errorf("returning caller: %v", err)
	}
	r := record(s.calls(t), "447700900001", again)
	if r == nil || r.Queue == nil || r.Queue.LastAgent != "bob" || r.Queue.Agent != "bob" {
		t.Errorf("returning caller's stats %+v, want last agent bob and answered by bob", r)
	}
	// The queue's statistics over the records.
	out, err := exec.Command(ivrBin, "calls", "--data-dir", s.dataDir, "--queues", "--json").Output()
	if err != nil {
		t.Fatalf("ivr calls --queues: %v", err)
	}
	var stats []struct {
		Queue                      string
		Calls, Answered, Abandoned int
		Requested                  int            `json:"callbacks_requested"`
		Placed                     int            `json:"callbacks_placed"`
		AnsweredCB                 int            `json:"callbacks_answered"`
		ByAgent                    map[string]int `json:"by_agent"`
	}
	if err := json.Unmarshal(out, &stats); err != nil || len(stats) != 1 {
		t.Fatalf("ivr calls --queues --json: %v\n%s", err, out)
	}
	if st := stats[0]; st.Queue != "support" || st.Calls != 4 || st.Answered != 3 || st.Abandoned != 0 || st.Requested != 1 ||
		st.Placed != 1 || st.AnsweredCB != 1 || st.ByAgent["bob"] != 3 || st.ByAgent["alice"] != 1 {
		t.Errorf("queue statistics %s", out)
	}
	for name, ch := range map[string]chan error{"bob": bobDone, "alice": aliceDone} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("agent %s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("agent %s still has calls to take", name)
		}
	}
}

// TestQueueBusyAgentIsSkipped: the first agent's phone answers 486 Busy
// Here; the queue rings the next one, who answers.
func TestQueueBusyAgentIsSkipped(t *testing.T) {
	davePort, bobPort := freePort(t), freePort(t)
	cfg := filepath.Join(t.TempDir(), "ivr.yaml")
	yaml := fmt.Sprintf(`
prompts: {items: {bye: {text: "Goodbye."}}}
flow:
  start: wait
  nodes:
    wait: {type: queue, queue: support, on_timeout: bye}
    bye: {type: hangup, prompt: bye}
agents:
  dave: {uri: "sip:dave@127.0.0.1:%d"}
  bob: {uri: "sip:bob@127.0.0.1:%d"}
queues:
  support: {strategy: sequential, members: [dave, bob], retry: 1s, max_wait: 30s}
`, davePort, bobPort)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startIVR(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dave := sipp(ctx, t, "agent_busy.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(davePort), "-timeout", "50s")
	daveDone := make(chan error, 1)
	if err := dave.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { daveDone <- dave.Wait() }()
	_, bobDone := agentSipp(ctx, t, bobPort, 1, 2*time.Second)
	caller := sipp(ctx, t, "queue_caller.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(t)), "-mp", fmt.Sprint(mediaPort(t)),
		"-rtp_echo", "-key", "caller", "447700900009", "-s", "support", fmt.Sprintf("127.0.0.1:%d", s.sipPort))
	runSipp(t, caller)
	for name, ch := range map[string]chan error{"dave (busy)": daveDone, "bob": bobDone} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s was never rung", name)
		}
	}
	r := s.waitEnded(t, 1)[0]
	if r.Queue == nil || r.Queue.Outcome != models.QueueAnswered || r.Queue.Agent != "bob" || !r.Queue.AgentHungUp {
		t.Errorf("queue stats %+v: dave was busy, bob should have answered", r.Queue)
	}
}
