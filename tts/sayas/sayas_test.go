package sayas

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "zero"},
		{7, "seven"},
		{13, "thirteen"},
		{20, "twenty"},
		{42, "forty two"},
		{100, "one hundred"},
		{112, "one hundred and twelve"},
		{1000, "one thousand"},
		{1005, "one thousand and five"},
		{1050, "one thousand and fifty"},
		{1100, "one thousand one hundred"},
		{2112, "two thousand one hundred and twelve"},
		{1000001, "one million and one"},
		{1200000, "one million two hundred thousand"},
		{-3, "minus three"},
		{math.MaxInt64, "nine quintillion two hundred and twenty three quadrillion three hundred and seventy two trillion thirty six billion eight hundred and fifty four million seven hundred and seventy five thousand eight hundred and seven"},
		{math.MinInt64, "minus nine quintillion two hundred and twenty three quadrillion three hundred and seventy two trillion thirty six billion eight hundred and fifty four million seven hundred and seventy five thousand eight hundred and eight"},
	}
	for _, tt := range tests {
		if got := Number(tt.n); got != tt.want {
			t.Errorf("Number(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	tests := map[int64]string{
		0: "zeroth", 1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 8: "eighth", 9: "ninth",
		11: "eleventh", 12: "twelfth", 20: "twentieth", 21: "twenty first", 22: "twenty second",
		30: "thirtieth", 100: "one hundredth", 101: "one hundred and first", 112: "one hundred and twelfth",
		1000: "one thousandth",
	}
	for n, want := range tests {
		if got := Ordinal(n); got != want {
			t.Errorf("Ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"3.05", "three point zero five", true},
		{"-1,200.5", "minus one thousand two hundred point five", true},
		{".5", "zero point five", true},
		{"42", "forty two", true},
		{"", "", false},
		{"-", "", false},
		{"1.", "", false},
		{"1.2.3", "", false},
		{"12a", "", false},
		{"1234567890123456789", "", false},
	}
	for _, tt := range tests {
		got, ok := Decimal(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Decimal(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDigitsPhoneAccount(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"digits", Digits("4271"), "four two seven one"},
		{"digits separators", Digits("42-71 0"), "four two seven one zero"},
		{"digits letters", Digits("1a2"), "one, A, two"},
		{"digits none", Digits("--"), ""},
		{"phone grouped", Phone("+44 20 7946 0018"), "plus four four, two zero, seven nine four six, zero zero one eight"},
		{"phone unbroken", Phone("02079460018"), "zero two zero, seven nine four six, zero zero one eight"},
		{"phone ten", Phone("5551234567"), "five five five, one two three, four five six seven"},
		{"phone short", Phone("999"), "nine nine nine"},
		{"phone parens", Phone("(555) 123-4567"), "five five five, one two three, four five six seven"},
		{"account", Account("AB123456"), "A, B, one two, three four five six"},
		{"account grouped", Account("AB-12 34"), "A, B, one two, three four"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestAmount(t *testing.T) {
	tests := []struct {
		minor int64
		code  string
		want  string
	}{
		{11240, "GBP", "one hundred and twelve pounds forty"},
		{11200, "gbp", "one hundred and twelve pounds"},
		{100, "GBP", "one pound"},
		{1, "GBP", "one penny"},
		{40, "GBP", "forty pence"},
		{101, "GBP", "one pound one"},
		{0, "GBP", "zero pounds"},
		{-250, "GBP", "minus two pounds fifty"},
		{1250, "USD", "twelve dollars and fifty cents"},
		{101, "USD", "one dollar and one cent"},
		{300050, "EUR", "three thousand euros and fifty cents"},
		{500, "JPY", "five hundred yen"},
		{1999, "XYZ", "nineteen point nine nine, X, Y, Z"},
		{math.MinInt64, "GBP", "minus ninety two quadrillion two hundred and thirty three trillion seven hundred and twenty billion three hundred and sixty eight million five hundred and forty seven thousand seven hundred and fifty eight pounds eight"},
	}
	for _, tt := range tests {
		if got := Amount(tt.minor, tt.code); got != tt.want {
			t.Errorf("Amount(%d, %q) = %q, want %q", tt.minor, tt.code, got, tt.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in    string
		minor int64
		code  string
		err   bool
	}{
		{"112.40 GBP", 11240, "GBP", false},
		{"GBP 112.4", 11240, "GBP", false},
		{"£112.40", 11240, "GBP", false},
		{"$1,200", 120000, "USD", false},
		{"-3 eur", -300, "EUR", false},
		{"€-3", -300, "EUR", false},
		{"112.40", 11240, "GBP", false},
		{"500 JPY", 500, "JPY", false},
		{"5.5 JPY", 0, "", true},
		{"1.234 GBP", 0, "", true},
		{"abc GBP", 0, "", true},
		{"1 2 3", 0, "", true},
		{"", 0, "", true},
		{"99999999999999999999 GBP", 0, "", true},
	}
	for _, tt := range tests {
		m, c, err := ParseAmount(tt.in, "GBP")
		if (err != nil) != tt.err || m != tt.minor || c != tt.code {
			t.Errorf("ParseAmount(%q) = %d, %q, %v", tt.in, m, c, err)
		}
		if err != nil && !errors.Is(err, ErrAmount) {
			t.Errorf("ParseAmount(%q) error %v is not ErrAmount", tt.in, err)
		}
	}
}

func TestYearDateTime(t *testing.T) {
	years := map[int]string{
		1999: "nineteen ninety nine", 1905: "nineteen oh five", 1900: "nineteen hundred",
		2000: "two thousand", 2005: "two thousand and five", 2010: "twenty ten", 2025: "twenty twenty five",
		999: "nine hundred and ninety nine",
	}
	for y, want := range years {
		if got := Year(y); got != want {
			t.Errorf("Year(%d) = %q, want %q", y, got, want)
		}
	}
	d := time.Date(2025, time.March, 4, 0, 0, 0, 0, time.UTC)
	if got, want := Date(d, true), "the fourth of March twenty twenty five"; got != want {
		t.Errorf("Date = %q, want %q", got, want)
	}
	if got, want := Weekday(d), "Tuesday the fourth of March"; got != want {
		t.Errorf("Weekday = %q, want %q", got, want)
	}
	times := []struct {
		h, m int
		want string
	}{
		{0, 0, "midnight"}, {12, 0, "twelve noon"}, {9, 5, "nine oh five a.m."}, {14, 0, "two p.m."},
		{0, 30, "twelve thirty a.m."}, {23, 59, "eleven fifty nine p.m."}, {12, 15, "twelve fifteen p.m."},
		{-1, -1, "eleven fifty nine p.m."},
	}
	for _, tt := range times {
		if got := Time(tt.h, tt.m); got != tt.want {
			t.Errorf("Time(%d, %d) = %q, want %q", tt.h, tt.m, got, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain text, no markup", "plain text, no markup"},
		{"Your balance is {amount:112.40 GBP}.", "Your balance is one hundred and twelve pounds forty."},
		{"Your PIN is {digits:4271}", "Your PIN is four two seven one"},
		{"{ordinal:3rd} option", "third option"},
		{"on {date:2025-03-04} at {time:14:30}", "on the fourth of March twenty twenty five at two thirty p.m."},
		{"on {date:03-04}", "on the fourth of March"},
		{"by {weekday:2025-03-04}", "by Tuesday the fourth of March"},
		{"call {phone:+44 20 7946 0018}", "call plus four four, two zero, seven nine four six, zero zero one eight"},
		{"ref {account:AB12}", "ref A, B, one two"},
		{"{number:3.5} stars", "three point five stars"},
		{"{{literal}} braces }", "{literal} braces }"},
		{"a < b and c > d", "a < b and c > d"},
		{`PIN <say-as interpret-as="digits">4271</say-as>.`, "PIN four two seven one."},
		{`<SAY-AS interpret-as='date' format="dmy">04/03/2025</SAY-AS>`, "the fourth of March twenty twenty five"},
		{`<say-as  interpret-as = "currency" >&#36;</say-as>`, ""},
		{`<say-as interpret-as="cardinal">1,005</say-as>`, "one thousand and five"},
		{`<say-as interpret-as="characters">AT&amp;T</say-as>`, "A, T, T"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Expand(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Expand = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	bad := []struct {
		in     string
		offset int
	}{
		{"hello {amount:abc}", 6},
		{"open {digits:12", 5},
		{"{nokind}", 0},
		{"x {wat:1}", 2},
		{"{date:2025-02-30}", 0},
		{"{date:2025-13-01}", 0},
		{"{time:25:00}", 0},
		{"{time:9:5}", 0},
		{"{weekday:03-04}", 0},
		{"{digits:--}", 0},
		{"{digits: }", 0},
		{"ab <say-as>1</say-as>", 3},
		{`<say-as interpret-as="digits">1`, 0},
		{`<say-as interpret-as="digits"`, 0},
		{`<say-as interpret-as=digits>1</say-as>`, 0},
		{`<say-as interpret-as="a" interpret-as="b">1</say-as>`, 0},
		{`<say-as interpret-as="digits"><b>1</b></say-as>`, 0},
		{`x </say-as>`, 2},
		{"{ordinal:first}", 0},
		{"{digits:" + strings.Repeat("1", 300) + "}", 0},
	}
	for _, tt := range bad {
		_, err := Expand(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Expand(%q) error = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Offset != tt.offset {
			t.Errorf("Expand(%q) offset = %d, want %d (%v)", tt.in, se.Offset, tt.offset, se)
		}
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"Your balance is {amount:112.40 GBP}.", "{digits:4271}", "{{x}}", "{date:2025-03-04}",
		`<say-as interpret-as="date" format="mdy">3/4/2025</say-as>`, "{time:23:59}", "{phone:+1 (555) 123-4567}",
		"<say-as", "{", "}", "{a:}", `<say-as interpret-as="ordinal">21st</say-as>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Expand(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset >= len(in) {
				t.Fatalf("Expand(%q): bad error %v", in, err)
			}
			return
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Expand(%q) = %q: invalid UTF-8", in, out)
		}
		if hasPrefixFold(out, "<say-as") || indexFold(out, "<say-as") >= 0 && indexFold(in, "&lt;say-as") < 0 {
			t.Fatalf("Expand(%q) = %q still has markup", in, out)
		}
		// Plain output expands to itself once its braces are escaped.
		esc := strings.NewReplacer("{", "{{", "}", "}}").Replace(out)
		if again, err := Expand(esc); err == nil && again != out {
			t.Fatalf("re-expanding %q gave %q", esc, again)
		}
	})
}

func BenchmarkExpand(b *testing.B) {
	b.ReportAllocs()
	in := "Your balance is {amount:112.40 GBP}, due on {date:2025-03-04}. Your reference is {account:AB123456}."
	for b.Loop() {
		if _, err := Expand(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAmount(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Amount(11240, "GBP")
	}
}
