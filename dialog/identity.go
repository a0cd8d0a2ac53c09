package dialog

import (
	"github.com/openivr/ivr/config"
)

// Built-in wording of the identity check.
const (
	textIdentityRetry  = "Sorry, those details don't match our records. Let's try again."
	textIdentityFailed = "Sorry, I couldn't verify your details."
)

// verify runs the identity check (flow.identity) before a node that
// requires it: the account number, the PIN (secret), a lookup, and the
// Verified condition on its answer, Attempts times. It returns ok when
// the caller is verified; otherwise next is where the call goes (the
// escape node if the caller asked for a human, else on_failure).
func (s *session) verify(node string) (next string, ok bool, err error) {
	id := s.e.cfg.Flow.Identity
	s.event("identity", node, "")
	for attempt := 1; attempt <= id.Attempts; attempt++ {
		a, err := s.ask(node, id.Account)
		if err != nil || !a.ok {
			return a.next, false, err
		}
		s.setVar(id.Account.Var, a.value, id.Account.Secret)
		p, err := s.ask(node, id.PIN)
		if err != nil || !p.ok {
			return p.next, false, err
		}
		s.setVar(id.PIN.Var, p.value, true)
		status, body, err := s.request(node, id.Check)
		delete(s.secrets, id.PIN.Var) // the PIN is needed for the check only
		if err != nil {
			s.log.Warn("identity check failed", "err", err)
			s.event("identity_failed", node, "backend unavailable")
			if err := s.play(node, id.FailurePrompt); err != nil {
				return "", false, err
			}
			return id.OnFailure, false, nil
		}
		if status >= 200 && status < 300 {
			s.saveFields(id.Check, body)
		}
		if status >= 200 && status < 300 && id.VerifiedCond().Eval(s) {
			s.rec.Vars[config.VerifiedVar] = "true"
			s.event("identity_verified", node, "")
			return "", true, nil
		}
		s.event("identity_failed", node, "details do not match")
		if attempt < id.Attempts {
			segs := refs(id.RetryPrompt)
			if len(segs) == 0 {
				segs = []segment{{text: textIdentityRetry}}
			}
			if _, err := s.turn(node, segs, turnOpts{}); err != nil {
				return "", false, err
			}
		}
	}
	segs := refs(id.FailurePrompt)
	if len(segs) == 0 {
		segs = []segment{{text: textIdentityFailed}}
	}
	if _, err := s.turn(node, segs, turnOpts{}); err != nil {
		return "", false, err
	}
	return id.OnFailure, false, nil
}
