// Package dialog runs a call through a line's flow: it plays prompts, reads
// keys, walks menus with their retries and fallbacks, keeps the escape
// hatch to a human open everywhere, transfers, and writes the call record.
// One goroutine and one select per call; it depends only on the small
// interfaces below.
package dialog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dtmf"
	"github.com/openivr/ivr/models"
)

// Call is what the dialog needs of a call, whatever carries it.
type Call interface {
	ID() string
	From() string
	FromUser() string
	To() string
	Channel() string
	StartedAt() time.Time
	// Answer connects the call (200 OK); it fails if the caller gave up.
	Answer(ctx context.Context) error
	// Hangup ends the call from our side; idempotent.
	Hangup(ctx context.Context) error
	// Play swaps src into the outbound clock; the channel closes when it
	// ends, is replaced, or is stopped.
	Play(src audio.Source) <-chan struct{}
	StopPlayback()
	Digits() <-chan dtmf.Digit
	// Done closes when the call ends for any reason (the caller hung up).
	Done() <-chan struct{}
	SampleRate() int
}

// Captioner is implemented by calls that can show text to the caller
// (the browser widget): what the IVR says and what it heard.
type Captioner interface {
	// Caption shows text; who is "ivr" or "caller".
	Caption(who, text string)
}

// Target is a transfer destination with the context handed over.
type Target struct {
	Name        string
	URI         string
	Method      string // bridge, refer, auto
	RingTimeout time.Duration
	Headers     map[string]string // X-IVR-* context for the agent
}

// TransferResult says how a transfer went.
type TransferResult struct {
	Method  string // the method that was used in the end
	Outcome string // accepted, answered, refused, no_answer, failed
	// CallerLeft is true when the caller's call is over (transferred away
	// by REFER, or the bridge ended).
	CallerLeft bool
	// EndReason classifies the end when CallerLeft.
	EndReason models.EndReason
	Detail    string
}

// Transferer hands calls to humans.
type Transferer interface {
	Transfer(ctx context.Context, c Call, t Target) (TransferResult, error)
}

// Prompts turns prompt names, and generated text, into audio.
type Prompts interface {
	Clip(ctx context.Context, name string, rate int) (audio.Clip, error)
	Text(name string) string
	// Say synthesizes text the flow generates (keypad lists,
	// confirmations); implementations cache it.
	Say(ctx context.Context, text string, rate int) (audio.Clip, error)
}

// Ears opens a speech listener for a call's audio at rate.
type Ears func(ctx context.Context, rate int) (Listener, error)

// Recorder keeps call records.
type Recorder interface {
	Save(ctx context.Context, r *models.CallRecord) error
}

// Engine runs calls on one config. Swap engines to reload: calls keep the
// engine they started with.
type Engine struct {
	cfg       *config.Config
	prompts   Prompts
	transfers Transferer
	records   Recorder
	ears      Ears
	hints     map[string]*asr.Hints // per menu node
	log       *slog.Logger
	now       func() time.Time
	http      *http.Client
	dataDir   string
	announcer Announcer
	onEvent   func(callID string, e models.Event)
	queues    Queues
	hold      Hold
	// escapeWords are the telling words of the escape phrases.
	escapeWords map[string]bool
}

// Announcer says which announcements are switched on now (the admin API
// keeps them).
type Announcer interface {
	Active() []models.Announcement
}

// Options for NewEngine.
type Options struct {
	Prompts   Prompts
	Transfers Transferer
	Records   Recorder
	// Ears opens a listener per call for spoken answers; nil means the
	// flow runs on the keypad only.
	Ears   Ears
	Logger *slog.Logger
	// Now is the clock; tests inject one. Default time.Now.
	Now func() time.Time
	// HTTP makes lookups and webhook calls. Default: a client with no
	// overall timeout (each request has its configured one).
	HTTP *http.Client
	// DataDir is where voicemail recordings go (in a voicemail/
	// directory). Default: the config's data_dir.
	DataDir string
	// Announcer supplies the announcements switched on at run time; nil
	// uses the config's active flags.
	Announcer Announcer
	// OnEvent, if set, sees every event of every call as it happens,
	// plus "wait" events when the IVR starts waiting for the caller. It
	// runs on the call's goroutine and must not block.
	OnEvent func(callID string, e models.Event)
	// Queues serve queue nodes; nil: queue nodes apologise and go on to
	// on_timeout.
	Queues Queues
	// Hold makes the music-on-hold players of queues. Default: package
	// hold's player with a process-wide track cache.
	Hold Hold
}

