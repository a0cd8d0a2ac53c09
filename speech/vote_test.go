package speech

import (
	"testing"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/nlu"
)

// mapClassifier labels known texts; anything else is out of scope.
type mapClassifier map[string]string

func (m mapClassifier) Classify(text string) nlu.Result {
	if in, ok := m[text]; ok {
		return nlu.Result{Intent: in, Confidence: 0.9}
	}
	return nlu.Result{OutOfScope: true, Confidence: 0.1}
}

func TestClassifyVotesOverAlternatives(t *testing.T) {
	c := mapClassifier{"block my card": "lost_card", "lock my card": "lost_card", "check my card": "check_balance"}
	res := asr.Result{Text: "check my card", Confidence: 0.4, Alternatives: []asr.Alternative{
		{Text: "block my card", Confidence: 0.3}, {Text: "lock my card", Confidence: 0.2}, {Text: "uh", Confidence: 0.1},
	}}
	if got := classify(c, res, false); got.Intent != "check_balance" {
		t.Errorf("without vote: %+v", got)
	}
	if got := classify(c, res, true); got.Intent != "lost_card" {
		t.Errorf("with vote: %+v, want lost_card (0.5 against 0.4)", got)
	}
	// Out of scope can win the vote too.
	res.Alternatives = []asr.Alternative{{Text: "uh", Confidence: 0.3}, {Text: "er", Confidence: 0.3}}
	if got := classify(c, res, true); !got.OutOfScope {
		t.Errorf("noise alternatives: %+v", got)
	}
	// Ties keep the best hypothesis' label.
	res.Alternatives = []asr.Alternative{{Text: "block my card", Confidence: 0.4}}
	if got := classify(c, res, true); got.Intent != "check_balance" {
		t.Errorf("tie: %+v", got)
	}
}
