// Package config is the one YAML schema of an IVR line: listeners, media,
// storage, prompts, transfer targets and the call flow. Loading is strict:
// unknown keys and wrong types are errors reported as "file:line: message",
// then defaults are applied and Validate checks the whole.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openivr/ivr/cond"
	"github.com/openivr/ivr/hours"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/tmpl"
)

// Config is a whole line's configuration.
type Config struct {
	// Line names the business line (shown in logs and records).
	Line Line `yaml:"line"`
	// SIP listeners and behaviour.
	SIP SIP `yaml:"sip"`
	// RTP media ports and timeouts.
	RTP RTP `yaml:"rtp"`
	// HTTP is the admin/API/widget server.
	HTTP HTTP `yaml:"http"`
	// DataDir holds the call database and recordings. Relative paths are
	// relative to the config file. Default "data".
	DataDir string `yaml:"data_dir"`
	// Prompts are what the IVR says, by name.
	Prompts Prompts `yaml:"prompts"`
	// Targets are humans (or other systems) calls can be transferred to, by name.
	Targets map[string]Target `yaml:"targets"`
	// Intents the speech recognizer and classifier understand (see nlu.Intent).
	Intents []nlu.Intent `yaml:"intents"`
	// OutOfScope are requests callers make that the line does not handle
	// ("what's the weather"); the classifier learns them as "none of the
	// intents".
	OutOfScope []string `yaml:"out_of_scope"`
	// Flow is the call flow.
	Flow Flow `yaml:"flow"`
	// Speech configures recognition (speech-first menus).
	Speech Speech `yaml:"speech"`
	// TTS configures speech synthesis for prompts given as text.
	TTS TTS `yaml:"tts"`
	// WebRTC configures browser calls (the call widget).
	WebRTC WebRTC `yaml:"webrtc"`
	// Hours are the line's opening hours; nil means always open. Flows
	// read them as the `open` and `holiday` variables, and the escape
	// hatch leads to flow.escape.out_of_hours when closed.
	Hours *Hours `yaml:"hours"`
	// Lists are named lists of values for conditions (`caller in vip`).
	Lists map[string][]string `yaml:"lists"`
	// Backends are HTTP services lookups call, by name.
	Backends map[string]Backend `yaml:"backends"`
	// ScreenPop, when set, is told about every transfer before the agent's
	// phone rings: the caller, the path, what they said, the variables
	// (never secrets), as JSON.
	ScreenPop *Webhook `yaml:"screen_pop"`
	// Announcements are messages played at the start of every call while
	// active ("due to local flooding..."); the admin API switches them on
	// and off at run time.
	Announcements map[string]Announcement `yaml:"announcements"`
	// Admin configures the authenticated admin HTTP API.
	Admin Admin `yaml:"admin"`
	// Trunks are SIP providers the IVR registers to as a client and
	// places outbound calls (callbacks) through, by name.
	Trunks map[string]*Trunk `yaml:"trunks"`
	// Agents are the people queues ring, by name.
	Agents map[string]*Agent `yaml:"agents"`
	// Queues hold callers waiting for agents, by name.
	Queues map[string]*Queue `yaml:"queues"`

	// Path is the file the config came from ("" for the embedded demo).
	Path string `yaml:"-"`
	// Dir is the directory relative paths resolve against.
	Dir string `yaml:"-"`
	// lines maps a dotted path (flow.nodes.main.prompt) to its line.
	lines map[string]int
	// schedule is Hours parsed by Validate (nil: always open).
	schedule *hours.Schedule
	// promptT holds the parsed templates of prompt texts with {{vars}}.
	promptT map[string]*tmpl.Template
}

// Line describes the business line.
type Line struct {
	// Name of the business, for logs and records.
	Name string `yaml:"name"`
}

// SIP configures the SIP user agent.
type SIP struct {
	// Listen lists transport:host:port entries: "udp:0.0.0.0:5060",
	// "tcp:0.0.0.0:5060", "tls:0.0.0.0:5061". Default udp and tcp on 0.0.0.0:5060.
	Listen []string `yaml:"listen"`
	// TLSCert and TLSKey are PEM files for tls listeners.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// PublicIP is written in Contact and SDP; default: the listen IP, or
	// the host's outbound address when listening on 0.0.0.0.
	PublicIP string `yaml:"public_ip"`
	// Codecs we accept, in our preference for calls we place: PCMU, PCMA,
	// G722 (wideband). Answers follow the caller's order. Default all three.
	Codecs []string `yaml:"codecs"`
	// RingTime is how long to ring before answering. Default 0s.
	RingTime time.Duration `yaml:"ring_time"`
	// MaxCalls refuses calls beyond this many with 503. Default 0 (no limit).
	MaxCalls int `yaml:"max_calls"`
}

