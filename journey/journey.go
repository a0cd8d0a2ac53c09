// Package journey runs scripted callers through a line's flow before it
// goes live: `ivr test CONFIG [JOURNEY...]`. A journey file lists what the
// caller does (say something, press keys, stay silent, hang up) and what
// must happen (prompts heard, nodes reached, variables, the transfer and
// its context, backend lookups, how the call ends).
//
// In text mode the caller's words go straight to the line's intent
// classifier through a dialog.TextListener (typed input, as a chat box
// would send it) and prompts are not synthesized, so a journey takes
// milliseconds. In audio mode the words are synthesized in a voice other
// than the IVR's and sent through a real loopback SIP call: RTP, the
// codec, voice activity detection, the recognizer and the classifier.
//
// Test-only stand-ins, and only these: lookups go to an in-process HTTP
// server that answers with the journey's canned responses (the `backends:`
// section) instead of the line's real backends; webhooks go to the same
// server and are recorded; transfers are answered by a stand-in agent
// (`transfer_outcome:`) instead of dialling the target.
package journey

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Journey is one scripted call.
type Journey struct {
	// Name says what the journey checks. Default: the file name.
	Name string `yaml:"name"`
	// Caller is the calling number (From user). Default 447700900123.
	Caller string `yaml:"caller"`
	// Time is the clock at the start of the call (RFC 3339, or
	// "2006-01-02 15:04" in the line's time zone). Default: now.
	Time string `yaml:"time"`
	// Backends are canned answers per backend name, used instead of the
	// configured URLs (test only). A request no answer matches gets 404.
	Backends map[string][]Canned `yaml:"backends"`
	// TransferOutcome is how the stand-in agent answers transfers:
	// answered (default), busy or no_answer.
	TransferOutcome string `yaml:"transfer_outcome"`
	// QueueOutcome is how queue nodes go: a stand-in agent answers and
	// hangs up first (answered, the default), or no agent ever comes
	// (no_agent: on to the node's on_timeout at once).
	QueueOutcome string `yaml:"queue_outcome"`
	// Announcements switched on for this call (name -> text, "" for the
	// configured prompt).
	Announcements map[string]string `yaml:"announcements"`
	// Steps are what the caller does, in order.
	Steps []Step `yaml:"steps"`
	// Expect is checked when the call is over.
	Expect Expect `yaml:"expect"`
	// TextOnly skips the journey in audio mode (typed-only checks).
	TextOnly bool `yaml:"text_only"`

	// File and Line locate the journey for messages.
	File  string `yaml:"-"`
	lines map[string]int
}

// Canned is one canned backend answer.
type Canned struct {
	// Method matches the request method; "" matches any.
	Method string `yaml:"method"`
	// Path matches the request path exactly (after the backend's base).
	Path string `yaml:"path"`
	// BodyContains, if set, must appear in the request body.
	BodyContains string `yaml:"body_contains"`
	// Status is the answer's status. Default 200.
	Status int `yaml:"status"`
	// JSON is the answer's body, written as YAML.
	JSON any `yaml:"json"`
	// Delay holds the answer back (to test timeouts).
	Delay time.Duration `yaml:"delay"`
}

// Step is one thing the caller does, or a check of what they heard.
// Exactly one field is set.
type Step struct {
	// Say is what the caller says (typed in text mode, synthesized in
	// audio mode).
	Say string `yaml:"say"`
	// Press is keys the caller presses ("12345678#").
	Press string `yaml:"press"`
	// Silence stays silent until the IVR gives up waiting.
	Silence bool `yaml:"silence"`
	// Hangup hangs up.
	Hangup bool `yaml:"hangup"`
	// Hear checks that a prompt since the previous action contains this
	// text (case-insensitive).
	Hear string `yaml:"hear"`

	line int
}

