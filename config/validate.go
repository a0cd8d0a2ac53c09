package config

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/openivr/ivr/codec"
	"github.com/openivr/ivr/cond"
	"github.com/openivr/ivr/nlu"
)

// Listener is a parsed sip.listen entry.
type Listener struct {
	Network string // udp, tcp, tls
	Addr    string // host:port
}

// ParseListen reads "udp:host:port" (IPv6 hosts in brackets).
func ParseListen(s string) (Listener, error) {
	network, addr, ok := strings.Cut(s, ":")
	if !ok {
		return Listener{}, fmt.Errorf("listen %q: want transport:host:port", s)
	}
	network = strings.ToLower(network)
	switch network {
	case "udp", "tcp", "tls":
	default:
		return Listener{}, fmt.Errorf("listen %q: transport must be udp, tcp or tls", s)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Listener{}, fmt.Errorf("listen %q: %v", s, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return Listener{}, fmt.Errorf("listen %q: bad port", s)
	}
	return Listener{Network: network, Addr: net.JoinHostPort(host, port)}, nil
}

// Listeners returns the parsed sip.listen entries (Validate has checked them).
func (c *Config) Listeners() []Listener {
	var out []Listener
	for _, s := range c.SIP.Listen {
		if l, err := ParseListen(s); err == nil {
			out = append(out, l)
		}
	}
	return out
}

// validKey reports whether k is one DTMF key a caller can press.
func validKey(k string) bool {
	return len(k) == 1 && strings.IndexByte("0123456789*#ABCD", k[0]) >= 0
}

// Validate checks the whole config and returns every problem found.
func (c *Config) Validate() error {
	var es Errors
	add := func(path, format string, args ...any) {
		es = append(es, &Error{File: c.Path, Line: c.LineOf(path), Msg: fmt.Sprintf(format, args...)})
	}
	hasTLS := false
	for i, s := range c.SIP.Listen {
		l, err := ParseListen(s)
		if err != nil {
			add(fmt.Sprintf("sip.listen[%d]", i), "%v", err)
			continue
		}
		hasTLS = hasTLS || l.Network == "tls"
	}
	if hasTLS && (c.SIP.TLSCert == "" || c.SIP.TLSKey == "") {
		add("sip.listen", "a tls listener needs sip.tls_cert and sip.tls_key")
	}
	if c.SIP.PublicIP != "" && net.ParseIP(c.SIP.PublicIP) == nil {
		add("sip.public_ip", "public_ip %q is not an IP address", c.SIP.PublicIP)
	}
	for i, name := range c.SIP.Codecs {
		if _, ok := codec.Lookup(name, 8000); !ok {
			add(fmt.Sprintf("sip.codecs[%d]", i), "unknown codec %q (known: PCMU, PCMA, G722 when built in)", name)
		}
	}
	if c.RTP.PortMin < 1024 || c.RTP.PortMax > 65535 || c.RTP.PortMin+1 >= c.RTP.PortMax {
		add("rtp", "rtp ports %d-%d: want 1024 <= port_min < port_max <= 65535", c.RTP.PortMin, c.RTP.PortMax)
	}
	if c.RTP.MediaTimeout != nil && *c.RTP.MediaTimeout < 0 {
		add("rtp.media_timeout", "media_timeout must not be negative")
	}
	if c.SIP.MaxCalls < 0 {
		add("sip.max_calls", "max_calls must not be negative")
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		add("http.addr", "http addr %q: %v", c.HTTP.Addr, err)
	}

	for _, name := range sortedKeys(c.Prompts.Items) {
		p := c.Prompts.Items[name]
		path := "prompts.items." + name
		if p.File == "" && p.Text == "" {
			add(path, "prompt %q has neither a file nor a text", name)
		}
		if p.File != "" {
			if _, err := os.Stat(c.PromptPath(name)); err != nil {
				add(path+".file", "prompt %q: recording %s not found", name, c.PromptPath(name))
			}
		}
	}
	for _, name := range sortedKeys(c.Targets) {
		t := c.Targets[name]
		path := "targets." + name
		if !strings.HasPrefix(t.URI, "sip:") && !strings.HasPrefix(t.URI, "sips:") {
			add(path+".uri", "target %q: uri %q must be a sip: or sips: URI", name, t.URI)
		}
		switch t.Method {
		case "bridge", "refer", "auto":
		default:
			add(path+".method", "target %q: method %q must be bridge, refer or auto", name, t.Method)
		}
	}

	f := &c.Flow
	nodeExists := func(n string) bool { _, ok := f.Nodes[n]; return ok && n != "" }
	if f.Start == "" {
		add("flow", "flow.start is required")
	} else if !nodeExists(f.Start) {
		add("flow.start", "start node %q does not exist", f.Start)
	}
	if f.Escape.Key != "" {
		if !validKey(f.Escape.Key) {
			add("flow.escape.key", "escape key %q is not a keypad key", f.Escape.Key)
		}
		if !nodeExists(f.Escape.Node) {
			add("flow.escape.node", "escape node %q does not exist", f.Escape.Node)
		}
	}
	checkPrompts := func(path string, refs PromptRefs) {
		for _, r := range refs {
			if _, ok := c.Prompts.Items[r]; !ok {
				add(path, "prompt %q is not defined in prompts.items", r)
			}
		}
	}
	for _, name := range c.NodeNames() {
		n := f.Nodes[name]
		path := "flow.nodes." + name
		if n == nil {
			add(path, "node %q is empty", name)
			continue
		}
		checkPrompts(path+".prompt", n.Prompt)
		checkPrompts(path+".invalid_prompt", n.InvalidPrompt)
		checkPrompts(path+".no_input_prompt", n.NoInputPrompt)
		checkPrompts(path+".failure_prompt", n.FailurePrompt)
		switch n.Type {
		case KindMenu:
			if len(n.Options) == 0 {
				add(path+".options", "menu %q has no options", name)
			}
			seen := map[string]bool{}
			for i, o := range n.Options {
				op := fmt.Sprintf("%s.options[%d]", path, i)
				if o.Key == "" && o.Intent == "" {
					add(op, "menu %q: an option needs a key, an intent, or both", name)
				} else if o.Key == "" {
					// A spoken-only option: allowed, but the keypad fallback cannot offer it.
				} else if !validKey(o.Key) {
					add(op+".key", "menu %q: option key %q is not a keypad key", name, o.Key)
				} else if seen[o.Key] {
					add(op+".key", "menu %q: key %q is used twice", name, o.Key)
				}
				seen[o.Key] = true
				if !nodeExists(o.Goto) {
					add(op+".goto", "menu %q: option %q goes to unknown node %q", name, o.Key+o.Intent, o.Goto)
				}
				if o.When != "" {
					e, err := cond.Parse(o.When)
					if err != nil {
						add(op+".when", "menu %q: option condition %q: %v", name, o.When, err)
					} else {
						n.Options[i].cond = e
						c.checkLists(op+".when", e, add)
					}
				}
				if o.Intent != "" {
					if _, ok := c.Intent(o.Intent); !ok {
						add(op+".intent", "menu %q: intent %q is not defined in intents", name, o.Intent)
					}
				}
			}
			if n.Timeout <= 0 {
				add(path+".timeout", "menu %q: timeout must be positive", name)
			}
			if n.Retries != nil && (*n.Retries < 0 || *n.Retries > 10) {
				add(path+".retries", "menu %q: retries must be 0-10", name)
			}
			if n.OnFailure == "" {
				add(path, "menu %q has no on_failure node and there is no escape node: callers who cannot use the menu would be stuck", name)
			} else if !nodeExists(n.OnFailure) {
				add(path+".on_failure", "menu %q: on_failure node %q does not exist", name, n.OnFailure)
			}
			if len(n.Prompt) == 0 {
				add(path+".prompt", "menu %q has no prompt", name)
			}
		case KindSay:
			if len(n.Prompt) == 0 {
				add(path+".prompt", "say node %q has no prompt", name)
			}
			if !nodeExists(n.Next) {
				add(path+".next", "say node %q: next node %q does not exist", name, n.Next)
			}
		case KindTransfer:
			if _, ok := c.Targets[n.Target]; !ok {
				add(path+".target", "transfer node %q: target %q is not defined in targets", name, n.Target)
			}
			if n.OnFailure != "" && !nodeExists(n.OnFailure) {
				add(path+".on_failure", "transfer node %q: on_failure node %q does not exist", name, n.OnFailure)
			}
		case KindHangup:
		case KindCollect, KindLookup, KindBranch, KindVoicemail, KindCallback, KindSurvey, KindGoto, KindQueue:
			c.validateNode(path, name, n, add)
		case "":
			add(path, "node %q has no type (%s)", name, Kinds)
		default:
			add(path+".type", "node %q: unknown type %q (%s)", name, n.Type, Kinds)
		}
		if n.RequiresIdentity && f.Identity == nil {
			add(path+".requires_identity", "node %q requires identity but flow.identity is not configured", name)
		}
	}
	c.validateExt(add)
	for i, in := range c.Intents {
		if err := in.Validate(); err != nil {
			add(fmt.Sprintf("intents[%d]", i), "%v", err)
		}
	}
	switch c.Speech.Engine {
	case "", "moonshine", "sphinx", "openai", "none":
	default:
		add("speech.engine", "speech engine %q: want moonshine, sphinx, openai or none", c.Speech.Engine)
	}
	switch c.Speech.SecondEngine {
	case "", "none", "moonshine", "sphinx":
	default:
		add("speech.second_engine", "second speech engine %q: want moonshine, sphinx or none", c.Speech.SecondEngine)
	}
	if c.Speech.Engine == "openai" && c.Speech.BaseURL == "" && c.Speech.APIKey == "" {
		add("speech", "the openai speech engine needs base_url (a self-hosted server) or api_key")
	}
	if t := c.Speech.ConfirmTurnBelow; t < 0 || t >= 1 {
		add("speech.confirm_turn_below", "confirm_turn_below %g: want 0 (off) up to below 1", t)
	}
	switch c.TTS.Engine {
	case "embedded", "openai":
	default:
		add("tts.engine", "tts engine %q: want embedded or openai", c.TTS.Engine)
	}
	c.validateTrunks(add)
	c.validateQueues(add)
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// Warning is a best-practice finding: the config works but callers may
// suffer.
type Warning = Error

// Lint returns best-practice warnings: menus with more than five
// options, nodes without an escape hatch, nodes no caller can reach, dead
// ends (loops with no way to a human, a message or goodbye), the escape
// key used as an option, overlapping intent examples, and conditions or
// templates reading variables no node sets.
func (c *Config) Lint() []*Warning {
	var ws []*Warning
	add := func(path, format string, args ...any) {
		ws = append(ws, &Warning{File: c.Path, Line: c.LineOf(path), Msg: fmt.Sprintf(format, args...)})
	}
	hatch := c.Flow.Escape.Node != "" && (c.Flow.Escape.Key != "" || len(c.Flow.Escape.Phrases) > 0)
	reach := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		n, ok := c.Flow.Nodes[name]
		if !ok || n == nil || reach[name] {
			return
		}
		reach[name] = true
		for _, e := range c.edges(n) {
			walk(e)
		}
		if n.RequiresIdentity && c.Flow.Identity != nil {
			walk(c.Flow.Identity.OnFailure)
		}
	}
	for _, name := range sortedKeys(c.Announcements) {
		walk(c.Announcements[name].Next)
	}
	walk(c.Flow.Start)
	if hatch {
		walk(c.Flow.Escape.Node)
		walk(c.Flow.Escape.OutOfHours)
	}
	live := c.liveNodes(hatch)
	for _, name := range c.NodeNames() {
		n := c.Flow.Nodes[name]
		path := "flow.nodes." + name
		if !reach[name] {
			add(path, "node %q cannot be reached from the start node", name)
		}
		if n == nil {
			continue
		}
		if !live[name] {
			add(path, "node %q is a dead end: from here no path leads to a human, a voicemail or a goodbye", name)
		}
		switch n.Type {
		case KindMenu, KindCollect, KindSurvey, KindCallback:
			if !hatch || n.NoEscape {
				add(path, "%s %q has no escape hatch to a human", n.Type, name)
			} else if n.Type == KindCollect && (n.Entity == "digits" || n.Entity == "number") && !c.Listens() &&
				c.Flow.Escape.Key >= "0" && c.Flow.Escape.Key <= "9" {
				add(path, "collect %q takes digits and the escape key %q is a digit, so this keypad-only line has no way out here; use * or # as the escape key", name, c.Flow.Escape.Key)
			}
		}
		if n.Type == KindQueue && n.OnTimeout == "" {
			if q := c.Queues[n.Queue]; q != nil && q.Callback == nil {
				add(path, "queue %q has no on_timeout and queue %q offers no callback: after max_wait (%s) callers hear an apology and are hung up on; lead them to a voicemail or a callback", name, n.Queue, q.MaxWait)
			}
		}
		if n.Type == KindMenu {
			if len(n.Options) > 5 {
				add(path+".options", "menu %q has %d options: callers remember about five; add a level", name, len(n.Options))
			}
			for i, o := range n.Options {
				if o.Key != "" && o.Key == c.Flow.Escape.Key && !n.NoEscape {
					add(fmt.Sprintf("%s.options[%d].key", path, i), "menu %q: option key %q is the escape key; the option wins here", name, o.Key)
				}
			}
			conditional := 0
			for _, o := range n.Options {
				if o.When != "" {
					conditional++
				}
			}
			if conditional > 0 && conditional == len(n.Options) {
				add(path+".options", "menu %q: every option has a condition, so a caller may be offered nothing; give one option without when:", name)
			}
		}
	}
	ws = append(ws, c.lintIntentOverlap()...)
	ws = append(ws, c.lintVariables()...)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Line < ws[j].Line })
	return ws
}

