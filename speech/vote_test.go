package speech

import (
	"math"
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
	if got, _ := classify(c, res, false); got.Intent != "check_balance" {
		t.Errorf("without vote: %+v", got)
	}
	if got, _ := classify(c, res, true); got.Intent != "lost_card" {
		t.Errorf("with vote: %+v, want lost_card (0.5 against 0.4)", got)
	}
	// Out of scope can win the vote too.
	res.Alternatives = []asr.Alternative{{Text: "uh", Confidence: 0.3}, {Text: "er", Confidence: 0.3}}
	if got, _ := classify(c, res, true); !got.OutOfScope {
		t.Errorf("noise alternatives: %+v", got)
	}
	// Ties keep the best hypothesis' label.
	res.Alternatives = []asr.Alternative{{Text: "block my card", Confidence: 0.4}}
	if got, _ := classify(c, res, true); got.Intent != "check_balance" {
		t.Errorf("tie: %+v", got)
	}
}

// probClassifier gives fixed in-scope probabilities per text; a text
// whose best probability is under 0.5 is out of scope.
type probClassifier map[string][]nlu.Scored

func (m probClassifier) Classify(text string) nlu.Result {
	alts := m[text]
	if len(alts) == 0 || alts[0].Confidence < 0.5 {
		r := nlu.Result{OutOfScope: true, Alternatives: alts}
		if len(alts) > 0 {
			r.Confidence = alts[0].Confidence
		}
		return r
	}
	return nlu.Result{Intent: alts[0].Intent, Confidence: alts[0].Confidence, Alternatives: alts}
}

func TestTurnConfidence(t *testing.T) {
	c := probClassifier{
		"block my card": {{Intent: "lost_card", Confidence: 0.9}, {Intent: "check_balance", Confidence: 0.1}},
		"lock my card":  {{Intent: "lost_card", Confidence: 0.6}, {Intent: "check_balance", Confidence: 0.4}},
		"check my card": {{Intent: "check_balance", Confidence: 0.7}, {Intent: "lost_card", Confidence: 0.3}},
		"uh":            {{Intent: "check_balance", Confidence: 0.2}, {Intent: "lost_card", Confidence: 0.1}},
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	// Agreement: every hypothesis says lost_card.
	r, conf := classify(c, asr.Result{Text: "block my card", Confidence: 0.5, Alternatives: []asr.Alternative{{Text: "lock my card", Confidence: 0.5}}}, true)
	if r.Intent != "lost_card" || !near(conf, 0.75) {
		t.Errorf("agreement: %s %.3f, want lost_card 0.75", r.Intent, conf)
	}
	// Disagreement lowers it: lost_card wins the vote (0.6 against 0.4)
	// with 0.6*0.9 + 0.4*0.3 = 0.66 of the mass.
	r, conf = classify(c, asr.Result{Text: "check my card", Confidence: 0.4, Alternatives: []asr.Alternative{{Text: "block my card", Confidence: 0.6}}}, true)
	if r.Intent != "lost_card" || !near(conf, 0.66) {
		t.Errorf("disagreement: %s %.3f, want lost_card 0.66", r.Intent, conf)
	}
	// Without the vote the best hypothesis decides; its confidence counts
	// the alternatives all the same: 0.4*0.7 + 0.6*0.1.
	r, conf = classify(c, asr.Result{Text: "check my card", Confidence: 0.4, Alternatives: []asr.Alternative{{Text: "block my card", Confidence: 0.6}}}, false)
	if r.Intent != "check_balance" || !near(conf, 0.34) {
		t.Errorf("best only: %s %.3f, want check_balance 0.34", r.Intent, conf)
	}
	// Out of scope gets what the rejected hypothesis leaves its intents.
	r, conf = classify(c, asr.Result{Text: "uh", Confidence: 1}, true)
	if !r.OutOfScope || !near(conf, 0.7) {
		t.Errorf("out of scope: %+v %.3f, want 0.7", r, conf)
	}
	// A text the classifier knows nothing about is surely out of scope.
	if r, conf = classify(c, asr.Result{Text: "zzz", Confidence: 1}, true); !r.OutOfScope || conf != 1 {
		t.Errorf("unknown: %+v %.3f", r, conf)
	}
	// No confidences from the engine: the classifier alone.
	if _, conf = classify(c, asr.Result{Text: "lock my card"}, true); !near(conf, 0.6) {
		t.Errorf("engine without confidences: %.3f, want 0.6", conf)
	}
}

func TestCoverageCurve(t *testing.T) {
	// Ranked by confidence: right, right, wrong, right, wrong, no answer.
	conf := []float64{0.9, 0.8, 0.7, 0.6, 0.5, -1}
	ok := []bool{true, true, false, true, false, false}
	auc, pts := coverageCurve(conf, ok, []float64{0.5, 1.0 / 3, 1})
	// Right answers beat 3, 3 and 2 of the 3 wrong ones: 8/9.
	if math.Abs(auc-8.0/9) > 1e-9 {
		t.Errorf("AUC %.4f, want %.4f", auc, 8.0/9)
	}
	// The no-answer item is never covered, so full coverage is absent.
	if len(pts) != 2 || pts[0].Coverage != 0.5 || pts[0].MinConfidence != 0.7 || math.Abs(pts[0].Accuracy-2.0/3) > 1e-9 ||
		pts[1].MinConfidence != 0.8 || pts[1].Accuracy != 1 {
		t.Errorf("points %+v", pts)
	}
	// Ties are taken together and count half in the AUC.
	auc, pts = coverageCurve([]float64{0.5, 0.5, 0.5, 0.1}, []bool{true, false, true, false}, []float64{0.25})
	if math.Abs(auc-(2*0.5+2*1)/4) > 1e-9 || len(pts) != 1 || pts[0].Coverage != 0.75 {
		t.Errorf("ties: AUC %.3f points %+v", auc, pts)
	}
	if auc, _ := coverageCurve([]float64{0.3, 0.9}, []bool{true, true}, nil); auc != -1 {
		t.Errorf("all right: AUC %v, want -1", auc)
	}
}