// RTP configures media.
type RTP struct {
	// PortMin and PortMax bound the RTP ports. Default 10000-20000.
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
	// MediaTimeout hangs up when no RTP arrives for this long. Default 30s; 0s disables.
	MediaTimeout *time.Duration `yaml:"media_timeout"`
}

// HTTP configures the HTTP server.
type HTTP struct {
	// Addr is host:port. Default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
}

// Speech configures the recognizer and how the dialog uses it.
type Speech struct {
	// Engine is "moonshine" (embedded neural recognizer, offline; the
	// default when its files are installed, scripts/fetch-speech-model.sh),
	// "sphinx" (embedded PocketSphinx, offline; the default otherwise),
	// "openai" (an OpenAI-compatible /v1/audio/transcriptions server), or
	// "none" (keypad only). Both embedded engines need a cgo build.
	Engine string `yaml:"engine"`
	// SecondEngine also hears open requests (not closed grammars such as
	// digits); its answer replaces the first engine's when the classifier
	// is more confident in it. "" means sphinx when the engine is
	// moonshine (the two err on different requests: together they get
	// more right, BENCHMARKS.md) and none otherwise; "none" turns it off.
	SecondEngine string `yaml:"second_engine"`
	// BaseURL, Model, APIKey, Language and Timeout configure "openai".
	BaseURL  string        `yaml:"base_url"`
	Model    string        `yaml:"model"`
	APIKey   string        `yaml:"api_key"`
	Language string        `yaml:"language"`
	Timeout  time.Duration `yaml:"timeout"`
	// EndSilence is the silence that ends a caller's turn. Default 500ms.
	EndSilence time.Duration `yaml:"end_silence"`
	// ConfirmBelow: an intent recognised with less confidence is
	// confirmed ("Did you want to ...?"). Default 0.5.
	ConfirmBelow float64 `yaml:"confirm_below"`
	// ConfirmTurnBelow: a spoken answer whose turn confidence (recognizer
	// and classifier together; `ivr eval speech` reports the accuracy at
	// each threshold on the line's own recordings) is below this is
	// confirmed before the flow acts on it. Default 0 (off).
	ConfirmTurnBelow float64 `yaml:"confirm_turn_below"`
	// ClarifyMargin: when the two best intents are closer than this, the
	// caller is asked which one. Default 0.15.
	ClarifyMargin float64 `yaml:"clarify_margin"`
}

// WebRTC configures calls from the browser widget.
type WebRTC struct {
	// AllowedOrigins may embed the widget: exact origins
	// ("https://shop.example.com"), "*.example.com", or "*". The IVR's own
	// HTTP origin always may.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// ICEServers are STUN/TURN servers for both peers.
	ICEServers []ICEServer `yaml:"ice_servers"`
	// TURNSecret makes time-limited TURN credentials (coturn use-auth-secret).
	TURNSecret string `yaml:"turn_secret"`
	// PublicIPs are the server's addresses when it sits behind a 1:1 NAT.
	PublicIPs []string `yaml:"public_ips"`
	// PortMin and PortMax bound the UDP ports ICE uses (0/0: any).
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
	// CallsPerMinute and CallBurst limit call starts per client address;
	// MaxCalls limits concurrent browser calls. 0 takes the defaults.
	CallsPerMinute float64 `yaml:"calls_per_minute"`
	CallBurst      int     `yaml:"call_burst"`
	MaxCalls       int     `yaml:"max_calls"`
}

// ICEServer is a STUN or TURN server.
type ICEServer struct {
	URLs       []string `yaml:"urls"`
	Username   string   `yaml:"username"`
	Credential string   `yaml:"credential"`
}

// TTS configures speech synthesis.
type TTS struct {
	// Engine is "embedded" (espeak-ng/flite, offline, the default) or
	// "openai" (an OpenAI-compatible /v1/audio/speech server, falling back
	// to the embedded engine on error).
	Engine string `yaml:"engine"`
	// Voice, e.g. "flite/kal16" (default) or "espeak-ng/en-gb".
	Voice string `yaml:"voice"`
	// BaseURL, Model, APIKey and Timeout configure "openai".
	BaseURL string        `yaml:"base_url"`
	Model   string        `yaml:"model"`
	APIKey  string        `yaml:"api_key"`
	Timeout time.Duration `yaml:"timeout"`
}