// NewEngine prepares an engine for cfg (already validated).
func NewEngine(cfg *config.Config, o Options) (*Engine, error) {
	if o.Prompts == nil || o.Records == nil {
		return nil, errors.New("dialog: prompts and records are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.DataDir == "" {
		o.DataDir = cfg.Resolve(cfg.DataDir)
	}
	e := &Engine{cfg: cfg, prompts: o.Prompts, transfers: o.Transfers, records: o.Records, ears: o.Ears, log: o.Logger, now: o.Now,
		http: o.HTTP, dataDir: o.DataDir, announcer: o.Announcer, onEvent: o.OnEvent, queues: o.Queues, hold: o.Hold}
	if e.hold == nil {
		e.hold = defaultHold
	}
	e.hints = menuHints(cfg)
	e.escapeWords = escapeVocabulary(cfg.Flow.Escape.Phrases)
	return e, nil
}

// Speech reports whether calls on this engine listen for spoken answers.
func (e *Engine) Speech() bool { return e.ears != nil && e.cfg.Listens() }

// Config is the flow this engine runs.
func (e *Engine) Config() *config.Config { return e.cfg }

// errHangup and friends end the node loop.
var (
	errCallerGone = errors.New("caller hung up")
)

// session is one call's state, owned by the call's goroutine.
type session struct {
	e       *Engine
	call    Call
	ctx     context.Context
	log     *slog.Logger
	rec     *models.CallRecord
	pending []byte   // type-ahead keys not yet consumed
	ears    Listener // nil when the call is keypad-only
	// secrets are variables never recorded or handed on (PINs).
	secrets map[string]string
	// masking hides keys and speech while a secret is collected.
	masking bool
	// tap receives the caller's audio while a voicemail records.
	tap     atomic.Pointer[recording]
	sinkSet bool // the call's audio sink is installed
}

// Run answers and serves one call until it ends. It never panics on the
// caller's input; an internal panic is logged and the call ends as an error.
func (e *Engine) Run(ctx context.Context, c Call) {
	s := e.newSession(ctx, c)
	defer s.finish()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("dialog panic", "panic", r)
			s.setEnd(models.EndError)
		}
	}()
	s.save()
	if err := c.Answer(ctx); err != nil {
		s.log.Info("call not answered", "err", err)
		s.setEnd(models.EndCancelled)
		return
	}
	t := e.now().UTC()
	s.rec.AnsweredAt = &t
	s.save()
	s.openEars()
	defer s.closeEars()
	start, err := s.announce()
	if err == nil {
		err = s.runFrom(start)
	}
	s.endWith(err)
}

// endWith classifies how the flow ended from its error.
func (s *session) endWith(err error) {
	switch {
	case err == nil:
	case errors.Is(err, errCallerGone):
		s.setEnd(models.EndCallerHangup)
	case errors.Is(err, context.Canceled):
		s.setEnd(models.EndShutdown)
	default:
		s.log.Error("dialog error", "err", err)
		s.setEnd(models.EndError)
	}
}

func (e *Engine) newSession(ctx context.Context, c Call) *session {
	return &session{
		e: e, call: c, ctx: ctx,
		log: e.log.With("call_id", c.ID()),
		rec: &models.CallRecord{
			CallID: c.ID(), From: c.From(), To: c.To(), Channel: c.Channel(),
			StartedAt: c.StartedAt().UTC(), Path: []string{}, Vars: map[string]string{},
		},
		secrets: map[string]string{},
	}
}

func (s *session) setEnd(r models.EndReason) {
	if s.rec.EndReason == "" {
		s.rec.EndReason = r
	}
}

func (s *session) event(kind, node, text string) {
	ev := models.Event{At: s.e.now().UTC(), Kind: kind, Node: node, Text: text}
	s.rec.Events = append(s.rec.Events, ev)
	if s.e.onEvent != nil {
		s.e.onEvent(s.rec.CallID, ev)
	}
}

