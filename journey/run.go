package journey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/speech"
)

// Options configure how journeys run.
type Options struct {
	// Audio runs the journey over a loopback SIP call through the whole
	// media pipeline; Prompts, Ears and Speak are then required.
	Audio bool
	// Prompts render the line's prompts (audio mode).
	Prompts dialog.Prompts
	// Ears open the line's recognizer per call (audio mode).
	Ears dialog.Ears
	// Speak synthesizes the caller's words at a rate (audio mode), in a
	// voice other than the IVR's.
	Speak func(ctx context.Context, text string, rate int) (audio.Clip, error)
	// Timeout bounds one journey. Default 30 s in text mode, 5 min in audio.
	Timeout time.Duration
	// TurnTimeout bounds how long the caller waits for the IVR to ask
	// for something. Default 20 s in text mode, 90 s in audio.
	TurnTimeout time.Duration
	// Logger receives the engine's logs. Default: discarded.
	Logger *slog.Logger
}

// Result is how a journey went.
type Result struct {
	Journey  *Journey
	Failures []string
	Record   *models.CallRecord
	Requests []Request
	Transfer *dialog.Target
	Took     time.Duration
}

// Passed reports whether every expectation held.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

func (r *Result) failf(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// caller is the scripted caller's side of the call.
type caller interface {
	say(ctx context.Context, text string) error
	press(ctx context.Context, keys string) error
	silence()
	hangup()
}

// Run plays one journey against cfg. It points cfg's backends and
// webhooks at the journey's stand-in server, so cfg must be a fresh load
// used for this journey only.
func Run(ctx context.Context, cfg *config.Config, j *Journey, o Options) (*Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
		if o.Audio {
			o.Timeout = 5 * time.Minute
		}
	}
	if o.TurnTimeout == 0 {
		o.TurnTimeout = 20 * time.Second
		if o.Audio {
			o.TurnTimeout = 90 * time.Second
		}
	}
	if o.Audio && (o.Prompts == nil || o.Ears == nil || o.Speak == nil) {
		return nil, errors.New("journey: audio mode needs prompts, a recognizer and a voice for the caller")
	}
	for name := range j.Backends {
		if _, ok := cfg.Backends[name]; !ok {
			return nil, &Error{j.File, 0, fmt.Sprintf("backends: %q is not a backend of the line", name)}
		}
	}
	st, err := newStub(j.Backends)
	if err != nil {
		return nil, err
	}
	defer st.close()
	redirect(cfg, st)

	loc := time.Local
	if s := cfg.Schedule(); s != nil {
		loc = s.Location()
	}
	start, err := j.start(loc)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	now := func() time.Time { return start.Add(time.Since(t0)) }

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	events := make(chan models.Event, 4096)
	recs := &memRecords{}
	agent := &standIn{outcome: j.TransferOutcome}
	eo := dialog.Options{Records: recs, Transfers: agent, Logger: o.Logger, Now: now, Queues: standInQueues{j.QueueOutcome},
		OnEvent: func(_ string, e models.Event) {
			select {
			case events <- e:
			default:
			}
		}}
	if len(j.Announcements) > 0 {
		eo.Announcer = fixedAnnouncements(j.Announcements)
	}
	res := &Result{Journey: j}
	var c caller
	var done <-chan struct{}
	if o.Audio {
		eo.Prompts, eo.Ears = o.Prompts, o.Ears
		e, err := dialog.NewEngine(cfg, eo)
		if err != nil {
			return nil, err
		}
		ac, d, err := dialAudio(ctx, e, j.Caller, o)
		if err != nil {
			return nil, err
		}
		defer ac.close()
		c, done = ac, d
	} else {
		clf, err := dialog.TrainClassifier(cfg)
		if err != nil {
			return nil, fmt.Errorf("intents: %w", err)
		}
		var sc speech.Classifier
		if clf != nil {
			sc = clf
		}
		tc := newTextCall(j.Caller, sc)
		eo.Prompts = textPrompts{cfg}
		eo.Ears = func(context.Context, int) (dialog.Listener, error) { return tc.ears, nil }
		e, err := dialog.NewEngine(cfg, eo)
		if err != nil {
			return nil, err
		}
		d := make(chan struct{})
		go func() { defer close(d); e.Run(ctx, tc) }()
		c, done = tc, d
	}
	res.Took = run(ctx, res, c, done, events, j, o)
	// However the script went, the call ends before its record is read.
	c.hangup()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		res.failf("the call did not end within 15 s of the caller hanging up")
	}
	res.Record = recs.last()
	res.Requests = st.requests()
	res.Transfer = agent.target()
	if res.Record == nil {
		res.failf("no call record")
		return res, nil
	}
	check(res, j)
	return res, nil
}

