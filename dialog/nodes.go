package dialog

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
	"github.com/openivr/ivr/nlu/entity"
	"github.com/openivr/ivr/speech"
	"github.com/openivr/ivr/tts/sayas"
)

// Built-in wording for voicemail, callback and survey nodes.
const (
	textVoicemailSaved = "Thank you. Your message has been saved."
	textCallbackAsk    = "Shall we call you back on %s? Say yes or press 1, or say no or press 2 to give another number."
	textCallbackEnter  = "Please key in the number to call, followed by the hash key."
	textCallbackDone   = "Thank you. We will call you back on %s."
	textSurveyRange    = "Please answer with a number from 1 to 5."
)

// branch goes to the first case whose condition holds, else the default.
func (s *session) branch(name string, n *config.Node) string {
	for _, c := range n.Cases {
		if c.Cond().Eval(s) {
			s.event("branch", name, c.When)
			return c.Goto
		}
	}
	s.event("branch", name, "default")
	return n.Default
}

// recording is a voicemail being recorded: the media goroutine appends,
// the call's goroutine reads at the end.
type recording struct {
	mu      sync.Mutex
	rate    int
	samples []int16
	max     int       // samples
	loud    time.Time // when the caller's audio was last above the silence level
}

// silenceRMS is the level below which a voicemail hears silence (about
// -45 dBFS: line noise, not a voice).
const silenceRMS = 180

func (r *recording) write(f audio.Frame) {
	var sum float64
	for _, v := range f.Samples {
		sum += float64(v) * float64(v)
	}
	loud := len(f.Samples) > 0 && math.Sqrt(sum/float64(len(f.Samples))) > silenceRMS
	r.mu.Lock()
	defer r.mu.Unlock()
	if loud {
		r.loud = time.Now()
	}
	if r.rate == 0 {
		r.rate = f.Rate
	}
	if f.Rate != r.rate || len(r.samples) >= r.max {
		return
	}
	n := min(len(f.Samples), r.max-len(r.samples))
	r.samples = append(r.samples, f.Samples[:n]...)
}

// lastLoud is when the caller was last heard (zero: not yet).
func (r *recording) lastLoud() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loud
}

func (r *recording) clip() audio.Clip {
	r.mu.Lock()
	defer r.mu.Unlock()
	return audio.Clip{Rate: r.rate, Samples: append([]int16(nil), r.samples...)}
}

// beep is the tone before a voicemail recording: 400 ms at 1 kHz.
func beep(rate int) audio.Clip {
	n := rate * 4 / 10
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/float64(rate)))
	}
	return audio.Clip{Rate: rate, Samples: s}
}