// edges are the nodes a node can lead to (not counting the escape hatch).
func (c *Config) edges(n *Node) []string {
	var out []string
	for _, o := range n.Options {
		out = append(out, o.Goto)
	}
	for _, cs := range n.Cases {
		out = append(out, cs.Goto)
	}
	return append(out, n.Next, n.OnFailure, n.OnNotFound, n.Default, n.OnTimeout)
}

// liveNodes are the nodes from which some path ends the call on purpose:
// a transfer, a voicemail, a hangup (or the escape hatch, from nodes that
// listen to the caller).
func (c *Config) liveNodes(hatch bool) map[string]bool {
	live := map[string]bool{}
	for name, n := range c.Flow.Nodes {
		if n == nil {
			continue
		}
		switch n.Type {
		case KindHangup, KindTransfer, KindVoicemail, KindQueue:
			live[name] = true
		}
		if n.Type == KindVoicemail && n.Next == "" {
			live[name] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for name, n := range c.Flow.Nodes {
			if n == nil || live[name] {
				continue
			}
			ok := false
			for _, e := range c.edges(n) {
				if e != "" && live[e] {
					ok = true
					break
				}
			}
			if !ok && hatch && !n.NoEscape && live[c.Flow.Escape.Node] {
				switch n.Type {
				case KindMenu, KindCollect, KindSurvey, KindCallback, KindSay:
					ok = true
				}
			}
			if ok {
				live[name] = true
				changed = true
			}
		}
	}
	return live
}

// lintIntentOverlap finds the same (or nearly the same) example under two
// intents: the classifier cannot tell them apart, and callers saying it
// land at random.
func (c *Config) lintIntentOverlap() []*Warning {
	var ws []*Warning
	type ex struct {
		intent, text, norm, sorted string
		i, j                       int
	}
	var all []ex
	for i, in := range c.Intents {
		for j, e := range in.Examples {
			norm := nlu.Normalize(e)
			words := strings.Fields(norm)
			sort.Strings(words)
			all = append(all, ex{in.Name, e, norm, strings.Join(words, " "), i, j})
		}
	}
	warn := func(a, b ex, how string) {
		ws = append(ws, &Warning{File: c.Path, Line: c.LineOf(fmt.Sprintf("intents[%d].examples[%d]", b.i, b.j)),
			Msg: fmt.Sprintf("intent %q example %q is %s intent %q example %q: callers saying it could land in either", b.intent, b.text, how, a.intent, a.text)})
	}
	bySorted := map[string]ex{}
	for _, e := range all {
		if e.sorted == "" {
			continue
		}
		if prev, ok := bySorted[e.sorted]; ok {
			if prev.intent != e.intent {
				warn(prev, e, "the same as")
			}
			continue
		}
		bySorted[e.sorted] = e
	}
	const fuzzyLimit = 3000 // pairs grow quadratically; big intent sets skip the fuzzy pass
	if len(all) > fuzzyLimit {
		return ws
	}
	for x := 0; x < len(all); x++ {
		for y := x + 1; y < len(all); y++ {
			a, b := all[x], all[y]
			if a.intent == b.intent || a.sorted == b.sorted || len(a.norm) < 8 || len(b.norm) < 8 {
				continue
			}
			if d := len(a.norm) - len(b.norm); d > 2 || d < -2 {
				continue
			}
			if levenshtein(a.norm, b.norm) <= 2 {
				warn(a, b, "nearly the same as")
			}
		}
	}
	return ws
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// KnownVars are the variables a flow can have: the built-ins and those
// its nodes set.
func (c *Config) KnownVars() map[string]bool {
	known := map[string]bool{}
	for _, v := range BuiltinVars {
		known[v] = true
	}
	var fromNode func(n *Node)
	fromNode = func(n *Node) {
		if n == nil {
			return
		}
		switch n.Type {
		case KindCollect, KindCallback, KindSurvey:
			known[n.Var] = true
		}
		for v := range n.Save {
			known[v] = true
		}
	}
	for _, n := range c.Flow.Nodes {
		fromNode(n)
	}
	if id := c.Flow.Identity; id != nil {
		fromNode(id.Account)
		fromNode(id.PIN)
		fromNode(id.Check)
	}
	return known
}

// lintVariables warns about conditions and templates that read variables
// no node sets (a typo makes a condition silently false).
func (c *Config) lintVariables() []*Warning {
	var ws []*Warning
	known := c.KnownVars()
	check := func(path, what string, names []string) {
		for _, v := range names {
			if !known[v] {
				ws = append(ws, &Warning{File: c.Path, Line: c.LineOf(path),
					Msg: fmt.Sprintf("%s reads variable %q, which no node sets", what, v)})
			}
		}
	}
	for _, name := range c.NodeNames() {
		n := c.Flow.Nodes[name]
		if n == nil {
			continue
		}
		path := "flow.nodes." + name
		for i, o := range n.Options {
			if o.cond != nil {
				check(fmt.Sprintf("%s.options[%d].when", path, i), fmt.Sprintf("menu %q option condition", name), o.cond.Names())
			}
		}
		for i, cs := range n.Cases {
			if cs.cond != nil {
				check(fmt.Sprintf("%s.cases[%d].when", path, i), fmt.Sprintf("branch %q condition", name), cs.cond.Names())
			}
		}
		if n.pathT != nil {
			check(path+".path", fmt.Sprintf("lookup %q path", name), n.pathT.Names())
		}
		if n.bodyT != nil {
			check(path+".body", fmt.Sprintf("lookup %q body", name), n.bodyT.Names())
		}
	}
	for _, name := range sortedKeys(c.promptT) {
		check("prompts.items."+name+".text", fmt.Sprintf("prompt %q", name), c.promptT[name].Names())
	}
	if id := c.Flow.Identity; id != nil && id.verified != nil {
		check("flow.identity.verified", "the identity verified condition", id.verified.Names())
	}
	return ws
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
