package config

import (
	"regexp"
	"time"

	"github.com/openivr/ivr/cond"
	"github.com/openivr/ivr/hours"
	"github.com/openivr/ivr/tmpl"
)

// NodeExt holds the fields of the node kinds beyond menu, say, transfer
// and hangup. It is inlined in Node: the YAML keys sit beside the others.
type NodeExt struct {
	// Var names the call variable a collect, callback or survey node
	// fills. Collect requires it; callback defaults to "callback_number",
	// survey to "survey_<node>".
	Var string `yaml:"var"`

	// Entity is what a collect node asks for: digits (default), number,
	// amount, date, time or yes_no. Digits may be keyed or spoken; the
	// others are spoken (yes_no also takes 1 = yes, 2 = no).
	Entity string `yaml:"entity"`
	// MinLength and MaxLength bound a digits answer. Keying stops at
	// MaxLength; 0 means no limit (the terminator ends the answer).
	MinLength int `yaml:"min_length"`
	MaxLength int `yaml:"max_length"`
	// Terminator ends keyed digits early. Default "#".
	Terminator string `yaml:"terminator"`
	// InterDigitTimeout ends keyed digits after a pause. Default 3s.
	InterDigitTimeout time.Duration `yaml:"inter_digit_timeout"`
	// Pattern is a regular expression the whole answer must match
	// (e.g. "^[0-9]{8}$"); answers that do not are invalid.
	Pattern string `yaml:"pattern"`
	// Confirm reads the answer back and asks yes or no before going on.
	Confirm bool `yaml:"confirm"`
	// Secret marks the answer (a PIN) as never to be read back, logged,
	// recorded, or handed to agents and webhooks.
	Secret bool `yaml:"secret"`

	// Backend names the backends.<name> a lookup node calls.
	Backend string `yaml:"backend"`
	// Method is the HTTP method. Default GET, or POST when Body is set.
	Method string `yaml:"method"`
	// Path is appended to the backend's URL; {{var}} placeholders are
	// URL-escaped ("/parcels/{{parcel}}").
	Path string `yaml:"path"`
	// Body is a JSON request body; {{var}} placeholders are JSON-escaped
	// and belong inside strings ({"account": "{{account}}"}).
	Body string `yaml:"body"`
	// Save maps call variables to fields of the JSON answer, by dotted
	// path ("delivery.eta", "items.0.name").
	Save map[string]string `yaml:"save"`
	// OnNotFound is where a lookup goes on a 4xx answer (a parcel that
	// does not exist). Default: OnFailure.
	OnNotFound string `yaml:"on_not_found"`

	// Cases of a branch node, tried in order; the first whose condition
	// holds wins.
	Cases []Case `yaml:"cases"`
	// Default is where a branch goes when no case holds.
	Default string `yaml:"default"`

	// MaxDuration bounds a voicemail recording. Default 2m. A recording
	// also ends when the caller hangs up, presses a key, or stays silent
	// for the node's timeout (default 5s for voicemail).
	MaxDuration time.Duration `yaml:"max_duration"`
	// Notify is told (JSON POST) about a voicemail or callback request.
	Notify *Webhook `yaml:"notify"`

	// Queue names the queue (queues.<name>) a queue node puts the caller
	// in. After the agent hangs up first, the call goes on to Next (a
	// survey) if set; when the caller gives up waiting it ends. On a
	// callback node it is the queue (with callback: set) whose agents
	// call the caller back: the request takes a place in that queue and
	// the distributor dials when an agent is free. Without it a callback
	// node only records the request and tells its notify webhook.
	Queue string `yaml:"queue"`
	// OnTimeout is where a queue node goes after the queue's max_wait
	// (or at once when no agent is signed in and the queue says
	// leave_when_empty): voicemail, a callback request. Default: hang up
	// after an apology.
	OnTimeout string `yaml:"on_timeout"`

	pattern *regexp.Regexp
	pathT   *tmpl.Template
	bodyT   *tmpl.Template
}

// PatternRE is the parsed Pattern (nil when none).
func (n *NodeExt) PatternRE() *regexp.Regexp { return n.pattern }

// PathTemplate and BodyTemplate are a lookup's parsed templates.
func (n *NodeExt) PathTemplate() *tmpl.Template { return n.pathT }

// BodyTemplate is a lookup's parsed body (nil when none).
func (n *NodeExt) BodyTemplate() *tmpl.Template { return n.bodyT }

