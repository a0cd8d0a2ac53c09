package config

import (
	"strings"
	"testing"
)

// full uses every node kind and section beyond the basic flow.
const full = `
hours:
  timezone: Europe/London
  weekly: {mon-fri: "09:00-17:00"}
lists:
  vip: ["447700900001"]
backends:
  crm: {url: "http://crm.example.com/api"}
screen_pop: {url: "http://desk.example.com/pop"}
announcements:
  flood: {prompt: flood}
intents:
  - {name: track, examples: [where is my parcel, track my parcel]}
  - {name: damage, examples: [it arrived broken, report damage]}
prompts:
  items:
    hello: {text: Hello}
    ask: {text: Your number please}
    status: {text: "Your parcel is {{status}}."}
    flood: {text: Flooding.}
targets:
  human: {uri: "sip:agent@example.com"}
flow:
  start: route
  escape: {key: "*", node: human, out_of_hours: vm}
  identity:
    account: {prompt: ask, min_length: 8, max_length: 8}
    pin: {prompt: ask, min_length: 4, max_length: 4}
    check: {backend: crm, method: POST, path: /verify, body: '{"a": "{{account}}", "p": "{{pin}}"}', save: {verified: ok}}
  nodes:
    route:
      type: branch
      cases:
        - {when: caller in vip, goto: human}
        - {when: "!open", goto: vm}
      default: ask
    ask: {type: collect, prompt: ask, var: parcel, min_length: 10, max_length: 10, next: find}
    find: {type: lookup, backend: crm, path: "/parcels/{{parcel}}", save: {status: status}, next: say, requires_identity: true}
    say: {type: say, prompt: status, next: menu}
    menu:
      type: menu
      prompt: hello
      options:
        - {key: "1", intent: track, goto: say}
        - {key: "2", intent: damage, goto: human, when: 'status == "delivered"'}
    again: {type: goto, next: menu}
    vm: {type: voicemail, prompt: hello, notify: {url: "https://hooks.example.com/vm"}}
    cb: {type: callback, prompt: hello, next: bye}
    rate: {type: survey, prompt: hello, next: bye}
    human: {type: transfer, target: human}
    bye: {type: hangup}
`

