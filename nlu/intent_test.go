package nlu

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadIntentsFileMinimal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "intents.yaml")
	src := "intents:\n  - name: check_balance\n    examples: [check my balance, how much money do I have]\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	intents, err := LoadIntentsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(intents) != 1 || intents[0].Name != "check_balance" || len(intents[0].Examples) != 2 {
		t.Fatalf("got %+v", intents)
	}
}

func TestLoadFileFull(t *testing.T) {
	f, err := LoadFile("testdata/bank.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Intents) != 4 || len(f.OutOfScope) != 4 || len(f.Entities) != 1 {
		t.Fatalf("got %d intents, %d out-of-scope, %d entity lists", len(f.Intents), len(f.OutOfScope), len(f.Entities))
	}
	in := f.Intents[0]
	if in.Description == "" || in.Synonyms["money"][1] != "funds" || in.Entities[0] != "account_number" {
		t.Errorf("check_balance decoded as %+v", in)
	}
	if f.Intents[3].Threshold != 0.2 {
		t.Errorf("threshold %v", f.Intents[3].Threshold)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown key", "intents:\n  - name: a\n    examples: [x]\n    exmples: [y]\n", "f.yaml:4: field exmples not found"},
		{"unknown top key", "intents:\n  - name: a\n    examples: [x]\nfoo: 1\n", "f.yaml:4: field foo not found"},
		{"no name", "intents:\n  - name: a\n    examples: [x]\n  - examples: [y]\n", "f.yaml:4: intent without a name"},
		{"no examples", "intents:\n  - name: a\n    examples: []\n", "f.yaml:2: intent a: no examples"},
		{"duplicate", "intents:\n  - name: a\n    examples: [x]\n  - name: a\n    examples: [y]\n", `f.yaml:4: intent "a" already defined at line 2`},
		{"threshold", "intents:\n  - name: a\n    examples: [x]\n    threshold: 2\n", "f.yaml:2: intent a: threshold 2 outside 0..1"},
		{"reserved", "intents:\n  - name: oos\n    examples: [x]\n", "reserved"},
		{"syntax", "intents:\n  - name: a\n   examples: [x\n", "f.yaml:"},
		{"wrong type", "intents:\n  - name: a\n    examples: x\n", "f.yaml:3:"},
		{"empty", "", "f.yaml:1: no intents"},
		{"no intents", "intents: []\n", "f.yaml:1: no intents"},
		{"bad pattern", "intents:\n  - name: a\n    examples: [x]\nentities:\n  - name: l\n    values:\n      - value: v\n        patterns: ['(']\n", "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("f.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPhrases(t *testing.T) {
	in := Intent{Name: "check_balance", Examples: []string{"How much money do I have?", "how much money do i have", "check my balance"},
		Synonyms: map[string][]string{"money": {"cash", "funds"}, "check my": {"show me my"}}}
	got := in.Phrases()
	want := []string{"how much money do i have", "check my balance", "how much cash do i have", "how much funds do i have", "show me my balance"}
	if !slices.Equal(got, want) {
		t.Errorf("Phrases() = %q\nwant %q", got, want)
	}
	all := Phrases([]Intent{in})
	if len(all["check_balance"]) != len(want) {
		t.Errorf("Phrases(intents) = %v", all)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"What's my  BALANCE?!": "whats my balance",
		"  £25.50 — now ":      "twenty five fifty now",
		"press 1":              "press one",
		"option 2, then 0":     "option two then zero",
		"call 0800 123":        "call zero eight zero zero one hundred twenty three",
		"for 1000 pounds":      "for one zero zero zero pounds",
		"the 3rd of may, 2nd":  "the third of may second",
		"1ST TIME":             "first time",
		"my 4g and mp3 and 5x": "my 4g and mp3 and 5x",
		"7th":                  "seventh",
		"21st 22nd 40th 112th": "twenty first twenty second fortieth one hundred twelfth",
		"1stx 0th 1000th 5st":  "1stx 0th 1000th fifth",
		"100 110 999 40":       "one hundred one hundred ten nine hundred ninety nine forty",
		"a1 9é":                "a1 9é",
		"90's":                 "90s",
		"Ça va":                "ça va",
		"":                     "",
		"it’s":                 "its",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseFile checks that no input makes YAML loading panic and that
// accepted files are valid.
func FuzzParseFile(f *testing.F) {
	seed, err := os.ReadFile("testdata/bank.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("intents:\n  - name: a\n    examples: [x]\n"))
	f.Add([]byte("intents: [{name: a, examples: [x], synonyms: {x: [y]}}]"))
	f.Add([]byte("intents:\n  - name: a\n   examples: [x\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile("f.yaml", data)
		if err != nil {
			return
		}
		for i := range file.Intents {
			if err := file.Intents[i].Validate(); err != nil {
				t.Fatalf("accepted an invalid intent: %v", err)
			}
			file.Intents[i].Phrases()
		}
	})
}
