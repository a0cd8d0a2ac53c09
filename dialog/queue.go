package dialog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/bridge"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/speech"
)

// Queues puts callers in queues for agents (package acd is one, through
// a small adapter).
type Queues interface {
	Join(ctx context.Context, queue string, pop models.ScreenPop, priority int) (QueueTicket, error)
}

// QueueTicket is a caller's place in a queue.
type QueueTicket interface {
	ID() string
	JoinPosition() int
	VIP() bool
	LastAgent() string
	// Position is the place now (1 = next); EstimatedWait 0 when unknown.
	Position() int
	EstimatedWait() time.Duration
	// Staffed reports whether any agent of the queue is signed in.
	Staffed() bool
	// Ready closes when an agent answered (Agent returns their leg) or
	// the ticket ended (Agent returns a nil leg).
	Ready() <-chan struct{}
	Agent() (string, bridge.Leg)
	Leave(outcome string)
	Callback(number string) (*models.QueueCallback, error)
	// CallerReady tells a callback's ticket the caller answered.
	CallerReady(callID string)
	Finish(agentHungUp bool)
}

// HoldPlayer is music on hold that announcements interrupt at natural
// breaks (package hold).
type HoldPlayer interface {
	audio.Source
	// Announce plays clip at the next natural break (urgent: the next
	// quiet moment) and closes the channel when it has played.
	Announce(clip audio.Clip, urgent bool) <-chan struct{}
	// Pending counts the announcements waiting or playing.
	Pending() int
	Stop()
}

// Hold makes a music-on-hold player for tracks at rate.
type Hold func(tracks []string, rate int) HoldPlayer

// Built-in wording of queues.
const (
	textQueuePosition  = "You are number %s in the queue."
	textQueueNext      = "You are next in the queue."
	textQueueWait      = " The expected wait is %s."
	textQueueCallback  = " To be called back without losing your place, press %s, or say call me back."
	textQueueNoAgents  = "Sorry, no one is available to take your call right now."
	textQueueCBDone    = "Thank you. You keep your place in the queue, and we will call you back on %s. Goodbye."
	textQueueCBFail    = "Sorry, we cannot call you back right now. Please stay on the line."
	textQueueAlready   = "You are waiting for the next available person."
	textCallbackIntro  = "Hello. This is %s, calling you back as you asked. Please hold while we connect you."
	textCallbackAgents = "Please hold. We are connecting you to the next available person."
)

// firstAnnouncement is when a waiting caller first hears where they
// stand; overridePoll is how often the wait looks for a newly switched-on
// override message. Variables for tests.
var (
	firstAnnouncement = 2 * time.Second
	overridePoll      = time.Second
)

// callbackPhrases ask for a callback in words.
var callbackPhrases = []string{"call me back", "callback", "call back", "ring me back", "phone me back"}

// queueNode is the state of one wait in a queue.
type queueNode struct {
	name   string
	n      *config.Node
	qc     *config.Queue
	t      QueueTicket
	stats  *models.QueueStats
	player HoldPlayer
}

// queue puts the caller in a queue with music and announcements until an
// agent answers, the caller asks to be called back, or the wait ends.
func (s *session) queue(name string, n *config.Node) (string, error) {
	qc := s.e.cfg.Queues[n.Queue]
	if s.e.queues == nil || qc == nil {
		s.event("queue", name, "no queue service")
		return s.queueGiveUp(name, n, models.QueueFailed)
	}
	if len(n.Prompt) > 0 {
		if err := s.play(name, n.Prompt); err != nil {
			return "", err
		}
	}
	t, err := s.e.queues.Join(s.ctx, n.Queue, s.screenPopFor(n.Queue), 0)
	if err != nil {
		s.log.Error("queue join failed", "queue", n.Queue, "err", err)
		return s.queueGiveUp(name, n, models.QueueFailed)
	}
	q := &queueNode{name: name, n: n, qc: qc, t: t, stats: &models.QueueStats{Queue: n.Queue, JoinedAt: s.e.now().UTC(),
		Position: t.JoinPosition(), VIP: t.VIP(), LastAgent: t.LastAgent()}}
	s.rec.Queue = q.stats
	s.event("queue_join", name, fmt.Sprintf("%s position %d", n.Queue, q.stats.Position))
	s.save()
	if qc.LeaveWhenEmpty && !t.Staffed() {
		t.Leave(models.QueueEmpty)
		s.queueEnded(q, models.QueueEmpty)
		return s.queueGiveUp(name, n, models.QueueEmpty)
	}
	return s.waitInQueue(q, true)
}