// Prompts are the IVR's messages.
type Prompts struct {
	// Dir is where recorded prompt files are looked up. Relative to the
	// config file. Default: the config file's directory.
	Dir string `yaml:"dir"`
	// Items maps a prompt name to its recording and/or text.
	Items map[string]Prompt `yaml:"items"`
}

// Prompt is one message: a recording, a text for synthesis, or both (the
// recording plays; the text is its transcript for captions and records).
type Prompt struct {
	// File is a WAV file (any common rate/depth), relative to prompts.dir.
	File string `yaml:"file"`
	// Text is what the prompt says.
	Text string `yaml:"text"`
}

// Target is somewhere a call can be handed to.
type Target struct {
	// URI is the SIP URI to REFER or dial, e.g. sip:sales@pbx.example.com.
	URI string `yaml:"uri"`
	// Method is "bridge" (the IVR calls the target and relays media),
	// "refer" (blind transfer), or "auto" (REFER, then bridge if refused).
	// Default "bridge".
	Method string `yaml:"method"`
	// RingTimeout is how long a bridged call may ring. Default 30s.
	RingTimeout time.Duration `yaml:"ring_timeout"`
}

// Flow is the call flow: named nodes and where calls start.
type Flow struct {
	// Start is the first node. Required.
	Start string `yaml:"start"`
	// Escape is the hatch to a human available from every node.
	Escape Escape `yaml:"escape"`
	// Nodes by name.
	Nodes map[string]*Node `yaml:"nodes"`
	// Identity is the reusable identity check run before any node with
	// requires_identity (account number and PIN, checked by a lookup).
	Identity *Identity `yaml:"identity"`
}

// Escape configures the escape hatch.
type Escape struct {
	// Key reaches a human from any node that does not opt out, e.g. "0".
	Key string `yaml:"key"`
	// Node is where the escape leads (usually a transfer node). Required
	// when Key or Phrases are set.
	Node string `yaml:"node"`
	// Phrases a caller may say to reach a human from any node. Default,
	// when speech is on: agent, operator, a real person, speak to someone,
	// representative, customer service, a human.
	Phrases []string `yaml:"phrases"`
	// OutOfHours is where the escape hatch leads while the line is closed
	// (see hours): usually a voicemail or callback node. Default: Node.
	OutOfHours string `yaml:"out_of_hours"`
}

// Node kinds.
const (
	KindMenu      = "menu"
	KindSay       = "say"
	KindTransfer  = "transfer"
	KindHangup    = "hangup"
	KindCollect   = "collect"
	KindLookup    = "lookup"
	KindBranch    = "branch"
	KindVoicemail = "voicemail"
	KindCallback  = "callback"
	KindSurvey    = "survey"
	KindGoto      = "goto"
)

// Kinds lists the node types, for messages.
const Kinds = "menu, say, collect, lookup, branch, goto, transfer, queue, voicemail, callback, survey, hangup"

// Node is one step of the flow. Type selects which fields apply.
type Node struct {
	// Type: menu, say, collect, lookup, branch, goto, transfer,
	// voicemail, callback, survey or hangup.
	Type string `yaml:"type"`
	// RequiresIdentity runs flow.identity first unless the caller is
	// already verified on this call.
	RequiresIdentity bool `yaml:"requires_identity"`
	// Prompt plays when the node starts (a prompt name, or a list of them).
	Prompt PromptRefs `yaml:"prompt"`
	// NoEscape turns the escape hatch off on this node (a legal notice).
	NoEscape bool `yaml:"no_escape"`
	// NoBargeIn makes the prompt play to the end even if a key is pressed.
	NoBargeIn bool `yaml:"no_barge_in"`

	// Next is where a say node goes after its prompt.
	Next string `yaml:"next"`

	// Options of a menu, by key.
	Options []Option `yaml:"options"`
	// Timeout is how long a menu waits for a key after its prompt. Default 5s.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a menu re-prompts after no input or a
	// wrong key. Default 2.
	Retries *int `yaml:"retries"`
	// InvalidPrompt plays after a key that is not an option.
	InvalidPrompt PromptRefs `yaml:"invalid_prompt"`
	// NoInputPrompt plays when no key came within the timeout.
	NoInputPrompt PromptRefs `yaml:"no_input_prompt"`
	// OnFailure is where a menu goes after the last retry. Default: the
	// escape node, so a caller who is stuck reaches a human.
	OnFailure string `yaml:"on_failure"`
	// Reprompts is how many times a speech menu asks its open question
	// again after no match or no input, before it reads out the keypad
	// options. Default 1. (Keypad-only menus use Retries.)
	Reprompts *int `yaml:"reprompts"`
	// NoMatchPrompt plays when the caller said something the menu does
	// not handle. Default: a built-in "Sorry, I didn't catch that."
	NoMatchPrompt PromptRefs `yaml:"no_match_prompt"`

	// Target names the transfer target (targets.<name>).
	Target string `yaml:"target"`
	// FailurePrompt plays when a transfer fails; then OnFailure (default: hang up).
	FailurePrompt PromptRefs `yaml:"failure_prompt"`

	// Collect, Lookup, Branch, Voicemail, Callback and Survey fields live
	// in nodes.go.
	NodeExt `yaml:",inline"`
}

