package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/openivr/ivr/cond"
	"github.com/openivr/ivr/hours"
	"github.com/openivr/ivr/tmpl"
)

// Entities a collect node can ask for.
var collectEntities = map[string]bool{"digits": true, "number": true, "amount": true, "date": true, "time": true, "yes_no": true}

// nodeDefaults fills a node's defaults by kind.
func (c *Config) nodeDefaults(name string, n *Node) {
	intp := func(v int) *int { return &v }
	switch n.Type {
	case KindMenu:
		if n.Timeout == 0 {
			n.Timeout = 5 * time.Second
		}
		if n.Retries == nil {
			n.Retries = intp(2)
		}
		if n.OnFailure == "" {
			n.OnFailure = c.Flow.Escape.Node
		}
		if n.Reprompts == nil {
			n.Reprompts = intp(1)
		}
	case KindCollect:
		if n.Timeout == 0 {
			n.Timeout = 5 * time.Second
		}
		if n.Retries == nil {
			n.Retries = intp(2)
		}
		if n.OnFailure == "" {
			n.OnFailure = c.Flow.Escape.Node
		}
		if n.Entity == "" {
			n.Entity = "digits"
		}
		if n.Terminator == "" {
			n.Terminator = "#"
		}
		if n.InterDigitTimeout == 0 {
			n.InterDigitTimeout = 3 * time.Second
		}
	case KindLookup:
		if n.Method == "" {
			n.Method = "GET"
			if n.Body != "" {
				n.Method = "POST"
			}
		}
		n.Method = strings.ToUpper(n.Method)
		if n.OnFailure == "" {
			n.OnFailure = c.Flow.Escape.Node
		}
		if n.OnNotFound == "" {
			n.OnNotFound = n.OnFailure
		}
	case KindSurvey:
		if n.Timeout == 0 {
			n.Timeout = 5 * time.Second
		}
		if n.Retries == nil {
			n.Retries = intp(1)
		}
		if n.Var == "" {
			n.Var = "survey_" + name
		}
		if n.OnFailure == "" {
			n.OnFailure = n.Next
		}
	case KindCallback:
		if n.Timeout == 0 {
			n.Timeout = 5 * time.Second
		}
		if n.Retries == nil {
			n.Retries = intp(2)
		}
		if n.Var == "" {
			n.Var = "callback_number"
		}
		if n.OnFailure == "" {
			n.OnFailure = n.Next
		}
		if n.InterDigitTimeout == 0 {
			n.InterDigitTimeout = 3 * time.Second
		}
		if n.Terminator == "" {
			n.Terminator = "#"
		}
	case KindVoicemail:
		if n.MaxDuration == 0 {
			n.MaxDuration = 2 * time.Minute
		}
		if n.Timeout == 0 {
			n.Timeout = 5 * time.Second
		}
	}
	if n.Notify != nil && n.Notify.Timeout == 0 {
		n.Notify.Timeout = 3 * time.Second
	}
}

// extDefaults fills the defaults of backends, webhooks and identity.
func (c *Config) extDefaults() {
	for name, b := range c.Backends {
		if b.Timeout == 0 {
			b.Timeout = 3 * time.Second
		}
		if b.Retries == nil {
			r := 1
			b.Retries = &r
		}
		c.Backends[name] = b
	}
	if c.ScreenPop != nil && c.ScreenPop.Timeout == 0 {
		c.ScreenPop.Timeout = 3 * time.Second
	}
	if c.Flow.Escape.OutOfHours == "" {
		c.Flow.Escape.OutOfHours = c.Flow.Escape.Node
	}
	id := c.Flow.Identity
	if id == nil {
		return
	}
	if id.Account != nil {
		if id.Account.Type == "" {
			id.Account.Type = KindCollect
		}
		if id.Account.Var == "" {
			id.Account.Var = "account"
		}
		c.nodeDefaults("identity.account", id.Account)
	}
	if id.PIN != nil {
		if id.PIN.Type == "" {
			id.PIN.Type = KindCollect
		}
		if id.PIN.Var == "" {
			id.PIN.Var = "pin"
		}
		id.PIN.Secret = true
		c.nodeDefaults("identity.pin", id.PIN)
	}
	if id.Check != nil {
		if id.Check.Type == "" {
			id.Check.Type = KindLookup
		}
		c.nodeDefaults("identity.check", id.Check)
	}
	if id.Verified == "" {
		id.Verified = "verified"
	}
	if id.Attempts == 0 {
		id.Attempts = 3
	}
	if id.OnFailure == "" {
		id.OnFailure = c.Flow.Escape.Node
	}
}

type addFunc func(path, format string, args ...any)

func (c *Config) nodeExists(n string) bool {
	_, ok := c.Flow.Nodes[n]
	return ok && n != ""
}

func (c *Config) checkPromptRefs(path string, refs PromptRefs, add addFunc) {
	for _, r := range refs {
		if _, ok := c.Prompts.Items[r]; !ok {
			add(path, "prompt %q is not defined in prompts.items", r)
		}
	}
}

