package nlu

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestClassifyRecognizerErrors feeds the bank intents utterances as a
// speech recognizer gets them wrong: words missing, misheard as a
// similar-sounding word, fillers and false starts inserted, no
// punctuation or case.
func TestClassifyRecognizerErrors(t *testing.T) {
	c := trainBank(t)
	tests := []struct {
		name, text, want string
	}{
		{"missing words", "how much money", "check_balance"},
		{"missing verb", "my account balance", "check_balance"},
		{"misheard word", "check my balanced", "check_balance"},
		{"misheard words", "i lost my cart", "report_lost_card"},
		{"homophone", "pay my bil", "pay_bill"},
		{"filler words", "um uh i want to uh make a payment", "pay_bill"},
		{"false start", "i want to i want to speak to someone", "talk_to_agent"},
		{"word order", "stolen my card was", "report_lost_card"},
		{"run together", "checkmy balance", "check_balance"},
		{"split word", "opera tor", "talk_to_agent"},
		{"upper case", "BLOCK MY CARD", "report_lost_card"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Classify(tt.text)
			if r.Intent != tt.want {
				t.Errorf("Classify(%q) = %+v, want %s", tt.text, r, tt.want)
			}
		})
	}
}

// recognizerNoise damages an utterance the way a recognizer does: with
// equal chance it drops a word, replaces one letter of a word (a near
// miss), or inserts a filler.
func recognizerNoise(text string, rng *rand.Rand) string {
	words := strings.Fields(Normalize(text))
	if len(words) < 3 {
		return text
	}
	i := rng.IntN(len(words))
	switch rng.IntN(3) {
	case 0:
		words = append(words[:i], words[i+1:]...)
	case 1:
		w := []byte(words[i])
		w[rng.IntN(len(w))] = byte('a' + rng.IntN(26))
		words[i] = string(w)
	default:
		words = append(words[:i], append([]string{"uh"}, words[i:]...)...)
	}
	return strings.Join(words, " ")
}

// TestHWU64RecognizerNoise checks that one recognizer error per utterance
// costs little accuracy: the classifier trained on HWU64 10-shot keeps at
// least 90 % of its clean validation accuracy on damaged utterances.
func TestHWU64RecognizerNoise(t *testing.T) {
	train, err := ReadLineAligned("../../shared/data/intents/hwu64/train_10")
	if err != nil {
		t.Skip("HWU64 data not found:", err)
	}
	val, err := ReadLineAligned("../../shared/data/intents/hwu64/valid")
	if err != nil {
		t.Fatal(err)
	}
	intents, _ := IntentsFromExamples(train)
	c, err := Train(intents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.SetThreshold(1e-9)
	clean := c.Evaluate(val, nil).Accuracy
	rng := rand.New(rand.NewPCG(1, 1))
	noisy := make([]Example, len(val))
	for i, e := range val {
		noisy[i] = Example{Text: recognizerNoise(e.Text, rng), Intent: e.Intent}
	}
	damaged := c.Evaluate(noisy, nil).Accuracy
	t.Logf("HWU64 10-shot val accuracy: clean %.4f, one recognizer error per utterance %.4f", clean, damaged)
	if damaged < 0.9*clean {
		t.Errorf("accuracy with recognizer errors %.4f below 90 %% of clean %.4f", damaged, clean)
	}
}
