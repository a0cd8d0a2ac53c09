package dialog

import (
	"testing"

	"github.com/openivr/ivr/config"
)

// TestTrainClassifierLearnsOutOfScope: the line's out_of_scope examples
// become the classifier's rejection class.
func TestTrainClassifierLearnsOutOfScope(t *testing.T) {
	src := `
intents:
  - {name: balance, examples: [check my balance, what is my balance, how much money do I have]}
  - {name: lost_card, examples: [I lost my card, my card was stolen, block my card]}
out_of_scope: [play some music, what is the weather like, tell me a joke]
prompts:
  items:
    hello: {text: Hello}
flow:
  start: main
  nodes:
    main: {type: say, prompt: hello, next: bye}
    bye: {type: hangup}
`
	cfg, err := config.Parse([]byte(src), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := TrainClassifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Classify("please play some music"); !r.OutOfScope {
		t.Errorf("an out-of-scope example's paraphrase -> %+v", r)
	}
	if r := c.Classify("what is my balance please"); r.Intent != "balance" {
		t.Errorf("in scope -> %+v", r)
	}
}
