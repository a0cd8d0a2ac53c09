package journey

import (
	"strings"
)

// check compares the call with the journey's expectations.
func check(res *Result, j *Journey) {
	r, x := res.Record, j.Expect
	path := strings.Join(r.Path, ">")
	if len(x.Path) > 0 && path != strings.Join(x.Path, ">") {
		res.failf("path %s, want %s", path, strings.Join(x.Path, ">"))
	}
	if len(x.Visits) > 0 && !subsequence(r.Path, x.Visits, func(a, b string) bool { return a == b }) {
		res.failf("path %s does not visit %s in that order", path, strings.Join(x.Visits, ", "))
	}
	for _, n := range x.NotVisits {
		for _, p := range r.Path {
			if p == n {
				res.failf("path %s visits %s", path, n)
				break
			}
		}
	}
	var prompts []string
	for _, e := range r.Events {
		if e.Kind == "prompt" {
			prompts = append(prompts, e.Text)
		}
	}
	if len(x.Heard) > 0 && !subsequence(prompts, x.Heard, func(p, want string) bool {
		return strings.Contains(strings.ToLower(p), strings.ToLower(want))
	}) {
		res.failf("did not hear %q in order; prompts were:\n    %s", x.Heard, strings.Join(prompts, "\n    "))
	}
	for _, nh := range x.NotHeard {
		if containsAny(prompts, nh) {
			res.failf("heard %q, which must not be said", nh)
		}
	}
	for k, want := range x.Vars {
		got, ok := r.Vars[k]
		switch {
		case want == "" && ok:
			res.failf("variable %s = %q, want it unset", k, got)
		case want != "" && got != want:
			res.failf("variable %s = %q, want %q", k, got, want)
		}
	}
	switch {
	case x.Transfer == "none" && r.Transfer != nil:
		res.failf("transferred to %s, want no transfer", r.Transfer.Target)
	case x.Transfer != "" && x.Transfer != "none" && (r.Transfer == nil || r.Transfer.Target != x.Transfer):
		got := "no transfer"
		if r.Transfer != nil {
			got = r.Transfer.Target
		}
		res.failf("transfer to %s, want %s", got, x.Transfer)
	}
	if len(x.Headers) > 0 {
		if res.Transfer == nil {
			res.failf("no transfer, so no headers %v", x.Headers)
		} else {
			for k, want := range x.Headers {
				if got := res.Transfer.Headers[k]; got != want {
					res.failf("transfer header %s = %q, want %q", k, got, want)
				}
			}
		}
	}
	var lookups, hooks []string
	for _, q := range res.Requests {
		if q.Backend == "webhook" {
			hooks = append(hooks, strings.TrimPrefix(q.Path, "/"))
		} else {
			lookups = append(lookups, q.String())
		}
	}
	// An explicit empty list (lookups: []) means none at all.
	if x.Lookups != nil && len(x.Lookups) == 0 && len(lookups) > 0 {
		res.failf("lookups %q, want none", lookups)
	}
	if len(x.Lookups) > 0 && !subsequence(lookups, x.Lookups, func(a, b string) bool { return a == b }) {
		res.failf("lookups %q, want %q in order", lookups, x.Lookups)
	}
	if x.Webhooks != nil && len(x.Webhooks) == 0 && len(hooks) > 0 {
		res.failf("webhooks %q, want none", hooks)
	}
	if len(x.Webhooks) > 0 && !subsequence(hooks, x.Webhooks, func(a, b string) bool { return a == b }) {
		res.failf("webhooks %q, want %q in order", hooks, x.Webhooks)
	}
	if x.End != "" && string(r.EndReason) != x.End {
		res.failf("end reason %s, want %s", r.EndReason, x.End)
	}
	switch {
	case x.Escape == "none" && r.EscapeNode != "":
		res.failf("escape hatch used at %s, want not used", r.EscapeNode)
	case x.Escape != "" && x.Escape != "none" && r.EscapeNode != x.Escape:
		res.failf("escape hatch used at %q, want %s", r.EscapeNode, x.Escape)
	}
	if x.Voicemail && r.Voicemail == nil {
		res.failf("no voicemail recorded")
	}
	if x.Callback != "" && (r.Callback == nil || r.Callback.Number != x.Callback) {
		var got string
		if r.Callback != nil {
			got = r.Callback.Number
		}
		res.failf("callback on %q, want %s", got, x.Callback)
	}
	if x.Digits != "" && r.Digits != x.Digits {
		res.failf("digits %q, want %q", r.Digits, x.Digits)
	}
}

// subsequence reports whether want appears in got in order.
func subsequence(got, want []string, match func(got, want string) bool) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && match(g, want[i]) {
			i++
		}
	}
	return i == len(want)
}
