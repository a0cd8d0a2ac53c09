package numwords

import "testing"

func TestAppendCardinalAndOrdinal(t *testing.T) {
	for in, want := range map[string]string{
		"0": "zero", "7": "seven", "13": "thirteen", "20": "twenty", "42": "forty two", "100": "one hundred",
		"110": "one hundred ten", "999": "nine hundred ninety nine", "007": "zero zero seven", "1000": "one zero zero zero",
	} {
		if got := string(AppendCardinal(nil, in)); got != want {
			t.Errorf("AppendCardinal(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"one": "first", "two": "second", "three": "third", "four": "fourth",
		"five": "fifth", "eight": "eighth", "nine": "ninth", "twelve": "twelfth", "twenty": "twentieth", "hundred": "hundredth"} {
		if got := Ordinal(in); got != want {
			t.Errorf("Ordinal(%q) = %q, want %q", in, got, want)
		}
	}
}
