// Package nlu understands what a caller means: intents described in YAML
// with a few examples each, a classifier trained from them when the
// config loads, a calibrated confidence with out-of-scope detection, and
// the close alternatives for a clarifying question. The classifier knows
// which words are alike from pretrained word vectors embedded in the
// binary (wordvec.go), so a paraphrase need not share the examples' words.
// Entities live in nlu/entity and the optional LLM engine in nlu/llm.
package nlu

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/openivr/ivr/nlu/entity"
	"gopkg.in/yaml.v3"
)

// Intent is one thing a caller may want, described by example utterances.
// It decodes from YAML (it is also embedded in the main config schema):
//
//	name: check_balance
//	description: The caller wants the balance of an account.
//	examples: [check my balance, how much money do I have]
//	synonyms: {money: [cash, funds]}
//	threshold: 0.5
//	entities: [account_number]
type Intent struct {
	// Name identifies the intent in flows and results.
	Name string `yaml:"name"`
	// Description says in a sentence what the intent is for; the LLM
	// engine shows it to the model. Optional.
	Description string `yaml:"description,omitempty"`
	// Examples are utterances that mean this intent, in callers' words.
	// At least one is required; a handful is usual.
	Examples []string `yaml:"examples"`
	// Synonyms maps a word or phrase used in Examples to other ways of
	// saying it; training sees every example once more with each
	// substitution, and the recognizer grammar gets them too. Optional.
	Synonyms map[string][]string `yaml:"synonyms,omitempty"`
	// Threshold is the least confidence (0..1) at which this intent is
	// accepted; below it the result is out of scope. 0 means the
	// classifier's threshold.
	Threshold float64 `yaml:"threshold,omitempty"`
	// Entities names the entity types this intent carries (built-in types
	// such as digits, number, amount, date, time, yes_no, ordinal, or
	// custom list names); the LLM engine fills them. Optional.
	Entities []string `yaml:"entities,omitempty"`
}

// File is a standalone intents file.
type File struct {
	// Intents are the intents to classify.
	Intents []Intent `yaml:"intents"`
	// OutOfScope are example requests the system does not handle; the
	// classifier learns them as a rejection class. Optional.
	OutOfScope []string `yaml:"out_of_scope,omitempty"`
	// Entities are custom entity lists. Optional.
	Entities []entity.List `yaml:"entities,omitempty"`
}

// LoadIntentsFile reads a standalone YAML intents file and returns its
// intents. See LoadFile.
func LoadIntentsFile(path string) ([]Intent, error) {
	f, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	return f.Intents, nil
}

// LoadFile reads and checks a standalone YAML intents file. Unknown keys
// are errors, and every error reads "file:line: message".
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(path, data)
}

// ParseFile decodes and checks an intents file already in memory; name is
// used in error messages.
func ParseFile(name string, data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, yamlError(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if err := f.validate(name, &root); err != nil {
		return nil, err
	}
	return &f, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError rewrites yaml.v3 errors as "file:line: message" lines.
func yamlError(name string, err error) error {
	if errors.Is(err, errEmpty) || err.Error() == "EOF" {
		return fmt.Errorf("%s:1: no intents", name)
	}
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var out []string
	for _, m := range msgs {
		if g := yamlLine.FindStringSubmatch(strings.TrimSpace(m)); g != nil {
			out = append(out, fmt.Sprintf("%s:%s: %s", name, g[1], g[2]))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", name, strings.TrimPrefix(m, "yaml: ")))
		}
	}
	return errors.New(strings.Join(out, "\n"))
}

var errEmpty = errors.New("empty")

// validate checks names, examples and thresholds; root gives line numbers.
func (f *File) validate(name string, root *yaml.Node) error {
	lines := intentLines(root)
	line := func(i int) int {
		if i < len(lines) {
			return lines[i]
		}
		return 1
	}
	if len(f.Intents) == 0 {
		return fmt.Errorf("%s:%d: no intents", name, line(0))
	}
	seen := map[string]int{}
	for i, in := range f.Intents {
		if err := in.Validate(); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line(i), err)
		}
		if first, dup := seen[in.Name]; dup {
			return fmt.Errorf("%s:%d: intent %q already defined at line %d", name, line(i), in.Name, line(first))
		}
		seen[in.Name] = i
	}
	for _, l := range f.Entities {
		if _, err := l.Compile(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// Validate checks one intent: a name, at least one non-empty example and a
// threshold between 0 and 1.
func (in *Intent) Validate() error {
	if strings.TrimSpace(in.Name) == "" {
		return errors.New("intent without a name")
	}
	if in.Name == OutOfScopeLabel {
		return fmt.Errorf("intent name %q is reserved for out-of-scope requests", in.Name)
	}
	n := 0
	for _, e := range in.Examples {
		if Normalize(e) != "" {
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("intent %s: no examples", in.Name)
	}
	if in.Threshold < 0 || in.Threshold > 1 {
		return fmt.Errorf("intent %s: threshold %s outside 0..1", in.Name, strconv.FormatFloat(in.Threshold, 'g', -1, 64))
	}
	return nil
}

// intentLines returns the line of each item of the top-level intents list.
func intentLines(root *yaml.Node) []int {
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "intents" {
			var out []int
			for _, n := range m.Content[i+1].Content {
				out = append(out, n.Line)
			}
			if len(out) == 0 {
				out = append(out, m.Content[i].Line)
			}
			return out
		}
	}
	return nil
}

// Phrases returns the intent's examples and their synonym variants,
// normalized (lowercase, no punctuation) and without duplicates, for
// recognizer grammars and training.
func (in *Intent) Phrases() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = Normalize(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range in.Examples {
		add(e)
	}
	if len(in.Synonyms) == 0 {
		return out
	}
	base := len(out)
	for i := 0; i < base; i++ {
		padded := " " + out[i] + " "
		for _, word := range slices.Sorted(maps.Keys(in.Synonyms)) {
			alts := in.Synonyms[word]
			w := " " + Normalize(word) + " "
			if w == "  " || !strings.Contains(padded, w) {
				continue
			}
			for _, a := range alts {
				add(strings.ReplaceAll(padded, w, " "+Normalize(a)+" "))
			}
		}
	}
	return out
}

// Phrases returns every intent's phrases by intent name (see
// Intent.Phrases).
func Phrases(intents []Intent) map[string][]string {
	out := make(map[string][]string, len(intents))
	for i := range intents {
		out[intents[i].Name] = append(out[intents[i].Name], intents[i].Phrases()...)
	}
	return out
}