// redirect points the line's backends and webhooks at the stand-in.
func redirect(cfg *config.Config, st *stub) {
	for name, b := range cfg.Backends {
		b.URL = st.BackendURL(name)
		cfg.Backends[name] = b
	}
	if cfg.ScreenPop != nil {
		cfg.ScreenPop.URL = st.WebhookURL("screen_pop")
	}
	for _, n := range cfg.Flow.Nodes {
		if n != nil && n.Notify != nil {
			n.Notify.URL = st.WebhookURL(n.Type)
		}
	}
}

// run drives the steps: each action waits until the IVR waits for the
// caller; hear checks what was said since the last action. After the
// last step, the caller hangs up as soon as the IVR waits again.
func run(ctx context.Context, res *Result, c caller, done <-chan struct{}, events <-chan models.Event, j *Journey, o Options) time.Duration {
	start := time.Now()
	var since []string // prompts since the last action
	ready := false     // the IVR is waiting for the caller
	ended := false
	untilTurn := func() error {
		timer := time.NewTimer(o.TurnTimeout)
		defer timer.Stop()
		for {
			select {
			case e := <-events:
				switch e.Kind {
				case "prompt":
					since = append(since, e.Text)
				case "wait":
					ready = true
					return nil
				}
			case <-done:
				ended = true
				// What was said before the end is already queued.
				for {
					select {
					case e := <-events:
						if e.Kind == "prompt" {
							since = append(since, e.Text)
						}
					default:
						return nil
					}
				}
			case <-timer.C:
				return fmt.Errorf("the IVR did not wait for the caller within %s", o.TurnTimeout)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	for i, st := range j.Steps {
		where := fmt.Sprintf("step %d (line %d)", i+1, st.line)
		if !ready && !ended {
			if err := untilTurn(); err != nil {
				res.failf("%s: %v", where, err)
				return time.Since(start)
			}
		}
		if st.Hear != "" {
			if !containsAny(since, st.Hear) {
				res.failf("%s: did not hear %q; heard %q", where, st.Hear, since)
			}
			continue
		}
		if ended {
			if st.Silence || st.Hangup {
				continue // the IVR stopped waiting: what staying silent or leaving would have brought
			}
			res.failf("%s: the call ended before the caller could act", where)
			return time.Since(start)
		}
		var err error
		switch {
		case st.Say != "":
			err = c.say(ctx, st.Say)
		case st.Press != "":
			err = c.press(ctx, st.Press)
		case st.Silence:
			c.silence()
		case st.Hangup:
			c.hangup()
		}
		if err != nil {
			res.failf("%s: %v", where, err)
			return time.Since(start)
		}
		ready, since = false, nil
	}
	// The script is over: wait for the call to end, hanging up if the IVR
	// asks for more.
	for !ended {
		if err := untilTurn(); err != nil {
			res.failf("after the last step: %v", err)
			break
		}
		if !ended {
			c.hangup()
			<-done
			ended = true
		}
	}
	return time.Since(start)
}

func containsAny(texts []string, want string) bool {
	w := strings.ToLower(want)
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), w) {
			return true
		}
	}
	return false
}

// memRecords keeps the call's record in memory.
type memRecords struct {
	mu  sync.Mutex
	rec *models.CallRecord
}

func (m *memRecords) Save(_ context.Context, r *models.CallRecord) error {
	cp := *r
	cp.Path = append([]string(nil), r.Path...)
	cp.Events = append([]models.Event(nil), r.Events...)
	cp.Vars = make(map[string]string, len(r.Vars))
	for k, v := range r.Vars {
		cp.Vars[k] = v
	}
	m.mu.Lock()
	m.rec = &cp
	m.mu.Unlock()
	return nil
}

func (m *memRecords) last() *models.CallRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rec
}

// standIn answers transfers in place of the agents (test only).
type standIn struct {
	outcome string
	mu      sync.Mutex
	last    *dialog.Target
}

func (s *standIn) Transfer(ctx context.Context, c dialog.Call, t dialog.Target) (dialog.TransferResult, error) {
	s.mu.Lock()
	cp := t
	s.last = &cp
	s.mu.Unlock()
	switch s.outcome {
	case "busy":
		return dialog.TransferResult{Method: t.Method, Outcome: "busy"}, errors.New("486 Busy Here (journey stand-in)")
	case "no_answer":
		return dialog.TransferResult{Method: t.Method, Outcome: "no_answer"}, errors.New("no answer (journey stand-in)")
	}
	return dialog.TransferResult{Method: t.Method, Outcome: "answered", CallerLeft: true, EndReason: models.EndTransferred}, nil
}

func (s *standIn) target() *dialog.Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// fixedAnnouncements are the journey's announcements, on for its call.
type fixedAnnouncements map[string]string

func (f fixedAnnouncements) Active() []models.Announcement {
	var out []models.Announcement
	for name, text := range f {
		out = append(out, models.Announcement{Name: name, Text: text, Active: true})
	}
	return out
}
