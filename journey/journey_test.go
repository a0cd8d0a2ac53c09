package journey

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/config"
)

// The music-on-hold library decodes a queue's tracks on a process-wide
// worker that may still be finishing a file when the last journey ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/openivr/ivr/hold.(*Library).work"))
}

// TestExamples runs every example line's journeys in text mode: the
// examples must validate, lint clean and keep their promises.
func TestExamples(t *testing.T) {
	configs, _ := filepath.Glob("../examples/*/ivr.yaml")
	if len(configs) < 3 {
		t.Fatalf("examples: %v", configs)
	}
	for _, cfgPath := range configs {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range cfg.Lint() {
			t.Errorf("lint: %v", w)
		}
		files, _ := filepath.Glob(filepath.Join(filepath.Dir(cfgPath), "journeys", "*.yaml"))
		if len(files) == 0 {
			t.Errorf("%s has no journeys", cfgPath)
		}
		for _, f := range files {
			t.Run(strings.TrimPrefix(f, "../examples/"), func(t *testing.T) {
				t.Parallel()
				j, err := Load(f)
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := config.Load(cfgPath)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Run(context.Background(), cfg, j, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range res.Failures {
					t.Error(m)
				}
				if !res.Passed() && res.Record != nil {
					for _, e := range res.Record.Events {
						t.Logf("%-16s %-12s %s", e.Kind, e.Node, e.Text)
					}
				}
			})
		}
	}
}

const line = `
intents:
  - {name: balance, examples: [what is my balance, how much money do I have]}
backends:
  crm: {url: "http://crm.invalid"}
prompts:
  items:
    hi: {text: "How can I help?"}
    ask: {text: "Your account number?"}
    bal: {text: "Your balance is {{balance}}."}
    hold: {text: Hold on.}
targets:
  agent: {uri: "sip:agent@example.com"}
flow:
  start: main
  escape: {key: "0", node: human}
  nodes:
    main:
      type: menu
      prompt: hi
      timeout: 5s
      options: [{key: "1", intent: balance, goto: acct}]
    acct: {type: collect, prompt: ask, var: account, min_length: 4, max_length: 4, next: look}
    look: {type: lookup, backend: crm, path: "/balance/{{account}}", save: {balance: amount}, next: say, on_failure: human}
    say: {type: say, prompt: bal, next: human}
    human: {type: transfer, prompt: hold, target: agent}
`

func lineConfig(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(line), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunReportsWhatWentWrong(t *testing.T) {
	j, err := Parse([]byte(`
name: wrong expectations
backends:
  crm: [{path: /balance/1234, json: {amount: "10.00"}}]
steps:
  - say: what is my balance
  - hear: your account number
  - press: "1234"
  - hear: something never said
expect:
  path: [main, acct, look, say, elsewhere]
  vars: {account: "9999"}
  transfer: nobody
  lookups: ["GET crm /balance/1234", "GET crm /balance/5678"]
  end: ivr_hangup
`), "wrong.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), lineConfig(t), j, Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(res.Failures, "\n")
	for _, want := range []string{
		`step 4 (line 9): did not hear "something never said"`,
		"path main>acct>look>say>human, want main>acct>look>say>elsewhere",
		`variable account = "1234", want "9999"`,
		"transfer to agent, want nobody",
		`want ["GET crm /balance/1234" "GET crm /balance/5678"] in order`,
		"end reason transferred, want ivr_hangup",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("failures:\n%s\nwant %q", all, want)
		}
	}
	if res.Transfer == nil || res.Transfer.Headers["X-IVR-Data"] != "account=1234;balance=10.00" {
		t.Errorf("transfer %+v", res.Transfer)
	}
}

func TestUnknownBackendInJourney(t *testing.T) {
	j, err := Parse([]byte("backends: {erp: []}\n"), "j.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), lineConfig(t), j, Options{}); err == nil || !strings.Contains(err.Error(), `"erp" is not a backend`) {
		t.Errorf("err %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"steps:\n  - say: hi\n    press: \"1\"\n", "j.yaml:2: step 1: want exactly one of"},
		{"steps:\n  - press: \"1a\"\n", `j.yaml:2: step 1: 'a' is not a keypad key`},
		{"stepz: []\n", "j.yaml:1: field stepz is not a known key"},
		{"time: yesterday\n", `time "yesterday"`},
		{"transfer_outcome: maybe\n", "transfer_outcome"},
		{"steps: [\n", "j.yaml:"},
	} {
		if _, err := Parse([]byte(tc.src), "j.yaml"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParse: any journey text parses or fails cleanly.
func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("../examples/bank/journeys/balance.yaml")
	f.Add(b)
	f.Add([]byte("steps: [{say: hi}, {press: '12#'}, {silence: true}]\nexpect: {path: [a]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(b, "fuzz.yaml")
	})
}
