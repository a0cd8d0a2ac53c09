package main

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"unicode"

	"github.com/openivr/ivr/tts/sayas"
)

// prompts are the test sentences: what an IVR says, with the say-as
// markup prompts use for dynamic values.
var prompts = []string{
	"Your balance is {amount:112.40 GBP}.",
	"Please say yes or no.",
	"Your parcel will arrive on {date:03-04}.",
	"Say track a parcel, report damage, or speak to an agent.",
	"Your reference number is {digits:427198}.",
	"Thank you for calling. Goodbye.",
	"Press {digits:1} for accounts, {digits:2} for support, or hash to hear these options again.",
	"Please enter your account number followed by the hash key.",
	"I am sorry, I did not catch that.",
	"You are number {number:3} in the queue.",
	"Your call is important to us, please hold.",
	"To speak to an agent, say agent at any time.",
	"A payment of {amount:42.50 GBP} was received on Tuesday.",
	"Would you like to reschedule your delivery?",
	"Please call us back on {phone:020 7946 0018}.",
	"Your appointment is confirmed for {date:06-21}.",
	"We could not find that order, please try again.",
	"Our offices are closed for the holiday.",
	"Your new balance is {amount:1005 GBP}.",
	"Your order will be delivered on {weekday:2025-03-04} before {time:12:00}.",
}

type sentence struct {
	text  string   // plain text for the synthesizer
	words []string // the reference transcript
}

func references() ([]sentence, error) {
	out := make([]sentence, 0, len(prompts))
	for _, p := range prompts {
		t, err := sayas.Expand(p)
		if err != nil {
			return nil, err
		}
		out = append(out, sentence{text: t, words: normalize(t)})
	}
	return out, nil
}

// normalize lowercases and splits into words, dropping punctuation.
func normalize(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
}

func countWords(refs []sentence) int {
	n := 0
	for _, r := range refs {
		n += len(r.words)
	}
	return n
}

func loadDict(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w, _, ok := strings.Cut(sc.Text(), " "); ok {
			d[w] = true
		}
	}
	return d, sc.Err()
}

func missingWords(refs []sentence, dict map[string]bool) []string {
	var out []string
	for _, r := range refs {
		for _, w := range r.words {
			if !dict[w] {
				out = append(out, w)
			}
		}
	}
	sort.Strings(out)
	return out
}

// editDistance is the word-level Levenshtein distance: substitutions,
// deletions and insertions needed to turn hyp into ref.
func editDistance(ref, hyp []string) int {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			sub := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(hyp)]
}