// Expect are the checks at the end of a call. Empty fields are not checked.
type Expect struct {
	// Path is the exact list of nodes visited.
	Path []string `yaml:"path"`
	// Visits are nodes that must be visited, in this order (others may
	// come between).
	Visits []string `yaml:"visits"`
	// NotVisits are nodes that must not be visited.
	NotVisits []string `yaml:"not_visits"`
	// Heard are texts prompts must contain, in order.
	Heard []string `yaml:"heard"`
	// NotHeard are texts no prompt may contain.
	NotHeard []string `yaml:"not_heard"`
	// Vars must have these values ("" means must not be set).
	Vars map[string]string `yaml:"vars"`
	// Transfer is the target name the call was handed to ("none": no transfer).
	Transfer string `yaml:"transfer"`
	// Headers the transfer must carry (values; "" means absent).
	Headers map[string]string `yaml:"headers"`
	// Lookups are backend requests made, in order ("POST bank /verify");
	// an empty list means none.
	Lookups []string `yaml:"lookups"`
	// Webhooks are webhooks called, in order (screen_pop, voicemail,
	// callback); an empty list means none.
	Webhooks []string `yaml:"webhooks"`
	// End is the call record's end reason (transferred, ivr_hangup, ...).
	End string `yaml:"end"`
	// Escape is the node where the escape hatch was used ("none": not used).
	Escape string `yaml:"escape"`
	// Voicemail requires a voicemail in the record.
	Voicemail bool `yaml:"voicemail"`
	// Callback is the number a callback was requested on.
	Callback string `yaml:"callback"`
	// Digits is what the record shows of the keys pressed (PINs masked).
	Digits string `yaml:"digits"`
}

// Error is a journey file problem at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Load reads a journey file.
func Load(path string) (*Journey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path)
}

// Parse decodes a journey; unknown keys and wrong types are errors with
// the file and line.
func Parse(b []byte, name string) (*Journey, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, lineErr(name, err)
	}
	j := &Journey{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(j); err != nil && !errors.Is(err, io.EOF) {
		return nil, lineErr(name, err)
	}
	j.File = name
	if j.Name == "" {
		j.Name = name
	}
	if j.Caller == "" {
		j.Caller = "447700900123"
	}
	// Step lines, for failures that point at the step.
	if len(root.Content) > 0 {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "steps" {
				for k, it := range m.Content[i+1].Content {
					if k < len(j.Steps) {
						j.Steps[k].line = it.Line
					}
				}
			}
		}
	}
	for i, st := range j.Steps {
		set := 0
		for _, b := range []bool{st.Say != "", st.Press != "", st.Silence, st.Hangup, st.Hear != ""} {
			if b {
				set++
			}
		}
		if set != 1 {
			return nil, &Error{name, st.line, fmt.Sprintf("step %d: want exactly one of say, press, silence, hangup, hear", i+1)}
		}
		for _, k := range st.Press {
			if !strings.ContainsRune("0123456789*#", k) {
				return nil, &Error{name, st.line, fmt.Sprintf("step %d: %q is not a keypad key", i+1, k)}
			}
		}
	}
	switch j.QueueOutcome {
	case "", "answered", "no_agent":
	default:
		return nil, &Error{name, 0, fmt.Sprintf("queue_outcome %q: want answered or no_agent", j.QueueOutcome)}
	}
	switch j.TransferOutcome {
	case "", "answered", "busy", "no_answer":
	default:
		return nil, &Error{name, 0, fmt.Sprintf("transfer_outcome %q: want answered, busy or no_answer", j.TransferOutcome)}
	}
	if j.Time != "" {
		if _, err := j.start(time.UTC); err != nil {
			return nil, &Error{name, 0, err.Error()}
		}
	}
	return j, nil
}

// start is the journey's clock at the beginning of the call.
func (j *Journey) start(loc *time.Location) (time.Time, error) {
	if j.Time == "" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339, j.Time); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04", j.Time, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 or YYYY-MM-DD HH:MM", j.Time)
}

func lineErr(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	m := yamlLine.FindStringSubmatch(msgs[0])
	if m == nil {
		return &Error{File: name, Msg: msgs[0]}
	}
	n, _ := strconv.Atoi(m[1])
	msg := strings.Replace(m[2], "not found in type", "is not a known key of", 1)
	msg = strings.ReplaceAll(msg, "journey.", "")
	return &Error{File: name, Line: n, Msg: msg}
}
