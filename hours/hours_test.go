package hours

import (
	"strings"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	s, errs := Parse("Europe/London", map[string]string{
		"mon-fri": "09:00-17:30",
		"sat":     "10:00-13:00, 14:00-16:00",
		"sun":     "22:00-02:00",
	}, []string{"2026-12-25", "2026-12-24 09:00-12:00"})
	if errs != nil {
		t.Fatal(errs)
	}
	london, _ := time.LoadLocation("Europe/London")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, london)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		at   string
		open bool
	}{
		{"2026-06-01 09:00", true},  // Monday, summer time
		{"2026-06-01 08:59", false}, // before opening
		{"2026-06-01 17:29", true},
		{"2026-06-01 17:30", false}, // the end is exclusive
		{"2026-01-05 12:00", true},  // Monday, winter
		{"2026-06-06 13:30", false}, // Saturday lunch
		{"2026-06-06 15:00", true},
		{"2026-06-07 23:00", true},  // Sunday night
		{"2026-06-08 01:30", true},  // ... past midnight into Monday
		{"2026-06-08 02:00", false}, // closed until 09:00
		{"2026-12-25 12:00", false}, // Christmas, a Friday
		{"2026-12-24 11:00", true},  // Christmas Eve, short hours
		{"2026-12-24 13:00", false},
	} {
		if got := s.Open(at(tc.at)); got != tc.open {
			t.Errorf("%s: open %v, want %v", tc.at, got, tc.open)
		}
	}
	// The zone matters: 08:30 UTC in summer is 09:30 in London.
	if !s.Open(time.Date(2026, 6, 1, 8, 30, 0, 0, time.UTC)) {
		t.Error("time zone not applied")
	}
	if !s.Holiday(at("2026-12-25 03:00")) || s.Holiday(at("2026-12-23 03:00")) {
		t.Error("holiday")
	}
	var none *Schedule
	if !none.Open(time.Now()) || none.Holiday(time.Now()) {
		t.Error("no schedule means always open, never a holiday")
	}
}

func TestParseErrors(t *testing.T) {
	_, errs := Parse("Mars/Olympus", map[string]string{
		"mon-fry": "09:00-17:00",
		"tue":     "9-5",
		"wed":     "09:00-25:00",
		"thu":     "10:00-10:00",
		"fri":     "24:00-10:00",
		"sat,sun": "closed",
		"sun":     "24h",
	}, []string{"christmas", "2026-12-24 9am"})
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`timezone: unknown time zone "Mars/Olympus"`,
		`weekly.mon-fry: unknown day "fry"`,
		`weekly.tue: time "9": want HH:MM`,
		`weekly.wed: time "25:00"`,
		`weekly.thu: hours "10:00-10:00": empty range`,
		`weekly.fri: hours "24:00-10:00": a range cannot start at 24:00`,
		`Sunday is also given by`,
		`holidays[0]: holiday "christmas"`,
		`holidays[1]: hours "9am"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("errors:\n%s\nwant %q", all, want)
		}
	}
}

// FuzzParse: any schedule text parses or fails cleanly; Open never panics.
func FuzzParse(f *testing.F) {
	f.Add("Europe/London", "mon-fri", "09:00-17:30", "2026-12-25")
	f.Add("", "sat,sun", "22:00-02:00, 10:00-11:00", "2026-12-24 09:00-12:00")
	f.Add("UTC", "fri-mon", "24h", "")
	f.Fuzz(func(t *testing.T, tz, days, spans, holiday string) {
		s, errs := Parse(tz, map[string]string{days: spans}, []string{holiday})
		if errs == nil {
			s.Open(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC))
			s.Holiday(time.Now())
		}
	})
}