// Option is one menu choice.
type Option struct {
	// Key is the keypad key: 0-9, *, #.
	Key string `yaml:"key"`
	// Intent is the intent (from intents) a caller can say instead.
	Intent string `yaml:"intent"`
	// Label names the option in the caller's words ("report a lost card"):
	// it is read out in the keypad fallback ("To report a lost card, press
	// 2") and in confirmations. Default: the intent's description.
	Label string `yaml:"label"`
	// Goto is the node the option leads to.
	Goto string `yaml:"goto"`
	// When, if set, is a condition (see package cond) on the call's
	// variables: the option is offered only while it holds, e.g.
	// `status == "out_for_delivery"`.
	When string `yaml:"when"`

	cond *cond.Expr
}

// Cond is the option's parsed condition (nil: always offered).
func (o Option) Cond() *cond.Expr { return o.cond }

// PromptRefs is a list of prompt names; YAML may give one name or a list.
type PromptRefs []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (p *PromptRefs) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "" {
			*p = nil
			return nil
		}
		*p = PromptRefs{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*p = s
		return nil
	}
	return fmt.Errorf("line %d: a prompt is a name or a list of names", n.Line)
}

//go:embed demo.yaml
var demoYAML []byte

// Demo returns the embedded demo line.
func Demo() (*Config, error) {
	return Parse(demoYAML, "<demo>", "")
}

// DemoYAML is the embedded demo configuration's source.
func DemoYAML() []byte { return bytes.Clone(demoYAML) }

// Load reads, decodes, defaults and validates a config file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path, filepath.Dir(abs))
}

// Error is a config problem at a place in a file.
type Error struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is a list of config problems; its message has one per line.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse decodes a config from b; name is used in messages, dir resolves
// relative paths ("" means the working directory).
func Parse(b []byte, name, dir string) (*Config, error) {
	b = expandEnv(b)
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlError(name, err)
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && err != io.EOF {
		return nil, yamlError(name, err)
	}
	c.Path, c.Dir = name, dir
	c.lines = map[string]int{}
	if len(root.Content) > 0 {
		indexLines(root.Content[0], "", c.lines)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// yamlError turns yaml.v3's messages into file:line: message lines.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var es Errors
		for _, m := range te.Errors {
			es = append(es, lineError(name, m))
		}
		return es
	}
	return Errors{lineError(name, strings.TrimPrefix(err.Error(), "yaml: "))}
}

func lineError(name, msg string) *Error {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = m[2]
		msg = strings.Replace(msg, "not found in type", "is not a known key of", 1)
		if i := strings.Index(msg, " in type "); i > 0 && strings.Contains(msg, "field") {
			msg = msg[:i]
		}
		msg = strings.ReplaceAll(msg, "config.", "")
		return &Error{File: name, Line: n, Msg: msg}
	}
	return &Error{File: name, Msg: msg}
}

// indexLines records the line of every mapping key and sequence item by
// its dotted path, so Validate can point at the place of a problem.
func indexLines(n *yaml.Node, path string, out map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out[p] = k.Line
			indexLines(v, p, out)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			out[p] = v.Line
			indexLines(v, p, out)
		}
	}
}