// checkLists reports `in name` conditions on lists that do not exist.
func (c *Config) checkLists(path string, e *cond.Expr, add addFunc) {
	for _, l := range e.Lists() {
		if _, ok := c.Lists[l]; !ok {
			add(path, "condition %q: list %q is not defined in lists", e.String(), l)
		}
	}
}

// validateNode checks the fields of the node kinds in nodes.go.
func (c *Config) validateNode(path, name string, n *Node, add addFunc) {
	next := func(field, target string, required bool) {
		switch {
		case target == "" && required:
			add(path, "%s node %q needs %s", n.Type, name, field)
		case target != "" && !c.nodeExists(target):
			add(path+"."+field, "%s node %q: %s node %q does not exist", n.Type, name, field, target)
		}
	}
	switch n.Type {
	case KindCollect:
		if n.Var == "" {
			add(path, "collect node %q needs var (the variable the answer goes in)", name)
		}
		if !collectEntities[n.Entity] {
			add(path+".entity", "collect node %q: entity %q: want digits, number, amount, date, time or yes_no", name, n.Entity)
		}
		c.validateCollect(path, name, n, add)
		next("next", n.Next, true)
		next("on_failure", n.OnFailure, false)
	case KindLookup:
		c.validateLookup(path, name, n, add)
		next("next", n.Next, true)
		next("on_failure", n.OnFailure, false)
		next("on_not_found", n.OnNotFound, false)
		if n.OnFailure == "" {
			add(path, "lookup node %q has no on_failure node and there is no escape node: a caller would be stuck when the backend is down", name)
		}
	case KindBranch:
		if len(n.Cases) == 0 {
			add(path+".cases", "branch node %q has no cases", name)
		}
		for i, cs := range n.Cases {
			cp := fmt.Sprintf("%s.cases[%d]", path, i)
			e, err := cond.Parse(cs.When)
			if err != nil {
				add(cp+".when", "branch node %q: condition %q: %v", name, cs.When, err)
			} else {
				n.Cases[i].cond = e
				c.checkLists(cp+".when", e, add)
			}
			if !c.nodeExists(cs.Goto) {
				add(cp+".goto", "branch node %q: case goes to unknown node %q", name, cs.Goto)
			}
		}
		next("default", n.Default, true)
	case KindGoto:
		next("next", n.Next, true)
	case KindVoicemail:
		if n.MaxDuration < time.Second || n.MaxDuration > time.Hour {
			add(path+".max_duration", "voicemail node %q: max_duration must be between 1s and 1h", name)
		}
		next("next", n.Next, false)
	case KindCallback:
		next("next", n.Next, true)
		next("on_failure", n.OnFailure, false)
		if n.Queue != "" {
			if q, ok := c.Queues[n.Queue]; !ok {
				add(path+".queue", "callback node %q: queue %q is not defined in queues", name, n.Queue)
			} else if q.Callback == nil {
				add(path+".queue", "callback node %q: queue %q has no callback: section, so it cannot call back", name, n.Queue)
			}
		}
	case KindQueue:
		if _, ok := c.Queues[n.Queue]; !ok {
			add(path+".queue", "queue node %q: queue %q is not defined in queues", name, n.Queue)
		}
		next("next", n.Next, false)
		next("on_timeout", n.OnTimeout, false)
	case KindSurvey:
		next("next", n.Next, true)
		next("on_failure", n.OnFailure, false)
		if len(n.Prompt) == 0 {
			add(path+".prompt", "survey node %q has no question (prompt)", name)
		}
	}
	if n.Notify != nil {
		c.validateWebhook(path+".notify", n.Notify, add)
	}
	if n.Retries != nil && (*n.Retries < 0 || *n.Retries > 10) {
		add(path+".retries", "%s node %q: retries must be 0-10", n.Type, name)
	}
}

func (c *Config) validateCollect(path, name string, n *Node, add addFunc) {
	if len(n.Prompt) == 0 {
		add(path+".prompt", "collect node %q has no prompt", name)
	}
	if n.MinLength < 0 || n.MaxLength < 0 || n.MaxLength > 0 && n.MinLength > n.MaxLength {
		add(path+".min_length", "collect node %q: want 0 <= min_length <= max_length", name)
	}
	if n.Terminator != "" && !validKey(n.Terminator) {
		add(path+".terminator", "collect node %q: terminator %q is not a keypad key", name, n.Terminator)
	}
	if n.Timeout <= 0 || n.InterDigitTimeout <= 0 {
		add(path+".timeout", "collect node %q: timeouts must be positive", name)
	}
	if n.Pattern != "" {
		re, err := regexp.Compile(n.Pattern)
		if err != nil {
			add(path+".pattern", "collect node %q: pattern: %v", name, err)
		} else {
			n.pattern = re
		}
	}
	if n.Secret && n.Confirm {
		add(path+".confirm", "collect node %q: a secret answer is never read back, so it cannot be confirmed", name)
	}
	c.checkPromptRefs(path+".invalid_prompt", n.InvalidPrompt, add)
	c.checkPromptRefs(path+".no_input_prompt", n.NoInputPrompt, add)
}

