// Package hours answers "is the line open now?": weekly opening times in
// a time zone, with holidays (closed all day, or open on special hours).
//
//	timezone: Europe/London
//	weekly:
//	  mon-fri: "09:00-17:30"
//	  sat: "10:00-13:00, 14:00-16:00"
//	holidays: ["2026-12-25", "2026-12-26 10:00-12:00"]
//
// Days not listed are closed. "24h" is open all day; "closed" is closed.
// Times are wall-clock times in the zone, so opening hours follow summer
// time. A range may end at "24:00"; a range whose end is before its start
// runs past midnight (22:00-02:00 is open until 2 am the next day).
package hours

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed set of opening hours. It is immutable and safe for
// concurrent use.
type Schedule struct {
	loc      *time.Location
	weekly   [7][]span         // by time.Weekday
	holidays map[string][]span // by "2006-01-02"; an empty slice is closed all day
}

// span is [from, to) in minutes after midnight; to may exceed 1440 for a
// range past midnight.
type span struct{ from, to int }

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Open reports whether t falls in opening hours. A nil schedule is always
// open.
func (s *Schedule) Open(t time.Time) bool {
	if s == nil {
		return true
	}
	t = t.In(s.loc)
	m := t.Hour()*60 + t.Minute()
	if s.openOn(t, m) {
		return true
	}
	// A range from yesterday that runs past midnight.
	y := t.AddDate(0, 0, -1)
	return s.openOn(y, m+24*60)
}

func (s *Schedule) openOn(day time.Time, m int) bool {
	spans, ok := s.holidays[day.Format(time.DateOnly)]
	if !ok {
		spans = s.weekly[day.Weekday()]
	}
	for _, sp := range spans {
		if m >= sp.from && m < sp.to {
			return true
		}
	}
	return false
}

// Holiday reports whether t's date (in the schedule's zone) is a holiday.
func (s *Schedule) Holiday(t time.Time) bool {
	if s == nil {
		return false
	}
	_, ok := s.holidays[t.In(s.loc).Format(time.DateOnly)]
	return ok
}

// Error is a problem in one part of a schedule; Field names it
// ("timezone", "weekly.mon-fri", "holidays[2]") so config errors can
// point at its line.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return e.Field + ": " + e.Msg }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// Parse builds a schedule. timezone is an IANA name ("" is UTC); weekly
// maps day names or ranges ("mon", "mon-fri", "sat,sun") to time ranges;
// holidays are "YYYY-MM-DD" (closed) or "YYYY-MM-DD 10:00-12:00" (special
// hours). It returns every problem found.
func Parse(timezone string, weekly map[string]string, holidays []string) (*Schedule, []*Error) {
	var errs []*Error
	s := &Schedule{loc: time.UTC, holidays: map[string][]span{}}
	if timezone != "" {
		loc, err := time.LoadLocation(timezone)
		if err != nil {
			errs = append(errs, &Error{"timezone", fmt.Sprintf("unknown time zone %q", timezone)})
		} else {
			s.loc = loc
		}
	}
	keys := make([]string, 0, len(weekly))
	for k := range weekly {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var seen [7]string
	for _, k := range keys {
		days, err := parseDays(k)
		if err != nil {
			errs = append(errs, &Error{"weekly." + k, err.Error()})
			continue
		}
		spans, err := parseSpans(weekly[k])
		if err != nil {
			errs = append(errs, &Error{"weekly." + k, err.Error()})
			continue
		}
		for _, d := range days {
			if seen[d] != "" {
				errs = append(errs, &Error{"weekly." + k, fmt.Sprintf("%s is also given by %q", d, seen[d])})
				continue
			}
			seen[d] = k
			s.weekly[d] = spans
		}
	}
	for i, h := range holidays {
		field := fmt.Sprintf("holidays[%d]", i)
		date, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			errs = append(errs, &Error{field, fmt.Sprintf("holiday %q: want YYYY-MM-DD, optionally followed by hours", h)})
			continue
		}
		spans := []span{}
		if strings.TrimSpace(rest) != "" {
			sp, err := parseSpans(rest)
			if err != nil {
				errs = append(errs, &Error{field, err.Error()})
				continue
			}
			spans = sp
		}
		s.holidays[date] = spans
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// parseDays reads "mon", "mon-fri", "sat,sun", "fri-mon" (wrapping).
func parseDays(k string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, part := range strings.Split(strings.ToLower(k), ",") {
		part = strings.TrimSpace(part)
		a, b, isRange := strings.Cut(part, "-")
		da, ok := dayNames[strings.TrimSpace(a)]
		if !ok {
			return nil, fmt.Errorf("unknown day %q (mon, tue, wed, thu, fri, sat, sun)", a)
		}
		if !isRange {
			out = append(out, da)
			continue
		}
		db, ok := dayNames[strings.TrimSpace(b)]
		if !ok {
			return nil, fmt.Errorf("unknown day %q (mon, tue, wed, thu, fri, sat, sun)", b)
		}
		for d := da; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == db {
				break
			}
		}
	}
	return out, nil
}

// parseSpans reads "09:00-17:30, 18:00-20:00", "24h" or "closed".
func parseSpans(v string) ([]span, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "closed", "":
		return []span{}, nil
	case "24h", "open", "00:00-24:00":
		return []span{{0, 24 * 60}}, nil
	}
	var out []span
	for _, r := range strings.Split(v, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(r), "-")
		if !ok {
			return nil, fmt.Errorf("hours %q: want HH:MM-HH:MM", r)
		}
		from, err := clock(a)
		if err != nil {
			return nil, err
		}
		to, err := clock(b)
		if err != nil {
			return nil, err
		}
		if from == 24*60 {
			return nil, fmt.Errorf("hours %q: a range cannot start at 24:00", r)
		}
		if to == from {
			return nil, fmt.Errorf("hours %q: empty range", r)
		}
		if to < from {
			to += 24 * 60 // past midnight
		}
		out = append(out, span{from, to})
	}
	return out, nil
}

func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("time %q: want HH:MM between 00:00 and 24:00", s)
	}
	return hh*60 + mm, nil
}