// waitInQueue plays music and announcements until the ticket is served
// or ended, then bridges to the agent.
func (s *session) waitInQueue(q *queueNode, offerCallback bool) (string, error) {
	t, qc := q.t, q.qc
	q.player = s.e.hold(s.e.cfg.Musics(qc), s.call.SampleRate())
	defer func() { q.player.Stop() }()
	s.call.Play(q.player)
	announce := time.NewTicker(qc.AnnounceEvery)
	defer announce.Stop()
	maxWait := time.NewTimer(qc.MaxWait - time.Since(q.stats.JoinedAt))
	defer maxWait.Stop()
	var events <-chan speech.Event
	if s.ears != nil && qc.Callback != nil && offerCallback {
		s.ears.SetHints(asr.Hints{Phrases: callbackPhrases})
		s.ears.Reset()
		events = s.ears.Events()
	}
	callbackKey := byte(0)
	if qc.Callback != nil && offerCallback {
		callbackKey = qc.Callback.Key[0]
	}
	// The first announcement comes soon (not at once: most waits end
	// in a moment when an agent is free), then every announce_every.
	first := time.NewTimer(firstAnnouncement)
	defer first.Stop()
	// An override switched on before the caller came was heard with the
	// announcements at the start of the call.
	overrideSince := s.overrideActive(qc)
	poll := time.NewTicker(overridePoll)
	defer poll.Stop()
	for {
		select {
		case <-s.ctx.Done():
			t.Leave(models.QueueFailed)
			s.queueEnded(q, models.QueueFailed)
			return "", s.ctx.Err()
		case <-s.call.Done():
			t.Leave(models.QueueAbandoned)
			s.queueEnded(q, models.QueueAbandoned)
			return "", errCallerGone
		case <-t.Ready():
			return s.queueConnect(q)
		case <-maxWait.C:
			if callbackKey != 0 && q.n.OnTimeout == "" {
				// The longest wait is over: offer the callback (the
				// caller keeps their place) rather than an apology.
				s.event("queue_max_wait", q.name, "callback offered")
				next, done, err := s.queueCallback(q)
				if err != nil || done {
					return next, err
				}
			}
			t.Leave(models.QueueTimeout)
			s.queueEnded(q, models.QueueTimeout)
			q.player.Stop()
			return s.queueGiveUp(q.name, q.n, models.QueueTimeout)
		case <-first.C:
			s.queueAnnounce(q, callbackKey != 0)
			announce.Reset(qc.AnnounceEvery)
		case <-announce.C:
			s.queueAnnounce(q, callbackKey != 0)
		case <-poll.C:
		case d := <-s.call.Digits():
			s.digit(d)
			switch {
			case callbackKey != 0 && d.Key == callbackKey:
				next, done, err := s.queueCallback(q)
				if err != nil || done {
					return next, err
				}
				s.call.Play(q.player)
			case s.isEscape(q.n, d.Key):
				q.player.Announce(s.sayClip(textQueueAlready), true)
			}
		case ev := <-events:
			if ev.Type != speech.Final || ev.Result.Text == "" {
				continue
			}
			s.heard(q.name, ev)
			if wantsCallback(ev.Result.Text) {
				next, done, err := s.queueCallback(q)
				if err != nil || done {
					return next, err
				}
				s.call.Play(q.player)
			}
		}
		// An override (an emergency message) plays once, at the next
		// natural break, when it is switched on during the wait.
		if now := s.overrideActive(qc); now != "" && now != overrideSince {
			overrideSince = now
			s.playOverride(q)
		}
	}
}