// waiting tells the observer the IVR now waits for the caller (not recorded).
func (s *session) waiting(node string) {
	if s.e.onEvent != nil {
		s.e.onEvent(s.rec.CallID, models.Event{At: s.e.now().UTC(), Kind: "wait", Node: node})
	}
}

func (s *session) save() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.e.records.Save(ctx, s.rec); err != nil {
		s.log.Error("call record not saved", "err", err)
	}
}

// finish hangs up if needed and writes the final record.
func (s *session) finish() {
	select {
	case <-s.call.Done():
		if s.rec.EndReason == "" {
			s.rec.EndReason = models.EndCallerHangup
		}
	default:
		s.setEnd(models.EndIVRHangup)
		s.call.Hangup(context.Background())
	}
	t := s.e.now().UTC()
	s.rec.EndedAt = &t
	if m, ok := s.call.(interface{ MediaStats() models.MediaStats }); ok && s.rec.AnsweredAt != nil {
		st := m.MediaStats()
		s.rec.Media = &st
	}
	s.save()
	s.log.Info("call ended", "reason", s.rec.EndReason, "path", s.rec.Path, "digits", s.rec.Digits)
}

// runFrom walks the flow from a node until the call ends.
func (s *session) runFrom(name string) error {
	const maxSteps = 1000 // a loop guard: no caller walks a thousand nodes
	for steps := 0; name != ""; steps++ {
		if steps >= maxSteps {
			return fmt.Errorf("flow loop: %d steps without ending", maxSteps)
		}
		if alt := s.closedRedirect(name); alt != name {
			s.event("out_of_hours", name, alt)
			name = alt
		}
		n, ok := s.e.cfg.Flow.Nodes[name]
		if !ok || n == nil {
			return fmt.Errorf("node %q does not exist", name)
		}
		s.rec.Path = append(s.rec.Path, name)
		s.event("node", name, "")
		if n.RequiresIdentity && s.rec.Vars[config.VerifiedVar] != "true" {
			next, ok, err := s.verify(name)
			if err != nil {
				return err
			}
			if !ok {
				name = next
				continue
			}
		}
		var next string
		var err error
		switch n.Type {
		case config.KindMenu:
			next, err = s.menu(name, n)
		case config.KindSay:
			next, err = s.say(name, n)
		case config.KindTransfer:
			next, err = s.transfer(name, n)
		case config.KindHangup:
			err = s.hangup(name, n)
		case config.KindCollect:
			next, err = s.collect(name, n)
		case config.KindLookup:
			next, err = s.lookup(name, n)
		case config.KindBranch:
			next = s.branch(name, n)
		case config.KindGoto:
			next = n.Next
		case config.KindVoicemail:
			next, err = s.voicemail(name, n)
		case config.KindCallback:
			next, err = s.callback(name, n)
		case config.KindSurvey:
			next, err = s.survey(name, n)
		case config.KindQueue:
			next, err = s.queue(name, n)
		default:
			err = fmt.Errorf("node %q: unknown type %q", name, n.Type)
		}
		if err != nil {
			return err
		}
		name = next
	}
	return nil
}

// escapeNode is where the escape key leads from node n ("" when it is off).
func (s *session) escapeNode(n *config.Node) string {
	if n.NoEscape || s.e.cfg.Flow.Escape.Key == "" {
		return ""
	}
	return s.e.cfg.Flow.Escape.Node
}

func (s *session) isEscape(n *config.Node, key byte) bool {
	esc := s.e.cfg.Flow.Escape.Key
	if n.NoEscape || esc == "" || esc[0] != key {
		return false
	}
	// A menu option on the same key wins (the validator warns).
	for _, o := range n.Options {
		if o.Key == esc {
			return false
		}
	}
	return true
}

func (s *session) escape(name string) string {
	s.rec.EscapeNode = name
	s.event("escape", name, "")
	s.log.Info("escape hatch", "node", name)
	return s.e.cfg.Flow.Escape.Node
}

