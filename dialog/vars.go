package dialog

import (
	"net/url"
	"sort"
	"strings"

	"github.com/openivr/ivr/config"
)

// Var resolves a variable for conditions and templates: secrets (PINs,
// only for lookups that need them), then collected and looked-up values,
// then the built-ins (caller, open, time...).
func (s *session) Var(name string) (string, bool) {
	if v, ok := s.secrets[name]; ok {
		return v, true
	}
	if v, ok := s.rec.Vars[name]; ok {
		return v, true
	}
	now := s.e.now()
	sched := s.e.cfg.Schedule()
	if sched != nil {
		now = now.In(sched.Location())
	}
	switch name {
	case "caller":
		return s.call.FromUser(), true
	case "caller_uri":
		return s.call.From(), true
	case "called":
		return s.call.To(), true
	case "call_id":
		return s.call.ID(), true
	case "channel":
		return s.call.Channel(), true
	case "open":
		return boolStr(sched.Open(now)), true
	case "holiday":
		return boolStr(sched.Holiday(now)), true
	case "time":
		return now.Format("15:04"), true
	case "weekday":
		return strings.ToLower(now.Weekday().String()[:3]), true
	case "date":
		return now.Format("2006-01-02"), true
	}
	return "", false
}

// List resolves a named list of the config (for `caller in vip`).
func (s *session) List(name string) ([]string, bool) {
	l, ok := s.e.cfg.Lists[name]
	return l, ok
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// setVar stores a value: secrets apart from the record.
func (s *session) setVar(name, value string, secret bool) {
	if secret {
		s.secrets[name] = value
		delete(s.rec.Vars, name)
		return
	}
	s.rec.Vars[name] = value
}

// closedRedirect sends calls bound for the human to the out-of-hours node
// while the line is closed.
func (s *session) closedRedirect(name string) string {
	esc := s.e.cfg.Flow.Escape
	if name == "" || name != esc.Node || esc.OutOfHours == "" || esc.OutOfHours == esc.Node {
		return name
	}
	if sched := s.e.cfg.Schedule(); sched != nil && !sched.Open(s.e.now()) {
		return esc.OutOfHours
	}
	return name
}

// publicVars are the variables handed to agents and webhooks: everything
// collected except secrets (which never enter rec.Vars).
func (s *session) publicVars() map[string]string {
	out := make(map[string]string, len(s.rec.Vars))
	for k, v := range s.rec.Vars {
		out[k] = v
	}
	return out
}

// maxDataHeader bounds the X-IVR-Data header (SIP over UDP must fit a datagram).
const maxDataHeader = 800

// dataHeader is the collected data as k=v;k=v for the X-IVR-Data header
// (values URL-escaped; the speech fields have their own headers).
func (s *session) dataHeader() string {
	keys := make([]string, 0, len(s.rec.Vars))
	for k := range s.rec.Vars {
		switch k {
		case "last_intent", "last_utterance", "lookup_status", config.VerifiedVar:
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		item := url.QueryEscape(k) + "=" + url.QueryEscape(s.rec.Vars[k])
		if b.Len()+len(item)+1 > maxDataHeader {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(item)
	}
	return b.String()
}