func wantsCallback(text string) bool {
	t := " " + strings.ToLower(text) + " "
	for _, p := range callbackPhrases {
		if strings.Contains(t, " "+p+" ") {
			return true
		}
	}
	return false
}

// sayClip synthesizes text for the call (nil clip on failure: the music
// just goes on).
func (s *session) sayClip(text string) audio.Clip {
	c, err := s.e.prompts.Say(s.ctx, text, s.call.SampleRate())
	if err != nil {
		s.log.Warn("queue announcement not synthesized", "err", err)
		return audio.Clip{Rate: s.call.SampleRate()}
	}
	return c
}

// queueAnnounce tells the caller their position and expected wait at
// the next natural break in the music. It is skipped while the last one
// has not played yet (no caller hears the same sentence twice in a row),
// and the sentence is synthesized off the call's goroutine, so an agent
// answering is never kept waiting by the synthesizer.
func (s *session) queueAnnounce(q *queueNode, offerCallback bool) {
	if q.player.Pending() > 0 {
		return
	}
	var b strings.Builder
	pos := q.t.Position()
	if pos <= 0 {
		return
	}
	if config.Bool(q.qc.AnnouncePosition, true) {
		if pos == 1 {
			b.WriteString(textQueueNext)
		} else {
			fmt.Fprintf(&b, textQueuePosition, fmt.Sprint(pos))
		}
	}
	if w := q.t.EstimatedWait(); w > 0 && config.Bool(q.qc.AnnounceWait, true) {
		fmt.Fprintf(&b, textQueueWait, waitWords(w))
	}
	if offerCallback {
		fmt.Fprintf(&b, textQueueCallback, keyWord(q.qc.Callback.Key))
	}
	text := strings.TrimSpace(b.String())
	if text == "" {
		return
	}
	q.stats.Announcements++
	s.event("prompt", q.name, text)
	player := q.player
	go func() { player.Announce(s.sayClip(text), false) }()
}

// waitWords says a wait the way people do: "about one minute", "about 4
// minutes", "less than a minute".
func waitWords(d time.Duration) string {
	m := int((d + 30*time.Second) / time.Minute)
	switch {
	case d < 45*time.Second:
		return "less than a minute"
	case m <= 1:
		return "about one minute"
	case m >= 60:
		h := (m + 15) / 60
		if h == 1 {
			return "about an hour"
		}
		return fmt.Sprintf("about %d hours", h)
	}
	return fmt.Sprintf("about %d minutes", m)
}

func keyWord(k string) string {
	switch k {
	case "*":
		return "star"
	case "#":
		return "hash"
	}
	return k
}

// overrideActive is the identity of the queue's override announcement
// while it is switched on ("" when off).
func (s *session) overrideActive(qc *config.Queue) string {
	if qc.Override == "" {
		return ""
	}
	for _, a := range s.activeAnnouncements() {
		if a.Name == qc.Override && a.Active {
			id := a.Name + "|" + a.Text
			if a.Since != nil {
				id += "|" + a.Since.String()
			}
			return id
		}
	}
	return ""
}

// playOverride plays the override announcement at the next natural break.
func (s *session) playOverride(q *queueNode) {
	for _, a := range s.activeAnnouncements() {
		if a.Name != q.qc.Override || !a.Active {
			continue
		}
		var clip audio.Clip
		switch {
		case a.Text != "":
			clip = s.sayClip(sayasSafe(a.Text))
		default:
			conf := s.e.cfg.Announcements[a.Name]
			for _, p := range conf.Prompt {
				c, err := s.e.prompts.Clip(s.ctx, p, s.call.SampleRate())
				if err != nil {
					s.log.Warn("override prompt", "prompt", p, "err", err)
					continue
				}
				clip.Rate = c.Rate
				clip.Samples = append(clip.Samples, c.Samples...)
			}
		}
		if len(clip.Samples) == 0 {
			return
		}
		s.event("announcement", q.name, a.Name)
		q.player.Announce(clip, false)
		return
	}
}