// voicemail plays its prompt and a beep, records the caller until they
// press a key (# or any), go silent for good, hang up, or reach
// max_duration, saves a WAV file under the data directory, adds it to
// the call record and tells the notify webhook.
func (s *session) voicemail(name string, n *config.Node) (string, error) {
	if err := s.play(name, n.Prompt); err != nil {
		return "", err
	}
	s.pending = nil
	rate := s.call.SampleRate()
	select {
	case <-s.call.Play(audio.NewClipSource(beep(rate))):
	case <-s.call.Done():
		return "", errCallerGone
	}
	rec := &recording{max: int(n.MaxDuration.Seconds() * float64(rate))}
	if rec.max <= 0 {
		rec.max = rate * 120
	}
	s.tap.Store(rec)
	s.ensureSink()
	started := s.e.now().UTC()
	s.event("voicemail_start", name, "")
	gone, transcript, err := s.recordUntilDone(name, rec, n.MaxDuration, n.Timeout)
	s.tap.Store(nil)
	if err != nil {
		return "", err
	}
	clip := rec.clip()
	vm := &models.Voicemail{Node: name, At: started, Transcript: transcript}
	if clip.Rate > 0 && len(clip.Samples) > 0 {
		vm.DurationMS = int64(len(clip.Samples)) * 1000 / int64(clip.Rate)
		dir := filepath.Join(s.e.dataDir, "voicemail")
		file := filepath.Join(dir, fmt.Sprintf("%s-%s.wav", started.Format("20060102T150405Z"), safeName(s.rec.CallID)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			s.log.Error("voicemail not saved", "err", err)
		} else if err := audio.WriteWAVFile(file, clip); err != nil {
			s.log.Error("voicemail not saved", "err", err)
		} else {
			vm.File = file
		}
	}
	s.rec.Voicemail = vm
	s.event("voicemail", name, fmt.Sprintf("%d ms", vm.DurationMS))
	s.save()
	vm.Notified = s.notify("voicemail", n.Notify, struct {
		Event     string            `json:"event"`
		Voicemail *models.Voicemail `json:"voicemail"`
		callInfo
	}{"voicemail", vm, s.info()})
	if gone {
		return "", errCallerGone
	}
	if n.Next != "" {
		return n.Next, nil
	}
	if _, err := s.turn(name, []segment{{text: textVoicemailSaved}}, turnOpts{}); err != nil {
		return "", err
	}
	s.setEnd(models.EndVoicemail)
	return "", nil
}

// recordUntilDone waits while a voicemail records: until the caller
// hangs up (the usual way a message ends), presses a key, stays silent
// for quiet, or reaches max. It returns whether the caller hung up and
// what the recognizer heard, if it listens.
func (s *session) recordUntilDone(node string, rec *recording, max, quiet time.Duration) (bool, string, error) {
	timer := time.NewTimer(max)
	defer timer.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	active := time.Now() // the caller's last sign of life: the start, a loud frame, a result
	var events <-chan speech.Event
	if s.ears != nil {
		s.ears.SetHints(asr.Hints{})
		s.ears.Reset()
		events = s.ears.Events()
	}
	var silence <-chan struct{}
	if sc, ok := s.call.(Silencer); ok {
		silence = sc.Silence()
	}
	s.waiting(node)
	var heard []string
	for {
		select {
		case <-s.ctx.Done():
			return false, strings.Join(heard, " "), s.ctx.Err()
		case <-s.call.Done():
			return true, strings.Join(heard, " "), nil
		case d := <-s.call.Digits():
			s.digit(d)
			return false, strings.Join(heard, " "), nil
		case ev := <-events:
			switch {
			case ev.Type == speech.SpeechStarted:
				active = time.Now()
			case ev.Type == speech.Final && ev.Result.Text != "":
				active = time.Now()
				heard = append(heard, ev.Result.Text)
				s.event("speech", node, ev.Result.Text)
				s.waiting(node)
			}
		case <-tick.C:
			if l := rec.lastLoud(); l.After(active) {
				active = l
			}
			if quiet > 0 && time.Since(active) > quiet {
				s.event("no_input", node, "silence ended the message")
				return false, strings.Join(heard, " "), nil
			}
		case <-silence:
			return false, strings.Join(heard, " "), nil
		case <-timer.C:
			return false, strings.Join(heard, " "), nil
		}
	}
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// callback asks for a number to call back (by default the caller's own,
// confirmed), records the request in the call record and the node's
// variable, and tells the notify webhook.
func (s *session) callback(name string, n *config.Node) (string, error) {
	if len(n.Prompt) > 0 {
		if err := s.play(name, n.Prompt); err != nil {
			return "", err
		}
	}
	number, failed, err := s.callbackNumber(name, n)
	if err != nil || number == "" {
		return failed.next, err
	}
	s.rec.Vars[n.Var] = number
	cb := &models.Callback{Node: name, Number: number, At: s.e.now().UTC()}
	s.rec.Callback = cb
	s.event("callback", name, number)
	if n.Queue != "" {
		if err := s.callbackInQueue(name, n.Queue, number); err != nil {
			// The request stays in the record and goes to the webhook.
			s.log.Warn("callback could not join its queue", "queue", n.Queue, "err", err)
			s.event("callback_queue", name, "failed: "+err.Error())
		} else {
			cb.Queue = n.Queue
		}
	}
	s.save()
	cb.Notified = s.notify("callback", n.Notify, struct {
		Event    string           `json:"event"`
		Callback *models.Callback `json:"callback"`
		callInfo
	}{"callback", cb, s.info()})
	if _, err := s.turn(name, []segment{{text: fmt.Sprintf(textCallbackDone, "{phone:"+number+"}")}}, turnOpts{}); err != nil {
		return "", err
	}
	return n.Next, nil
}

// callbackNumber asks for the number to call back: the caller's own
// (when it looks like a phone number), confirmed by yes or 1, else keyed
// (6 to 15 digits). With no number, failed is the answer that ended the
// asking (its next node is where the flow goes).
func (s *session) callbackNumber(name string, n *config.Node) (number string, failed answer, err error) {
	if d, ok := entity.Digits(s.call.FromUser()); ok && len(d) >= 6 && len(d) <= 15 {
		yn := &config.Node{Type: config.KindCollect, Retries: n.Retries, OnFailure: n.OnFailure}
		yn.Entity, yn.Timeout, yn.Var = "yes_no", n.Timeout, n.Var
		a, err := s.askText(name, yn, fmt.Sprintf(textCallbackAsk, "{phone:"+d+"}"))
		if err != nil || !a.ok {
			return "", a, err
		}
		if a.value == "yes" {
			return d, answer{}, nil
		}
	}
	dn := &config.Node{Type: config.KindCollect, Retries: n.Retries, OnFailure: n.OnFailure, Timeout: n.Timeout}
	dn.Entity, dn.MinLength, dn.MaxLength = "digits", 6, 15
	dn.Terminator, dn.InterDigitTimeout, dn.Var = n.Terminator, n.InterDigitTimeout, n.Var
	a, err := s.askText(name, dn, textCallbackEnter)
	if err != nil || !a.ok {
		return "", a, err
	}
	return a.value, answer{}, nil
}

// askText asks with generated text instead of configured prompts.
func (s *session) askText(name string, n *config.Node, text string) (answer, error) {
	if _, err := sayas.Expand(text); err != nil {
		text = sayasSafe(text)
	}
	return s.askWith(name, n, []segment{{text: text}})
}

// survey asks for a score from 1 to 5, keyed or said, and keeps it in
// the node's variable.
func (s *session) survey(name string, n *config.Node) (string, error) {
	limit := 1
	if n.Retries != nil {
		limit = *n.Retries
	}
	segs := refs(n.Prompt)
	for failures := 0; ; failures++ {
		in, err := s.turn(name, segs, turnOpts{bargeIn: !n.NoBargeIn, listen: s.ears != nil, wait: n.Timeout,
			hints: &asr.Hints{Grammar: asr.GrammarDigit, EscapeWords: s.e.cfg.Flow.Escape.Phrases}})
		if err != nil {
			return "", err
		}
		score := 0
		switch {
		case in.key != 0:
			if s.isEscape(n, in.key) && (in.key < '1' || in.key > '5') {
				return s.escape(name), nil
			}
			score = int(in.key - '0')
		case in.speech != nil:
			if v, ok := entity.Number(in.speech.Result.Text); ok && v == math.Trunc(v) {
				score = int(v)
			} else if s.e.isEscapeIntent(in.speech) && s.escapeNode(n) != "" {
				return s.escape(name), nil
			}
		}
		if score >= 1 && score <= 5 {
			s.rec.Vars[n.Var] = strconv.Itoa(score)
			s.event("survey", name, strconv.Itoa(score))
			return n.Next, nil
		}
		if in.key == 0 && in.speech == nil {
			s.event("no_input", name, "")
		} else {
			s.event("no_match", name, "")
		}
		if failures >= limit {
			return n.OnFailure, nil
		}
		segs = append([]segment{{text: textSurveyRange}}, refs(n.Prompt)...)
	}
}

// activeAnnouncements are the announcements switched on now.
func (s *session) activeAnnouncements() []models.Announcement {
	if s.e.announcer != nil {
		return s.e.announcer.Active()
	}
	var active []models.Announcement
	names := make([]string, 0, len(s.e.cfg.Announcements))
	for name := range s.e.cfg.Announcements {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if s.e.cfg.Announcements[name].Active {
			active = append(active, models.Announcement{Name: name, Active: true})
		}
	}
	return active
}

// announce plays the announcements switched on now, before the flow
// starts, and returns the node to start from.
func (s *session) announce() (string, error) {
	start := s.e.cfg.Flow.Start
	active := s.activeAnnouncements()
	for _, a := range active {
		if !a.Active {
			continue
		}
		conf, known := s.e.cfg.Announcements[a.Name]
		var segs []segment
		switch {
		case a.Text != "":
			segs = []segment{{text: sayasSafe(a.Text)}}
		case known:
			segs = refs(conf.Prompt)
		}
		if len(segs) == 0 {
			continue
		}
		s.event("announcement", "", a.Name)
		if _, err := s.turn("", segs, turnOpts{}); err != nil {
			return "", err
		}
		if known && conf.Next != "" {
			start = conf.Next
		}
	}
	return start, nil
}
