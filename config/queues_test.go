package config

import (
	"strings"
	"testing"
)

// TestCallbackNodeQueue: a callback node may name a queue with callbacks;
// an unknown queue, or one that cannot call back, is a config error.
func TestCallbackNodeQueue(t *testing.T) {
	base := minimal + `    cb: {type: callback, queue: %s, next: bye}
agents:
  alice: {uri: "sip:alice@example.com"}
queues:
  support:
    members: [alice]
    callback: {uri: "sip:{{number}}@example.com"}
  plain:
    members: [alice]
`
	if err := parse(t, strings.Replace(base, "%s", "support", 1)); err != nil {
		t.Fatalf("callback into a queue with callbacks: %v", err)
	}
	for q, want := range map[string]string{
		"nosuch": `queue "nosuch" is not defined`,
		"plain":  `queue "plain" has no callback: section`,
	} {
		err := parse(t, strings.Replace(base, "%s", q, 1))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "line.yaml:") {
			t.Errorf("queue %s: err %v, want %q with file:line", q, err, want)
		}
	}
}

// TestOutOfScopeInMainConfig: a line's config carries its out-of-scope
// examples beside its intents, as a standalone intents file does.
func TestOutOfScopeInMainConfig(t *testing.T) {
	c, err := Parse([]byte(minimal+"intents:\n  - {name: balance, examples: [check my balance]}\nout_of_scope:\n  - play some music\n  - what is the weather like\n"), "line.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.OutOfScope) != 2 || c.OutOfScope[1] != "what is the weather like" {
		t.Errorf("out_of_scope %q", c.OutOfScope)
	}
}