func TestFullSchema(t *testing.T) {
	c, err := Parse([]byte(full), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	n := c.Flow.Nodes
	if n["ask"].Entity != "digits" || n["ask"].Terminator != "#" || *n["ask"].Retries != 2 || n["ask"].OnFailure != "human" {
		t.Errorf("collect defaults: %+v", n["ask"])
	}
	if n["find"].Method != "GET" || n["find"].OnNotFound != "human" || c.Flow.Identity.Check.Method != "POST" {
		t.Errorf("lookup defaults: %q %q", n["find"].Method, n["find"].OnNotFound)
	}
	if !c.Flow.Identity.PIN.Secret || c.Flow.Identity.Account.Var != "account" || c.Flow.Identity.Attempts != 3 {
		t.Errorf("identity defaults: %+v", c.Flow.Identity)
	}
	if n["rate"].Var != "survey_rate" || n["cb"].Var != "callback_number" || n["vm"].MaxDuration == 0 {
		t.Errorf("survey/callback/voicemail defaults")
	}
	if c.Schedule() == nil || n["menu"].Options[1].Cond() == nil || n["route"].Cases[0].Cond() == nil {
		t.Error("hours and conditions not parsed")
	}
	if c.PromptTemplate("status") == nil || c.PromptTemplate("hello") != nil {
		t.Error("prompt templates")
	}
	if *c.Backends["crm"].Retries != 1 || c.Backends["crm"].Timeout == 0 || c.ScreenPop.Timeout == 0 {
		t.Error("backend defaults")
	}
	if !c.Listens() {
		t.Error("a line with intents listens")
	}
	var msgs []string
	for _, w := range c.Lint() {
		msgs = append(msgs, w.Error())
	}
	// again, cb, rate and bye are deliberately unreachable; nothing else is wrong.
	if len(msgs) != 4 {
		t.Errorf("lint:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestNodeErrorsPointAtTheLine(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"collect without var", "var: parcel, ", "", `line.yaml:37: collect node "ask" needs var`},
		{"bad entity", "var: parcel,", "var: parcel, entity: colour,", `line.yaml:37: collect node "ask": entity "colour"`},
		{"bad pattern", "var: parcel,", "var: parcel, pattern: '[',", `line.yaml:37: collect node "ask": pattern:`},
		{"secret confirm", "var: parcel,", "var: parcel, secret: true, confirm: true,", `cannot be confirmed`},
		{"unknown backend", "{type: lookup, backend: crm", "{type: lookup, backend: erp", `line.yaml:38: lookup node "find": backend "erp" is not defined`},
		{"bad path template", `path: "/parcels/{{parcel}}"`, `path: "/parcels/{{parcel"`, `lookup node "find": path: column 10: {{ without }}`},
		{"bad condition", `when: 'status == "delivered"'`, `when: 'status == '`, `line.yaml:45: menu "menu": option condition`},
		{"unknown list", "caller in vip", "caller in vips", `line.yaml:34: condition "caller in vips": list "vips" is not defined`},
		{"case to nowhere", "goto: vm}\n      default", "goto: nowhere}\n      default", `line.yaml:35: branch node "route": case goes to unknown node "nowhere"`},
		{"branch without default", "      default: ask\n", "", `branch node "route" needs default`},
		{"bad hours", `"09:00-17:00"`, `"9-5"`, `line.yaml:4: hours: time "9": want HH:MM`},
		{"bad zone", "Europe/London", "Europe/Londres", `line.yaml:3: hours: unknown time zone`},
		{"bad webhook", "https://hooks.example.com/vm", "hooks.example.com", `line.yaml:47: webhook url "hooks.example.com"`},
		{"bad backend url", "http://crm.example.com/api", "crm", `line.yaml:8: backend "crm": url "crm"`},
		{"bad prompt template", "Your parcel is {{status}}.", "Your parcel is {{status.", `line.yaml:19: prompt "status": column 16: {{ without }}`},
		{"identity without check", "    check: {backend", "    chek: {backend", `field chek is not a known key`},
		{"identity needs config", "  identity:\n", "  identityx:\n", `field identityx`},
		{"unknown out_of_hours", "out_of_hours: vm", "out_of_hours: vmx", `escape out_of_hours node "vmx" does not exist`},
		{"unknown type", "{type: goto, next: menu}", "{type: jump, next: menu}", `unknown type "jump" (menu, say, collect`},
		{"announcement next", "flood: {prompt: flood}", "flood: {prompt: flood, next: nowhere}", `announcement "flood": next node "nowhere"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(full, tc.old) {
				t.Fatalf("fixture lacks %q", tc.old)
			}
			err := parse(t, strings.Replace(full, tc.old, tc.new, 1))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestLintFlowDesign(t *testing.T) {
	src := strings.Replace(full, "    again: {type: goto, next: menu}", `    again: {type: goto, next: loop}
    loop: {type: goto, next: again}
    quiet: {type: collect, prompt: ask, var: x, next: bye, no_escape: true}`, 1)
	src = strings.Replace(src, "[where is my parcel, track my parcel]", "[where is my parcel, track my parcel, report damage]", 1)
	src = strings.Replace(src, "[it arrived broken, report damage]", "[it arrived broken, report damage, where is my parcels]", 1)
	src = strings.Replace(src, `when: 'status == "delivered"'`, `when: 'stauts == "delivered"'`, 1)
	c, err := Parse([]byte(src), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range c.Lint() {
		msgs = append(msgs, w.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`node "loop" is a dead end`,
		`node "again" is a dead end`,
		`collect "quiet" has no escape hatch`,
		`line.yaml:14: intent "damage" example "report damage" is the same as intent "track" example "report damage"`,
		`is nearly the same as`,
		`menu "menu" option condition reads variable "stauts", which no node sets`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("lint:\n%s\nwant %q", all, want)
		}
	}
}

// FuzzParseFlow: configs using every node kind never make Parse or Lint panic.
func FuzzParseFlow(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("flow: {start: a, identity: {account: {}}, nodes: {a: {type: branch, cases: [{when: '(((', goto: a}]}}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, "fuzz.yaml", "")
		if err == nil {
			c.Lint()
		}
	})
}