// queueCallback asks for the number to call back and turns the wait into
// a callback. done reports that the call is over (the caller keeps their
// place); otherwise the caller keeps waiting on the line.
func (s *session) queueCallback(q *queueNode) (next string, done bool, err error) {
	s.event("callback_request", q.name, "")
	q.player.Stop()
	q.player = s.e.hold(s.e.cfg.Musics(q.qc), s.call.SampleRate())
	s.call.StopPlayback()
	ask := &config.Node{Type: config.KindCollect, Timeout: 8 * time.Second}
	ask.Terminator, ask.InterDigitTimeout, ask.Var = "#", 3*time.Second, "callback_number"
	number, _, err := s.callbackNumber(q.name, ask)
	if err != nil {
		return "", false, err
	}
	if number == "" {
		s.event("callback_request", q.name, "no number; waiting on")
		return "", false, nil
	}
	cb, err := q.t.Callback(number)
	if err != nil {
		s.log.Warn("callback refused", "err", err)
		select {
		case <-q.t.Ready():
			// An agent answered meanwhile: the wait loop bridges.
			return "", false, nil
		default:
		}
		if _, err := s.turn(q.name, []segment{{text: textQueueCBFail}}, turnOpts{}); err != nil {
			return "", false, err
		}
		return "", false, nil
	}
	q.stats.Callback = cb
	s.rec.Vars["callback_number"] = number
	s.queueEnded(q, models.QueueCalledBack)
	s.event("callback", q.name, number)
	if _, err := s.turn(q.name, []segment{{text: fmt.Sprintf(textQueueCBDone, "{phone:"+number+"}")}}, turnOpts{}); err != nil {
		return "", true, err
	}
	s.setEnd(models.EndCallbackRequested)
	return "", true, nil
}

// queueConnect bridges the caller to the agent who answered.
func (s *session) queueConnect(q *queueNode) (string, error) {
	agentName, leg := q.t.Agent()
	if leg == nil {
		s.queueEnded(q, models.QueueFailed)
		return s.queueGiveUp(q.name, q.n, models.QueueFailed)
	}
	q.player.Stop()
	s.call.StopPlayback()
	q.stats.Agent = agentName
	s.queueEnded(q, models.QueueAnswered)
	s.event("agent", q.name, agentName)
	s.save()
	me, ok := s.call.(bridge.Leg)
	if !ok {
		leg.Hangup(context.Background())
		q.t.Finish(false)
		return "", fmt.Errorf("queue: a %s call cannot be bridged", s.call.Channel())
	}
	connected := s.e.now()
	first := bridge.Connect(s.ctx, me, leg)
	q.stats.TalkMS = s.e.now().Sub(connected).Milliseconds()
	agentHungUp := first == leg
	q.stats.AgentHungUp = agentHungUp
	if !agentHungUp {
		leg.Hangup(context.Background())
	}
	if c, ok := leg.(interface{ Close() }); ok {
		c.Close()
	}
	q.t.Finish(agentHungUp)
	s.event("agent_end", q.name, map[bool]string{true: "agent hung up", false: "caller hung up"}[agentHungUp])
	s.save()
	switch {
	case first == nil:
		return "", s.ctx.Err()
	case !agentHungUp:
		return "", errCallerGone
	}
	// The agent hung up first: the caller may stay for a survey.
	s.sinkSet = false
	s.ensureSink()
	if q.n.Next != "" {
		return q.n.Next, nil
	}
	s.setEnd(models.EndAgentHangup)
	return "", nil
}

// queueEnded notes how the wait ended in the record.
// callbackInQueue puts a callback request (from a callback node) in a
// queue: it takes a place like a waiting caller, and when an agent is
// free the distributor calls number back and bridges them (RunCallback).
func (s *session) callbackInQueue(name, queue, number string) error {
	if s.e.queues == nil || s.e.cfg.Queues[queue] == nil {
		return fmt.Errorf("no queue service for %q", queue)
	}
	t, err := s.e.queues.Join(s.ctx, queue, s.screenPopFor(queue), 0)
	if err != nil {
		return err
	}
	q := &queueNode{name: name, t: t, stats: &models.QueueStats{Queue: queue, JoinedAt: s.e.now().UTC(),
		Position: t.JoinPosition(), VIP: t.VIP(), LastAgent: t.LastAgent()}}
	cb, err := t.Callback(number)
	if err != nil {
		t.Leave(models.QueueFailed)
		return err
	}
	q.stats.Callback = cb
	s.rec.Queue = q.stats
	s.event("queue_join", name, fmt.Sprintf("%s position %d (callback)", queue, q.stats.Position))
	s.queueEnded(q, models.QueueCalledBack)
	return nil
}

