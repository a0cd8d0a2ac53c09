package entity

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// List is a custom entity type: a closed set of values, each recognized by
// its own name, its synonyms and optional regular expressions. It is
// configured in YAML, for example:
//
//	name: product
//	values:
//	  - value: broadband
//	    synonyms: [internet, wifi, fibre]
//	  - value: order_number
//	    patterns: ['\b[a-z]{2}\d{6}\b']
type List struct {
	// Name names the entity type, as intents and the dialog refer to it.
	Name string `yaml:"name"`
	// Values are the canonical values and how callers say them.
	Values []ListValue `yaml:"values"`
}

// ListValue is one canonical value of a List.
type ListValue struct {
	// Value is what a match returns.
	Value string `yaml:"value"`
	// Synonyms are other words or phrases that mean Value. Matching is by
	// whole words, ignoring case and punctuation.
	Synonyms []string `yaml:"synonyms,omitempty"`
	// Patterns are RE2 regular expressions, matched case-insensitively
	// against the lowercased utterance; a match returns Value.
	Patterns []string `yaml:"patterns,omitempty"`
}

// Match is one occurrence of a list value in an utterance.
type Match struct {
	Value string // the canonical value
	Text  string // the words or pattern text that matched
}

// Matcher finds a List's values in utterances. It is safe for concurrent
// use.
type Matcher struct {
	name    string
	phrases []phrase // longest first
	regexps []listRegexp
}

type phrase struct {
	words []string
	value string
}

type listRegexp struct {
	re    *regexp.Regexp
	value string
}

// Compile checks the list and prepares it for matching. It fails on a
// missing name or value, or a pattern that does not compile.
func (l *List) Compile() (*Matcher, error) {
	if strings.TrimSpace(l.Name) == "" {
		return nil, fmt.Errorf("entity list: missing name")
	}
	m := &Matcher{name: l.Name}
	for _, v := range l.Values {
		if strings.TrimSpace(v.Value) == "" {
			return nil, fmt.Errorf("entity list %s: value without a name", l.Name)
		}
		for _, s := range append([]string{v.Value}, v.Synonyms...) {
			words := Words(s)
			if len(words) == 0 {
				continue
			}
			m.phrases = append(m.phrases, phrase{words: words, value: v.Value})
		}
		for _, p := range v.Patterns {
			re, err := regexp.Compile("(?i)" + p)
			if err != nil {
				return nil, fmt.Errorf("entity list %s: value %s: pattern %q: %w", l.Name, v.Value, p, err)
			}
			m.regexps = append(m.regexps, listRegexp{re: re, value: v.Value})
		}
	}
	slices.SortStableFunc(m.phrases, func(a, b phrase) int { return len(b.words) - len(a.words) })
	return m, nil
}

// Name returns the list's name.
func (m *Matcher) Name() string { return m.name }

// Find returns the first value found in text: the earliest phrase (the
// longest one where several start at the same word), else the first
// pattern that matches.
func (m *Matcher) Find(text string) (Match, bool) {
	all := m.FindAll(text)
	if len(all) == 0 {
		return Match{}, false
	}
	return all[0], true
}

// FindAll returns every value found in text: phrase matches in order of
// position, never overlapping, then pattern matches.
func (m *Matcher) FindAll(text string) []Match {
	words := Words(text)
	var out []Match
	for i := 0; i < len(words); {
		matched := false
		for _, p := range m.phrases {
			if i+len(p.words) <= len(words) && slices.Equal(words[i:i+len(p.words)], p.words) {
				out = append(out, Match{Value: p.value, Text: strings.Join(p.words, " ")})
				i += len(p.words)
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	lower := strings.ToLower(text)
	for _, r := range m.regexps {
		for _, s := range r.re.FindAllString(lower, -1) {
			out = append(out, Match{Value: r.value, Text: s})
		}
	}
	return out
}