func (c *Config) validateLookup(path, name string, n *Node, add addFunc) {
	if _, ok := c.Backends[n.Backend]; !ok {
		add(path+".backend", "lookup node %q: backend %q is not defined in backends", name, n.Backend)
	}
	switch n.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		add(path+".method", "lookup node %q: method %q: want GET, POST, PUT, PATCH or DELETE", name, n.Method)
	}
	t, err := tmpl.Parse(n.Path)
	if err != nil {
		add(path+".path", "lookup node %q: path: %v", name, err)
	} else {
		n.pathT = t
	}
	if n.Body != "" {
		t, err := tmpl.Parse(n.Body)
		if err != nil {
			add(path+".body", "lookup node %q: body: %v", name, err)
		} else {
			n.bodyT = t
		}
	}
	for _, v := range sortedKeys(n.Save) {
		if n.Save[v] == "" {
			add(path+".save."+v, "lookup node %q: save %q needs a field of the answer", name, v)
		}
	}
}

func (c *Config) validateWebhook(path string, w *Webhook, add addFunc) {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add(path+".url", "webhook url %q: want an http:// or https:// URL", w.URL)
	}
	if w.Timeout < 0 {
		add(path+".timeout", "webhook timeout must not be negative")
	}
}

// validateExt checks the sections beyond the basic flow: hours, lists,
// backends, webhooks, announcements, identity, prompt templates.
func (c *Config) validateExt(add addFunc) {
	c.schedule = nil
	if h := c.Hours; h != nil {
		s, errs := hours.Parse(h.Timezone, h.Weekly, h.Holidays)
		for _, e := range errs {
			add("hours."+e.Field, "hours: %s", e.Msg)
		}
		c.schedule = s
	}
	for _, name := range sortedKeys(c.Backends) {
		b := c.Backends[name]
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("backends."+name+".url", "backend %q: url %q: want an http:// or https:// URL", name, b.URL)
		}
		if b.Timeout < 0 || b.Retries != nil && (*b.Retries < 0 || *b.Retries > 5) {
			add("backends."+name, "backend %q: timeout must not be negative and retries must be 0-5", name)
		}
	}
	if c.ScreenPop != nil {
		c.validateWebhook("screen_pop", c.ScreenPop, add)
	}
	for _, name := range sortedKeys(c.Announcements) {
		a := c.Announcements[name]
		path := "announcements." + name
		c.checkPromptRefs(path+".prompt", a.Prompt, add)
		if a.Next != "" && !c.nodeExists(a.Next) {
			add(path+".next", "announcement %q: next node %q does not exist", name, a.Next)
		}
	}
	if e := c.Flow.Escape; e.OutOfHours != "" && e.OutOfHours != e.Node && !c.nodeExists(e.OutOfHours) {
		add("flow.escape.out_of_hours", "escape out_of_hours node %q does not exist", e.OutOfHours)
	}
	c.promptT = map[string]*tmpl.Template{}
	for _, name := range sortedKeys(c.Prompts.Items) {
		p := c.Prompts.Items[name]
		if !strings.Contains(p.Text, "{{") {
			continue
		}
		t, err := tmpl.Parse(p.Text)
		if err != nil {
			add("prompts.items."+name+".text", "prompt %q: %v", name, err)
			continue
		}
		if p.File != "" {
			add("prompts.items."+name+".text", "prompt %q: a recording cannot say {{variables}}; give only a text", name)
		}
		c.promptT[name] = t
	}
	if id := c.Flow.Identity; id != nil {
		const path = "flow.identity"
		if id.Account == nil || id.PIN == nil || id.Check == nil {
			add(path, "identity needs account, pin and check steps")
			return
		}
		for _, st := range []struct {
			field, kind string
			n           *Node
		}{{"account", KindCollect, id.Account}, {"pin", KindCollect, id.PIN}, {"check", KindLookup, id.Check}} {
			p := path + "." + st.field
			if st.n.Type != st.kind {
				add(p+".type", "identity %s is a %s step", st.field, st.kind)
				continue
			}
			c.checkPromptRefs(p+".prompt", st.n.Prompt, add)
			if st.kind == KindCollect {
				c.validateCollect(p, "identity."+st.field, st.n, add)
				if st.n.Entity != "digits" {
					add(p+".entity", "identity %s: entity must be digits", st.field)
				}
			} else {
				c.validateLookup(p, "identity.check", st.n, add)
			}
		}
		e, err := cond.Parse(id.Verified)
		if err != nil {
			add(path+".verified", "identity verified condition %q: %v", id.Verified, err)
		} else {
			id.verified = e
		}
		if id.Attempts < 1 || id.Attempts > 5 {
			add(path+".attempts", "identity attempts must be 1-5")
		}
		if !c.nodeExists(id.OnFailure) {
			add(path+".on_failure", "identity on_failure node %q does not exist (and there is no escape node)", id.OnFailure)
		}
		c.checkPromptRefs(path+".retry_prompt", id.RetryPrompt, add)
		c.checkPromptRefs(path+".failure_prompt", id.FailurePrompt, add)
	}
}
