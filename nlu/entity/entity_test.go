package entity

import (
	"testing"
	"time"
)

func TestDigits(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"four two seven one", "4271", true},
		{"4271", "4271", true},
		{"42-71", "4271", true},
		{"my account number is four two seven one", "4271", true},
		{"oh one two three", "0123", true},
		{"double five six", "556", true},
		{"double oh seven", "007", true},
		{"triple nine", "999", true},
		{"four double two one", "4221", true},
		{"zero zero one", "001", true},
		{"nought eight hundred", "0800", true},
		{"one eight hundred", "1800", true},
		{"five hundred and twelve", "512", true},
		{"forty two", "42", true},
		{"nineteen eighty four", "1984", true},
		{"four two for one", "4241", true},
		{"one to three", "123", true},
		{"uh four um five", "45", true},
		{"Four, Two. Seven!", "427", true},
		{"double", "", false},
		{"I want to talk to someone", "", false},
		{"for me", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Digits(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Digits(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"twenty five", 25, true},
		{"twenty-five", 25, true},
		{"two hundred and fifty three", 253, true},
		{"a hundred", 100, true},
		{"a thousand and one", 1001, true},
		{"three thousand four hundred", 3400, true},
		{"one point five", 1.5, true},
		{"two and a half", 2.5, true},
		{"1,250", 1250, true},
		{"2.5 kilos", 2.5, true},
		{"-3", -3, true},
		{"minus four", -4, true},
		{"two million", 2e6, true},
		{"I have eleven cats", 11, true},
		{"one two", 1, true},
		{"no numbers here", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Number(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Number(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAmount(t *testing.T) {
	tests := []struct {
		in       string
		cents    int64
		currency string
		ok       bool
	}{
		{"$25.50", 2550, "USD", true},
		{"£10", 1000, "GBP", true},
		{"€3.99", 399, "EUR", true},
		{"twenty five dollars and fifty cents", 2550, "USD", true},
		{"ten euros", 1000, "EUR", true},
		{"fifty cents", 50, "", true},
		{"25 pounds 30", 2530, "GBP", true},
		{"I'd like to pay two hundred", 20000, "", true},
		{"one hundred and five dollars", 10500, "USD", true},
		{"nothing", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Amount(tt.in)
			if got.Cents != tt.cents || got.Currency != tt.currency || ok != tt.ok {
				t.Errorf("Amount(%q) = %+v, %v; want %d %q, %v", tt.in, got, ok, tt.cents, tt.currency, tt.ok)
			}
		})
	}
}

func TestYesNo(t *testing.T) {
	tests := []struct {
		in      string
		yes, ok bool
	}{
		{"yes", true, true},
		{"Yeah, sure.", true, true},
		{"yep that's right", true, true},
		{"correct", true, true},
		{"no", false, true},
		{"nope", false, true},
		{"that's not right", false, true},
		{"not really", false, true},
		{"no thank you", false, true},
		{"that is not correct", false, true},
		{"I don't know", false, false},
		{"not sure", false, false},
		{"yes no", false, false},
		{"no sorry I mean yes", true, true},
		{"what", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			yes, ok := YesNo(tt.in)
			if yes != tt.yes || ok != tt.ok {
				t.Errorf("YesNo(%q) = %v, %v; want %v, %v", tt.in, yes, ok, tt.yes, tt.ok)
			}
		})
	}
}

func TestOrdinal(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"the first one", 1, true},
		{"second", 2, true},
		{"twenty first", 21, true},
		{"the 3rd option", 3, true},
		{"42nd", 42, true},
		{"twelfth", 12, true},
		{"one", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Ordinal(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Ordinal(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestDate(t *testing.T) {
	// Wednesday 12 March 2025, mid-afternoon.
	now := time.Date(2025, 3, 12, 15, 4, 5, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"today", day(2025, 3, 12), true},
		{"tomorrow please", day(2025, 3, 13), true},
		{"yesterday", day(2025, 3, 11), true},
		{"the day after tomorrow", day(2025, 3, 14), true},
		{"Friday", day(2025, 3, 14), true},
		{"on wednesday", day(2025, 3, 19), true},
		{"this wednesday", day(2025, 3, 12), true},
		{"next Friday", day(2025, 3, 21), true},
		{"next monday", day(2025, 3, 17), true},
		{"last friday", day(2025, 3, 7), true},
		{"in three days", day(2025, 3, 15), true},
		{"in 2 weeks", day(2025, 3, 26), true},
		{"a week from today", day(2025, 3, 19), true},
		{"three days ago", day(2025, 3, 9), true},
		{"next week", day(2025, 3, 19), true},
		{"next month", day(2025, 4, 12), true},
		{"March 5th", day(2025, 3, 5), true},
		{"the fifth of april", day(2025, 4, 5), true},
		{"april the fifth", day(2025, 4, 5), true},
		{"5 may", day(2025, 5, 5), true},
		{"june twenty first", day(2025, 6, 21), true},
		{"the 21st of June 2026", day(2026, 6, 21), true},
		{"january first twenty twenty six", day(2026, 1, 1), true},
		{"the fifth", day(2025, 4, 5), true},
		{"on the twentieth", day(2025, 3, 20), true},
		{"2025-07-04", day(2025, 7, 4), true},
		{"7/4/2025", day(2025, 7, 4), true},
		{"february thirtieth", time.Time{}, false},
		{"I may be late", time.Time{}, false},
		{"the second one", time.Time{}, false},
		{"no date", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Date(tt.in, now)
			if !got.Equal(tt.want) || ok != tt.ok {
				t.Errorf("Date(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		in   string
		want Clock
		ok   bool
	}{
		{"3 pm", Clock{Hour: 15}, true},
		{"3pm", Clock{Hour: 15}, true},
		{"three p m", Clock{Hour: 15}, true},
		{"11 a.m.", Clock{Hour: 11}, true},
		{"15:30", Clock{Hour: 15, Minute: 30}, true},
		{"3:30pm", Clock{Hour: 15, Minute: 30}, true},
		{"three thirty", Clock{Hour: 3, Minute: 30, Ambiguous: true}, true},
		{"half past four", Clock{Hour: 4, Minute: 30, Ambiguous: true}, true},
		{"quarter to five", Clock{Hour: 4, Minute: 45, Ambiguous: true}, true},
		{"ten past nine in the evening", Clock{Hour: 21, Minute: 10}, true},
		{"five o'clock", Clock{Hour: 5, Ambiguous: true}, true},
		{"at seven in the morning", Clock{Hour: 7}, true},
		{"seven oh five", Clock{Hour: 7, Minute: 5, Ambiguous: true}, true},
		{"noon", Clock{Hour: 12}, true},
		{"midnight", Clock{Hour: 0}, true},
		{"quarter to one", Clock{Hour: 12, Minute: 45, Ambiguous: true}, true},
		{"12 am", Clock{Hour: 0}, true},
		{"I have two cats", Clock{}, false},
		{"25:00", Clock{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Time(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Time(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestList(t *testing.T) {
	l := List{Name: "product", Values: []ListValue{
		{Value: "broadband", Synonyms: []string{"internet", "wi-fi", "fibre line"}},
		{Value: "mobile", Synonyms: []string{"cell phone", "phone"}},
		{Value: "order_id", Patterns: []string{`\b[a-z]{2}\d{6}\b`}},
	}}
	m, err := l.Compile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"my Internet is down", []string{"broadband"}},
		{"the Wi-Fi and my cell phone", []string{"broadband", "mobile"}},
		{"my fibre line", []string{"broadband"}},
		{"phone", []string{"mobile"}},
		{"it is AB123456 please", []string{"order_id"}},
		{"nothing here", nil},
		{"telephone", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got []string
			for _, m := range m.FindAll(tt.in) {
				got = append(got, m.Value)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("FindAll(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("FindAll(%q) = %v, want %v", tt.in, got, tt.want)
				}
			}
		})
	}
	if _, err := (&List{Name: "x", Values: []ListValue{{Value: "a", Patterns: []string{"("}}}}).Compile(); err == nil {
		t.Error("bad pattern compiled")
	}
	if _, err := (&List{}).Compile(); err == nil {
		t.Error("list without a name compiled")
	}
}