// LineOf returns the line of a dotted path, or of its nearest parent.
func (c *Config) LineOf(path string) int {
	for path != "" {
		if n, ok := c.lines[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// expandEnv replaces ${NAME} and ${NAME:-default} with the environment's
// value, so secrets and addresses can stay out of the file.
func expandEnv(b []byte) []byte {
	return envRef.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := envRef.FindSubmatch(m)
		if v, ok := os.LookupEnv(string(sub[1])); ok && v != "" {
			return []byte(v)
		}
		return sub[2]
	})
}

func (c *Config) applyDefaults() {
	if len(c.SIP.Listen) == 0 {
		c.SIP.Listen = []string{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"}
	}
	if len(c.SIP.Codecs) == 0 {
		c.SIP.Codecs = []string{"PCMU", "PCMA", "G722"}
	}
	if c.RTP.PortMin == 0 && c.RTP.PortMax == 0 {
		c.RTP.PortMin, c.RTP.PortMax = 10000, 20000
	}
	if c.RTP.MediaTimeout == nil {
		d := 30 * time.Second
		c.RTP.MediaTimeout = &d
	}
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.TTS.Engine == "" {
		c.TTS.Engine = "embedded"
	}
	if c.TTS.Voice == "" {
		c.TTS.Voice = "flite/kal16"
	}
	if c.Speech.EndSilence == 0 {
		c.Speech.EndSilence = 500 * time.Millisecond
	}
	if c.Speech.ConfirmBelow == 0 {
		c.Speech.ConfirmBelow = 0.5
	}
	if c.Speech.ClarifyMargin == 0 {
		c.Speech.ClarifyMargin = 0.15
	}
	if len(c.Flow.Escape.Phrases) == 0 && c.Flow.Escape.Node != "" {
		c.Flow.Escape.Phrases = []string{"agent", "operator", "a real person", "speak to someone",
			"representative", "customer service", "a human", "talk to a person"}
	}
	for name, t := range c.Targets {
		if t.Method == "" {
			t.Method = "bridge"
		}
		if t.RingTimeout == 0 {
			t.RingTimeout = 30 * time.Second
		}
		c.Targets[name] = t
	}
	for name, n := range c.Flow.Nodes {
		if n == nil {
			continue
		}
		c.nodeDefaults(name, n)
	}
	c.extDefaults()
	c.trunkDefaults()
	c.queueDefaults()
}

// Resolve makes a config-relative path absolute.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// PromptPath is the file of a recorded prompt ("" when it has none).
func (c *Config) PromptPath(name string) string {
	p, ok := c.Prompts.Items[name]
	if !ok || p.File == "" {
		return ""
	}
	if filepath.IsAbs(p.File) {
		return p.File
	}
	dir := c.Resolve(c.Prompts.Dir)
	if dir == "" {
		dir = c.Dir
	}
	return filepath.Join(dir, p.File)
}

// SpeechMenus reports whether any menu takes spoken intents.
func (c *Config) SpeechMenus() bool {
	for _, n := range c.Flow.Nodes {
		if n == nil {
			continue
		}
		for _, o := range n.Options {
			if o.Intent != "" {
				return true
			}
		}
	}
	return false
}

// Intent returns the configured intent by name.
func (c *Config) Intent(name string) (nlu.Intent, bool) {
	for _, in := range c.Intents {
		if in.Name == name {
			return in, true
		}
	}
	return nlu.Intent{}, false
}

// OptionLabel is how an option is named to the caller.
func (c *Config) OptionLabel(o Option) string {
	if o.Label != "" {
		return o.Label
	}
	if in, ok := c.Intent(o.Intent); ok && in.Description != "" {
		return in.Description
	}
	return strings.ReplaceAll(o.Intent, "_", " ")
}

// NodeNames lists the flow's nodes in sorted order.
func (c *Config) NodeNames() []string {
	names := make([]string, 0, len(c.Flow.Nodes))
	for n := range c.Flow.Nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Listens reports whether calls on this line take spoken answers: a menu
// with spoken options, or a node that collects an answer (collect,
// survey, callback, the identity check) and intents or escape phrases to
// understand. Keypad-only lines (the demo) never open a recognizer.
func (c *Config) Listens() bool {
	if c.SpeechMenus() {
		return true
	}
	answers := len(c.Intents) > 0 || len(c.Flow.Escape.Phrases) > 0
	if c.Flow.Identity != nil {
		return answers
	}
	for _, n := range c.Flow.Nodes {
		if n == nil {
			continue
		}
		switch n.Type {
		case KindCollect, KindSurvey, KindCallback:
			return answers
		}
	}
	return false
}