// say plays a node's prompt and goes on; a key pressed meanwhile stops it
// (unless barge-in is off) and is kept for the next menu. Saying the
// escape phrase leaves for a human.
func (s *session) say(name string, n *config.Node) (string, error) {
	in, err := s.turn(name, refs(n.Prompt), turnOpts{bargeIn: !n.NoBargeIn, listen: s.escapeNode(n) != ""})
	if err != nil {
		return "", err
	}
	if in.key != 0 {
		if s.isEscape(n, in.key) {
			return s.escape(name), nil
		}
		s.pending = append(s.pending, in.key)
	}
	if in.speech != nil && s.e.isEscapeIntent(in.speech) && s.escapeNode(n) != "" {
		return s.escape(name), nil
	}
	return n.Next, nil
}

func (s *session) hangup(name string, n *config.Node) error {
	if _, err := s.turn(name, refs(n.Prompt), turnOpts{}); err != nil {
		return err
	}
	s.setEnd(models.EndIVRHangup)
	return nil
}

// play plays prompts to the end; keys pressed meanwhile are kept.
func (s *session) play(node string, r config.PromptRefs) error {
	in, err := s.turn(node, refs(r), turnOpts{})
	if err == nil && in.key != 0 {
		s.pending = append(s.pending, in.key)
	}
	return err
}

func (s *session) digit(d dtmf.Digit) {
	k := string(d.Key)
	if s.masking {
		k = "*" // a PIN never reaches the record
	}
	s.rec.Digits += k
	s.event("dtmf", "", k)
}

// transfer hands the caller to a target; on failure it plays the failure
// prompt and goes to on_failure (or hangs up).
func (s *session) transfer(name string, n *config.Node) (string, error) {
	if err := s.play(name, n.Prompt); err != nil {
		return "", err
	}
	t := s.e.cfg.Targets[n.Target]
	tgt := Target{Name: n.Target, URI: t.URI, Method: t.Method, RingTimeout: t.RingTimeout, Headers: s.context(name)}
	s.screenPop(name, n.Target, t.URI)
	rec := &models.Transfer{Target: n.Target, URI: t.URI, Method: t.Method, At: s.e.now().UTC()}
	s.rec.Transfer = rec
	s.event("transfer", name, n.Target)
	s.save()
	var res TransferResult
	var err error
	if s.e.transfers == nil {
		err = errors.New("no transfer service")
	} else {
		res, err = s.e.transfers.Transfer(s.ctx, s.call, tgt)
	}
	if res.Method != "" {
		rec.Method = res.Method
	}
	rec.Outcome, rec.Detail = res.Outcome, res.Detail
	if err != nil && rec.Outcome == "" {
		rec.Outcome, rec.Detail = "failed", err.Error()
	}
	s.log.Info("transfer", "target", n.Target, "method", rec.Method, "outcome", rec.Outcome, "detail", rec.Detail)
	if res.CallerLeft {
		s.setEnd(res.EndReason)
		return "", nil
	}
	select {
	case <-s.call.Done():
		return "", errCallerGone
	default:
	}
	if err := s.play(name, n.FailurePrompt); err != nil {
		return "", err
	}
	return n.OnFailure, nil
}

// context is what the agent is told about the call (SIP headers).
func (s *session) context(node string) map[string]string {
	h := map[string]string{
		"X-IVR-Call-ID": s.rec.CallID,
		"X-IVR-Node":    node,
	}
	if len(s.rec.Path) > 0 {
		p := ""
		for i, n := range s.rec.Path {
			if i > 0 {
				p += ","
			}
			p += n
		}
		h["X-IVR-Path"] = p
	}
	if s.rec.Digits != "" {
		h["X-IVR-Digits"] = s.rec.Digits
	}
	if v := s.rec.Vars["last_intent"]; v != "" {
		h["X-IVR-Intent"] = v
	}
	if v := s.rec.Vars["last_utterance"]; v != "" {
		h["X-IVR-Transcript"] = v
	}
	if u := s.call.FromUser(); u != "" {
		h["X-IVR-Caller"] = u
	}
	if s.rec.Vars[config.VerifiedVar] == "true" {
		h["X-IVR-Verified"] = "true"
	}
	if d := s.dataHeader(); d != "" {
		h["X-IVR-Data"] = d
	}
	return h
}
