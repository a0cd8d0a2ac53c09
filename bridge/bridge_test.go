package bridge

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/dtmf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// leg stands for a call's media: the test pushes frames into its sink
// (what the far end says) and reads what the bridge plays to it.
type leg struct {
	id     string
	rate   int
	digits chan dtmf.Digit
	done   chan struct{}
	once   sync.Once

	mu   sync.Mutex
	sink func(audio.Frame)
	src  audio.Source
	sent []byte // keys sent to the far end
}

func newLeg(id string, rate int) *leg {
	return &leg{id: id, rate: rate, digits: make(chan dtmf.Digit, 4), done: make(chan struct{})}
}

func (l *leg) ID() string { return l.id }
func (l *leg) SetSink(f func(audio.Frame)) {
	l.mu.Lock()
	l.sink = f
	l.mu.Unlock()
}
func (l *leg) Play(s audio.Source) <-chan struct{} {
	l.mu.Lock()
	l.src = s
	l.mu.Unlock()
	return make(chan struct{})
}
func (l *leg) StopPlayback() {
	l.mu.Lock()
	l.src = nil
	l.mu.Unlock()
}
func (l *leg) Digits() <-chan dtmf.Digit { return l.digits }
func (l *leg) Done() <-chan struct{}     { return l.done }
func (l *leg) SampleRate() int           { return l.rate }
func (l *leg) Hangup(context.Context) error {
	l.once.Do(func() { close(l.done) })
	return nil
}
func (l *leg) SendDTMF(k byte) bool {
	l.mu.Lock()
	l.sent = append(l.sent, k)
	l.mu.Unlock()
	return true
}

// say delivers a 20 ms tone frame from the far end.
func (l *leg) say(freq float64, n int) {
	l.mu.Lock()
	sink := l.sink
	l.mu.Unlock()
	for k := 0; k < n; k++ {
		s := make([]int16, l.rate/50)
		for i := range s {
			s[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(k*len(s)+i)/float64(l.rate)))
		}
		if sink != nil {
			sink(audio.Frame{Rate: l.rate, Samples: s})
		}
	}
}

// heard drains what the bridge plays to this leg.
func (l *leg) heard() []int16 {
	l.mu.Lock()
	src := l.src
	l.mu.Unlock()
	if src == nil {
		return nil
	}
	var out []int16
	buf := make([]int16, 160)
	for {
		n, err := src.ReadPCM(buf)
		out = append(out, buf[:n]...)
		if n == 0 || err != nil {
			return out
		}
	}
}

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(s), 1)))
}

func TestConnectCarriesAudioAcrossRatesAndKeys(t *testing.T) {
	caller := newLeg("caller", 8000) // G.711
	agent := newLeg("agent", 16000)  // a browser at 16 kHz
	first := make(chan Leg, 1)
	go func() { first <- Connect(context.Background(), caller, agent) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		caller.mu.Lock()
		ready := caller.sink != nil && caller.src != nil
		caller.mu.Unlock()
		agent.mu.Lock()
		ready = ready && agent.sink != nil && agent.src != nil
		agent.mu.Unlock()
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bridge did not connect the legs")
		}
		time.Sleep(time.Millisecond)
	}
	caller.say(440, 5)
	agent.say(1000, 5)
	toAgent, toCaller := agent.heard(), caller.heard()
	// 100 ms of the caller at 8 kHz reach the agent as ~100 ms at 16 kHz
	// (less the resampler's delay), loud; and the other way round.
	if len(toAgent) < 1400 || rms(toAgent) < 3000 {
		t.Errorf("agent heard %d samples at rms %.0f", len(toAgent), rms(toAgent))
	}
	if len(toCaller) < 700 || rms(toCaller) < 3000 {
		t.Errorf("caller heard %d samples at rms %.0f", len(toCaller), rms(toCaller))
	}
	caller.digits <- dtmf.Digit{Key: '5'}
	agent.digits <- dtmf.Digit{Key: '#'}
	time.Sleep(50 * time.Millisecond)
	agent.Hangup(context.Background())
	if got := <-first; got != Leg(agent) {
		t.Errorf("first to end %v, want the agent", got)
	}
	if string(agent.sent) != "5" || string(caller.sent) != "#" {
		t.Errorf("keys: agent got %q, caller got %q", agent.sent, caller.sent)
	}
	if caller.sink != nil || agent.sink != nil || caller.src != nil {
		t.Error("the bridge left sinks or sources installed")
	}
}

func TestConnectEndsWithContext(t *testing.T) {
	a, b := newLeg("a", 8000), newLeg("b", 8000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Leg, 1)
	go func() { done <- Connect(ctx, a, b) }()
	cancel()
	select {
	case got := <-done:
		if got != nil {
			t.Errorf("ended by %v, want nil (the context)", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the bridge outlived its context")
	}
}
