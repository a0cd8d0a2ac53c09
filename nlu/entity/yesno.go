package entity

import "strings"

var yesPhrases = []string{
	"yes", "yeah", "yea", "yep", "yup", "ya", "yah", "aye", "sure", "correct",
	"right", "affirmative", "absolutely", "definitely", "certainly", "indeed",
	"ok", "okay", "alright", "exactly", "true", "uh huh", "mhm",
	"of course", "go ahead", "i do", "thats it", "sounds good",
	"why not", "please do", "yes please", "i would",
}

var noPhrases = []string{
	"no", "nope", "nah", "negative", "incorrect", "wrong", "never", "false",
	"not", "dont", "do not", "i dont", "no thanks", "no thank you", "cancel",
	"it isnt", "thats wrong", "isnt", "wasnt", "arent",
}

// unsurePhrases make an answer neither yes nor no.
var unsurePhrases = []string{"not sure", "dont know", "do not know", "maybe", "perhaps", "no idea", "unsure"}

// correctionPhrases mark a changed answer: the last answer counts.
var correctionPhrases = []string{"i mean", "sorry", "actually", "i meant", "no wait", "wait"}

// YesNo reads a yes/no answer: "yes", "yeah sure", "that's right" are
// yes; "no", "nope", "that's not right", "not really" are no (a negation
// turns the answer it precedes into no). "Not sure" and "I don't know",
// as well as answers with both, are not an answer (ok false) unless a
// correction ("no, I mean yes") makes the last one count.
func YesNo(text string) (yes bool, ok bool) {
	words := Words(text)
	if len(words) == 0 {
		return false, false
	}
	joined := " " + strings.Join(words, " ") + " "
	for _, p := range unsurePhrases {
		if strings.Contains(joined, " "+p+" ") {
			return false, false
		}
	}
	type answer struct {
		at  int
		yes bool
	}
	var answers []answer
	for i := 0; i < len(words); i++ {
		if n := matchAt(words, i, noPhrases); n > 0 {
			answers = append(answers, answer{at: i, yes: false})
			// A negation swallows the yes word it precedes: "not right".
			j := i + n
			if j < len(words) && (words[j] == "really" || words[j] == "quite" || words[j] == "exactly") {
				j++
			}
			if m := matchAt(words, j, yesPhrases); m > 0 {
				j += m
			}
			i = j - 1
			continue
		}
		if n := matchAt(words, i, yesPhrases); n > 0 {
			answers = append(answers, answer{at: i, yes: true})
			i += n - 1
		}
	}
	if len(answers) == 0 {
		return false, false
	}
	first := answers[0].yes
	mixed := false
	for _, a := range answers[1:] {
		if a.yes != first {
			mixed = true
		}
	}
	if !mixed {
		return first, true
	}
	for _, p := range correctionPhrases {
		if strings.Contains(joined, " "+p+" ") {
			return answers[len(answers)-1].yes, true
		}
	}
	return false, false
}

// matchAt returns the length in words of the longest phrase that starts at
// words[i], or 0.
func matchAt(words []string, i int, phrases []string) int {
	best := 0
	for _, p := range phrases {
		pw := strings.Fields(p)
		if len(pw) <= best || i+len(pw) > len(words) {
			continue
		}
		match := true
		for k, w := range pw {
			if words[i+k] != w {
				match = false
				break
			}
		}
		if match {
			best = len(pw)
		}
	}
	return best
}
