package entity

import (
	"testing"
	"time"
)

var fuzzSeeds = []string{
	"four two seven one", "double oh seven", "one eight hundred", "five hundred and twelve",
	"$25.50", "twenty five dollars and fifty cents", "next friday", "the 21st of june 2026",
	"half past four", "3:30pm", "yes no sorry I mean yes", "twenty first", "-3", "1,250",
	"a thousand and one", "two and a half", "7/4/2025", "in 2 weeks", "double", "point",
	"twenty twenty", "quarter to", "a", "", "\xff\xfe", "9999999999999999999999 dollars",
}

// FuzzExtractors feeds arbitrary text to every extractor: none may panic,
// and what they return must be well formed.
func FuzzExtractors(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	now := time.Date(2025, 3, 12, 15, 4, 5, 0, time.UTC)
	list := List{Name: "l", Values: []ListValue{{Value: "v", Synonyms: []string{"a b", "c"}, Patterns: []string{`\d+`}}}}
	m, err := list.Compile()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := Digits(s); ok != (d != "") || !allDigits(d) && ok {
			t.Errorf("Digits(%q) = %q, %v", s, d, ok)
		}
		Number(s)
		if a, ok := Amount(s); ok && a.Cents < 0 {
			t.Errorf("Amount(%q) = %+v", s, a)
		}
		if c, ok := Time(s); ok && (c.Hour < 0 || c.Hour > 23 || c.Minute < 0 || c.Minute > 59) {
			t.Errorf("Time(%q) = %+v", s, c)
		}
		if d, ok := Date(s, now); ok && (d.Hour() != 0 || d.Minute() != 0) {
			t.Errorf("Date(%q) = %v, not midnight", s, d)
		}
		YesNo(s)
		if o, ok := Ordinal(s); ok && o <= 0 {
			t.Errorf("Ordinal(%q) = %d", s, o)
		}
		m.FindAll(s)
	})
}

// FuzzList compiles arbitrary list definitions; bad patterns must be
// errors, not panics.
func FuzzList(f *testing.F) {
	f.Add("product", "broadband", "internet", `\b[a-z]{2}\d{6}\b`, "my internet AB123456")
	f.Add("", "", "", "(", "")
	f.Fuzz(func(t *testing.T, name, value, synonym, pattern, text string) {
		l := List{Name: name, Values: []ListValue{{Value: value, Synonyms: []string{synonym}, Patterns: []string{pattern}}}}
		m, err := l.Compile()
		if err != nil {
			return
		}
		for _, x := range m.FindAll(text) {
			if x.Value != value {
				t.Errorf("match %+v, want value %q", x, value)
			}
		}
	})
}
