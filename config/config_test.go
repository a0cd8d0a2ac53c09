package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoLoadsAndLintsClean(t *testing.T) {
	c, err := Demo()
	if err != nil {
		t.Fatalf("demo config: %v", err)
	}
	if ws := c.Lint(); len(ws) != 0 {
		t.Errorf("demo config lint: %v", ws)
	}
	if c.Flow.Start != "main" || c.Flow.Escape.Key != "0" {
		t.Errorf("demo flow: start %q escape %q", c.Flow.Start, c.Flow.Escape.Key)
	}
	if *c.Flow.Nodes["main"].Retries != 2 || c.Flow.Nodes["main"].OnFailure != "operator" {
		t.Errorf("menu defaults not applied")
	}
}

const minimal = `
prompts:
  items:
    hello: {text: Hello}
targets:
  human: {uri: "sip:agent@example.com"}
flow:
  start: main
  escape: {key: "0", node: human}
  nodes:
    main:
      type: menu
      prompt: hello
      options:
        - {key: "1", goto: bye}
    human: {type: transfer, target: human}
    bye: {type: hangup}
`

func parse(t *testing.T, src string) error {
	t.Helper()
	_, err := Parse([]byte(src), "line.yaml", t.TempDir())
	return err
}

func TestMinimalConfigAndDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Listeners(); len(got) != 2 || got[0].Network != "udp" || got[1].Network != "tcp" {
		t.Errorf("default listeners %v", got)
	}
	if c.Targets["human"].Method != "bridge" || c.RTP.PortMin != 10000 || *c.RTP.MediaTimeout == 0 {
		t.Errorf("defaults: %+v %+v", c.Targets["human"], c.RTP)
	}
	if c.Flow.Nodes["main"].OnFailure != "human" {
		t.Errorf("a menu's failure should default to the escape node, got %q", c.Flow.Nodes["main"].OnFailure)
	}
}

// TestErrorsPointAtTheLine checks every kind of mistake reports
// file:line: message, with the line of the mistake.
func TestErrorsPointAtTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown key", strings.Replace(minimal, "    main:\n", "    main:\n      colour: blue\n", 1), "line.yaml:12: field colour is not a known key"},
		{"wrong type", strings.Replace(minimal, "      prompt: hello\n", "      prompt: hello\n      retries: lots\n", 1), "line.yaml:14: cannot unmarshal"},
		{"bad yaml", "flow: [\n", "line.yaml:1:"},
		{"unknown goto", strings.Replace(minimal, "goto: bye", "goto: nowhere", 1), `line.yaml:15: menu "main": option "1" goes to unknown node "nowhere"`},
		{"unknown prompt", strings.Replace(minimal, "prompt: hello", "prompt: helo", 1), `line.yaml:13: prompt "helo" is not defined`},
		{"bad key", strings.Replace(minimal, `key: "1"`, `key: "11"`, 1), `line.yaml:15: menu "main": option key "11" is not a keypad key`},
		{"duplicate key", strings.Replace(minimal, `        - {key: "1", goto: bye}`, "        - {key: \"1\", goto: bye}\n        - {key: \"1\", goto: main}", 1), `key "1" is used twice`},
		{"unknown target", strings.Replace(minimal, "target: human", "target: robot", 1), `transfer node "human": target "robot" is not defined`},
		{"missing start", strings.Replace(minimal, "start: main", "start: begin", 1), `line.yaml:8: start node "begin" does not exist`},
		{"bad uri", strings.Replace(minimal, `"sip:agent@example.com"`, `"agent@example.com"`, 1), `must be a sip: or sips: URI`},
		{"bad listen", "sip:\n  listen: [\"udp:nowhere\"]\n" + minimal, `line.yaml:2: listen "udp:nowhere"`},
		{"missing recording", strings.Replace(minimal, "hello: {text: Hello}", "hello: {file: nope.wav}", 1), `recording`},
		{"node without type", strings.Replace(minimal, "bye: {type: hangup}", "bye: {prompt: hello}", 1), `node "bye" has no type`},
		{"say without next", strings.Replace(minimal, "bye: {type: hangup}", "bye: {type: say, prompt: hello}", 1), `say node "bye": next node "" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parse(t, tc.src)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Errorf("error is %T, want config.Errors", err)
			}
		})
	}
}

func TestLint(t *testing.T) {
	src := strings.Replace(minimal, `        - {key: "1", goto: bye}`, `        - {key: "1", goto: bye}
        - {key: "2", goto: bye}
        - {key: "3", goto: bye}
        - {key: "4", goto: bye}
        - {key: "5", goto: bye}
        - {key: "6", goto: bye}`, 1)
	src = strings.Replace(src, "    bye: {type: hangup}", "    bye: {type: hangup}\n    orphan: {type: hangup}", 1)
	c, err := Parse([]byte(src), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range c.Lint() {
		msgs = append(msgs, w.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{`menu "main" has 6 options`, `node "orphan" cannot be reached`} {
		if !strings.Contains(all, want) {
			t.Errorf("lint:\n%s\nwant %q", all, want)
		}
	}
}

func TestEnvExpansion(t *testing.T) {
	t.Setenv("IVR_TEST_AGENT", "sip:alice@example.com")
	src := strings.Replace(minimal, `"sip:agent@example.com"`, `${IVR_TEST_AGENT:-sip:bob@example.com}`, 1)
	c, err := Parse([]byte(src), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Targets["human"].URI != "sip:alice@example.com" {
		t.Errorf("uri %q", c.Targets["human"].URI)
	}
	os.Unsetenv("IVR_TEST_AGENT")
	src = strings.Replace(minimal, `"sip:agent@example.com"`, `${IVR_TEST_UNSET_X:-sip:bob@example.com}`, 1)
	if c, err = Parse([]byte(src), "line.yaml", ""); err != nil || c.Targets["human"].URI != "sip:bob@example.com" {
		t.Errorf("default: %v %v", err, c)
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sounds"), 0o755)
	os.WriteFile(filepath.Join(dir, "sounds", "hi.wav"), []byte("RIFF"), 0o644)
	src := strings.Replace(minimal, "  items:\n    hello: {text: Hello}", "  dir: sounds\n  items:\n    hello: {file: hi.wav, text: Hi}", 1)
	path := filepath.Join(dir, "line.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PromptPath("hello"); got != filepath.Join(dir, "sounds", "hi.wav") {
		t.Errorf("prompt path %q", got)
	}
	if got := c.Resolve(c.DataDir); got != filepath.Join(dir, "data") {
		t.Errorf("data dir %q", got)
	}
}

// FuzzParse: any bytes give a config or an error, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add(DemoYAML())
	f.Add([]byte("flow:\n  nodes:\n    a: ~\n"))
	f.Add([]byte("prompts: {items: {a: {}}}\nflow: {start: a, nodes: {a: {type: menu, options: [{key: x}]}}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, "fuzz.yaml", "")
		if err == nil {
			c.Lint()
		}
	})
}