func (s *session) queueEnded(q *queueNode, outcome string) {
	if q.stats.Outcome != "" {
		return
	}
	q.stats.Outcome = outcome
	q.stats.WaitMS = s.e.now().Sub(q.stats.JoinedAt).Milliseconds()
	s.event("queue_end", q.name, outcome)
}

// queueGiveUp leads a caller who cannot wait any longer (or at all) to
// on_timeout, or apologises and ends the call.
func (s *session) queueGiveUp(name string, n *config.Node, outcome string) (string, error) {
	if n.OnTimeout != "" {
		return n.OnTimeout, nil
	}
	if _, err := s.turn(name, []segment{{text: textQueueNoAgents}}, turnOpts{}); err != nil {
		return "", err
	}
	return "", nil
}

// screenPopFor is what the agent sees about this call.
func (s *session) screenPopFor(queue string) models.ScreenPop {
	ci := s.info()
	p := models.ScreenPop{CallID: ci.CallID, Caller: ci.Caller, From: ci.From, Channel: ci.Channel, StartedAt: ci.StartedAt,
		Queue: queue, Intent: ci.Intent, Vars: ci.Vars, Path: ci.Path}
	for _, l := range ci.Transcript {
		p.Transcript = append(p.Transcript, models.TranscriptLine{Who: l.Who, Text: l.Text, At: l.At})
	}
	for _, e := range s.rec.Events {
		if e.Kind != "speech" {
			continue
		}
		if _, intent, ok := strings.Cut(e.Text, " => "); ok {
			p.Intents = append(p.Intents, intent)
		}
	}
	return p
}

// RunCallback serves a callback call: the IVR called the caller back
// (the call is already answered) for ticket t. It plays a short
// introduction, tells the queue the caller is there, waits with music for
// the reserved agent, and bridges them; the record notes which call asked
// for the callback.
func (e *Engine) RunCallback(ctx context.Context, c Call, t QueueTicket, cb models.QueueCallback) {
	s := e.newSession(ctx, c)
	defer s.finish()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("dialog panic", "panic", r)
			s.setEnd(models.EndError)
			t.Leave(models.QueueFailed)
		}
	}()
	now := e.now().UTC()
	s.rec.AnsweredAt = &now
	qc := e.cfg.Queues[cb.Queue]
	stats := &models.QueueStats{Queue: cb.Queue, JoinedAt: cb.JoinedAt, Position: 1, CallbackOf: cb.CallID, Callback: &cb}
	s.rec.Queue = stats
	s.rec.Path = append(s.rec.Path, "callback:"+cb.Queue)
	s.rec.Vars["callback_number"] = cb.Number
	s.event("callback_call", "", cb.Number)
	s.save()
	if qc == nil {
		t.Leave(models.QueueFailed)
		s.setEnd(models.EndError)
		return
	}
	s.openEars()
	defer s.closeEars()
	line := e.cfg.Line.Name
	if line == "" {
		line = "customer service"
	}
	if _, err := s.turn("", []segment{{text: fmt.Sprintf(textCallbackIntro, sayasSafe(line))}}, turnOpts{}); err != nil {
		t.Leave(models.QueueAbandoned)
		stats.Outcome = models.QueueAbandoned
		s.setEnd(models.EndCallerHangup)
		return
	}
	// The reserved agent rings once the caller has heard who calls (so
	// the agent never answers into a prompt).
	t.CallerReady(c.ID())
	n := &config.Node{Type: config.KindQueue}
	n.Queue = cb.Queue
	q := &queueNode{name: "callback:" + cb.Queue, n: n, qc: qc, t: t, stats: stats}
	_, err := s.waitInQueue(q, false)
	s.endWith(err)
}