// Case is one branch of a branch node.
type Case struct {
	// When is the condition (see package cond).
	When string `yaml:"when"`
	// Goto is where the call goes when it holds.
	Goto string `yaml:"goto"`

	cond *cond.Expr
}

// Cond is the parsed condition.
func (c Case) Cond() *cond.Expr { return c.cond }

// Hours are opening hours (see package hours for the formats).
type Hours struct {
	// Timezone is an IANA zone, e.g. Europe/London. Default UTC.
	Timezone string `yaml:"timezone"`
	// Weekly maps days ("mon-fri", "sat", "sat,sun") to time ranges
	// ("09:00-17:30", "10:00-13:00, 14:00-16:00", "24h", "closed").
	// Days not listed are closed.
	Weekly map[string]string `yaml:"weekly"`
	// Holidays are "YYYY-MM-DD" (closed) or "YYYY-MM-DD HH:MM-HH:MM".
	Holidays []string `yaml:"holidays"`
}

// Schedule is the parsed opening hours (nil: always open).
func (c *Config) Schedule() *hours.Schedule { return c.schedule }

// Backend is an HTTP service (a CRM, an order system) lookups call.
type Backend struct {
	// URL is the base URL, e.g. https://crm.example.com/api.
	URL string `yaml:"url"`
	// Headers go on every request (Authorization: Bearer ${CRM_TOKEN}).
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one attempt. Default 3s.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a failed attempt (network error, timeout,
	// 5xx) is retried. Default 1.
	Retries *int `yaml:"retries"`
}

// Webhook is an HTTP endpoint told about events with a JSON POST.
type Webhook struct {
	// URL receives the POST.
	URL string `yaml:"url"`
	// Headers go on the request.
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds the request. Default 3s.
	Timeout time.Duration `yaml:"timeout"`
}

// Announcement is a message played at the start of calls while active.
type Announcement struct {
	// Prompt is what plays (prompt names). The admin API may replace it
	// with a text when switching the announcement on.
	Prompt PromptRefs `yaml:"prompt"`
	// Active is the state at start; the admin API changes it at run time.
	Active bool `yaml:"active"`
	// Next, if set, is where calls go after the announcement instead of
	// the start node (an emergency closure to a goodbye node).
	Next string `yaml:"next"`
}

// Admin configures the admin HTTP API (/api/admin/...).
type Admin struct {
	// Token is the bearer token the API requires; without one the admin
	// API is off. Use ${IVR_ADMIN_TOKEN} to keep it out of the file.
	Token string `yaml:"token"`
}

// Identity is the reusable identity check: collect an account number and
// a PIN, check them with a lookup, and go on to the node that required it
// once the check's Verified condition holds.
type Identity struct {
	// Account is a collect step (var default "account").
	Account *Node `yaml:"account"`
	// PIN is a collect step, always secret (var default "pin").
	PIN *Node `yaml:"pin"`
	// Check is a lookup step; its Save puts the answer into variables.
	Check *Node `yaml:"check"`
	// Verified is the condition on the variables after Check that means
	// the caller is who they say. Default "verified".
	Verified string `yaml:"verified"`
	// Attempts is how many account+PIN tries a caller gets. Default 3.
	Attempts int `yaml:"attempts"`
	// RetryPrompt plays after a failed check before another attempt.
	RetryPrompt PromptRefs `yaml:"retry_prompt"`
	// FailurePrompt plays after the last failed attempt.
	FailurePrompt PromptRefs `yaml:"failure_prompt"`
	// OnFailure is where a caller who cannot be verified goes. Default:
	// the escape node (a human can help).
	OnFailure string `yaml:"on_failure"`

	verified *cond.Expr
}

// VerifiedCond is the parsed Verified condition.
func (id *Identity) VerifiedCond() *cond.Expr { return id.verified }

// VerifiedVar is the variable set to "true" once a caller passes the
// identity check, so later nodes (and conditions) can see it.
const VerifiedVar = "identity_verified"

// PromptTemplate returns the template of a prompt whose text has
// {{placeholders}} (nil for a static prompt).
func (c *Config) PromptTemplate(name string) *tmpl.Template { return c.promptT[name] }

// BuiltinVars are the variables every call has, for conditions and
// templates: the caller's number, the clock in the line's time zone, and
// what the recognizer last heard.
var BuiltinVars = []string{"caller", "caller_uri", "called", "call_id", "channel", "open", "holiday",
	"time", "weekday", "date", "last_intent", "last_utterance", VerifiedVar, "lookup_status"}
