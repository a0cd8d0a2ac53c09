package entity

import (
	"strconv"
	"strings"
	"time"
)

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday,
	"saturday": time.Saturday,
	"sun":      time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "tues": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "thur": time.Thursday,
	"thurs": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

var months = map[string]time.Month{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
	"july": 7, "august": 8, "september": 9, "october": 10, "november": 11,
	"december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7,
	"aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

// Date finds a calendar date in text, relative to now, and returns it at
// midnight in now's location. It understands:
//   - "today", "tonight", "tomorrow", "yesterday", "the day after tomorrow",
//     "the day before yesterday";
//   - weekdays: "Friday" and "this Friday" are the coming one (today counts
//     for "this"), "next Friday" is the one in the following week (weeks
//     start on Monday), "last Friday" the one before today;
//   - offsets: "in three days", "in 2 weeks", "a week from today", "next
//     week", "next month", "three days ago";
//   - "March 5th", "5th of March", "the fifth of March 2025", "March the
//     fifth", with the year defaulting to now's; "the fifth" alone is the
//     next fifth of a month (today counts);
//   - ISO "2025-03-05" and "3/5/2025" (month first).
func Date(text string, now time.Time) (time.Time, bool) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	if d, ok := numericDate(text, now.Location()); ok {
		return d, true
	}
	words := Words(text)
	joined := " " + strings.Join(words, " ") + " "
	switch {
	case strings.Contains(joined, " day after tomorrow "):
		return today.AddDate(0, 0, 2), true
	case strings.Contains(joined, " day before yesterday "):
		return today.AddDate(0, 0, -2), true
	}
	if d, ok := offsetDate(words, today); ok {
		return d, true
	}
	for i, w := range words {
		prev := ""
		if i > 0 {
			prev = words[i-1]
		}
		switch w {
		case "today", "tonight":
			return today, true
		case "tomorrow", "tmrw":
			return today.AddDate(0, 0, 1), true
		case "yesterday":
			return today.AddDate(0, 0, -1), true
		}
		if wd, ok := weekdays[w]; ok {
			return weekdayDate(today, wd, prev), true
		}
		if m, ok := months[w]; ok && (w != "may" || i+1 < len(words) && dayNumber(words, i+1) > 0 || i > 0 && dayNumberBefore(words, i) > 0) {
			if d, ok := monthDate(words, i, m, today); ok {
				return d, true
			}
		}
		if (w == "week" || w == "month" || w == "year") && (prev == "next" || prev == "this") {
			if prev == "this" {
				return today, true
			}
			switch w {
			case "week":
				return today.AddDate(0, 0, 7), true
			case "month":
				return today.AddDate(0, 1, 0), true
			default:
				return today.AddDate(1, 0, 0), true
			}
		}
	}
	// "the fifth", "on the 21st".
	for i := range words {
		if words[i] == "the" && i+1 < len(words) {
			if v, next, ok := ordinalAt(words, i+1); ok && v <= 31 && (next == len(words) || !isUnitWord(words[next])) {
				d := time.Date(today.Year(), today.Month(), v, 0, 0, 0, 0, today.Location())
				if d.Day() != v || d.Before(today) {
					d = time.Date(today.Year(), today.Month()+1, v, 0, 0, 0, 0, today.Location())
				}
				if d.Day() == v {
					return d, true
				}
			}
		}
	}
	return time.Time{}, false
}

func isUnitWord(w string) bool {
	switch w {
	case "one", "time", "option", "floor", "item", "choice":
		return true
	}
	return false
}

// weekdayDate resolves a weekday after its modifier word.
func weekdayDate(today time.Time, wd time.Weekday, modifier string) time.Time {
	ahead := (int(wd) - int(today.Weekday()) + 7) % 7
	switch modifier {
	case "next":
		// The weekday of next week, weeks starting on Monday.
		mondayOffset := (int(today.Weekday()) + 6) % 7
		nextMonday := today.AddDate(0, 0, 7-mondayOffset)
		return nextMonday.AddDate(0, 0, (int(wd)+6)%7)
	case "last", "past":
		back := (int(today.Weekday()) - int(wd) + 7) % 7
		if back == 0 {
			back = 7
		}
		return today.AddDate(0, 0, -back)
	case "this":
		return today.AddDate(0, 0, ahead)
	}
	if ahead == 0 {
		ahead = 7
	}
	return today.AddDate(0, 0, ahead)
}

// dayNumber reads a day of month at words[i] ("5", "5th", "fifth", "the
// fifth", "twenty first") and returns it, or 0.
func dayNumber(words []string, i int) int {
	if i < len(words) && words[i] == "the" {
		i++
	}
	if i >= len(words) {
		return 0
	}
	if v, _, ok := ordinalAt(words, i); ok && v >= 1 && v <= 31 {
		return v
	}
	if allDigits(words[i]) && len(words[i]) <= 2 {
		v, _ := strconv.Atoi(words[i])
		if v >= 1 && v <= 31 {
			return v
		}
	}
	if v, _, ok := spokenNumber(words, i); ok && v >= 1 && v <= 31 && v == float64(int(v)) {
		return int(v)
	}
	return 0
}

// dayNumberBefore reads a day of month that ends just before a month word
// at words[m] ("the 5th of", "5 march").
func dayNumberBefore(words []string, m int) int {
	j := m - 1
	if j >= 0 && words[j] == "of" {
		j--
	}
	if j < 0 {
		return 0
	}
	for start := max(0, j-1); start <= j; start++ {
		if v, next, ok := ordinalAt(words, start); ok && next == j+1 && v <= 31 {
			return v
		}
	}
	if allDigits(words[j]) && len(words[j]) <= 2 {
		v, _ := strconv.Atoi(words[j])
		if v >= 1 && v <= 31 {
			return v
		}
	}
	return 0
}

// monthDate resolves "<day> of <month> [year]" or "<month> <day> [year]".
func monthDate(words []string, m int, month time.Month, today time.Time) (time.Time, bool) {
	day := dayNumberBefore(words, m)
	after := m + 1
	if day == 0 {
		day = dayNumber(words, m+1)
		if day == 0 {
			return time.Time{}, false
		}
		// Skip the day's words to find a year.
		after = m + 1
		if after < len(words) && words[after] == "the" {
			after++
		}
		if _, next, ok := ordinalAt(words, after); ok {
			after = next
		} else if _, next, ok := spokenNumber(words, after); ok {
			after = next
		}
	}
	year := today.Year()
	if after < len(words) {
		if y, ok := yearAt(words, after); ok {
			year = y
		}
	}
	d := time.Date(year, month, day, 0, 0, 0, 0, today.Location())
	if d.Day() != day {
		return time.Time{}, false // "February 30th"
	}
	return d, true
}

// yearAt reads a year at words[i]: "2025", "twenty twenty five", "two
// thousand and five".
func yearAt(words []string, i int) (int, bool) {
	w := words[i]
	if allDigits(w) && len(w) == 4 {
		y, _ := strconv.Atoi(w)
		return y, true
	}
	if t, ok := tensWords[w]; ok || unitWords[w] >= 10 {
		hi := t
		if !ok {
			hi = unitWords[w]
		}
		if hi < 10 || i+1 >= len(words) {
			return 0, false
		}
		lo, _, ok := spokenNumber(words, i+1)
		if !ok || lo >= 100 || lo != float64(int(lo)) {
			return 0, false
		}
		return hi*100 + int(lo), true
	}
	if v, _, ok := spokenNumber(words, i); ok && v >= 1000 && v <= 2999 && v == float64(int(v)) {
		return int(v), true
	}
	return 0, false
}

// offsetDate resolves "in three days", "2 weeks from now", "a week from
// today", "three days ago".
func offsetDate(words []string, today time.Time) (time.Time, bool) {
	for i := range words {
		unit := strings.TrimSuffix(words[i], "s")
		if unit != "day" && unit != "week" && unit != "month" && unit != "year" || i == 0 {
			continue
		}
		n := 0
		switch {
		case words[i-1] == "a" || words[i-1] == "one" || words[i-1] == "an":
			n = 1
		default:
			start := i - 1
			for start > 0 && isNumberStart(words, start-1) || start > 0 && isNumberWord(words[start-1]) {
				start--
			}
			if v, next, ok := spokenNumber(words, start); ok && next == i && v == float64(int(v)) && v > 0 && v < 10000 {
				n = int(v)
			}
		}
		if n == 0 {
			continue
		}
		before := ""
		if i-2 >= 0 {
			before = words[max(0, i-2)]
		}
		rest := strings.Join(words[i+1:], " ")
		sign := 0
		switch {
		case strings.HasPrefix(rest, "ago") || strings.HasPrefix(rest, "before"):
			sign = -1
		case strings.HasPrefix(rest, "from") || strings.HasPrefix(rest, "after") || strings.HasPrefix(rest, "later"):
			sign = 1
		case hasBefore(words, i, "in", 3) || before == "in":
			sign = 1
		}
		if sign == 0 {
			continue
		}
		n *= sign
		switch unit {
		case "day":
			return today.AddDate(0, 0, n), true
		case "week":
			return today.AddDate(0, 0, 7*n), true
		case "month":
			return today.AddDate(0, n, 0), true
		default:
			return today.AddDate(n, 0, 0), true
		}
	}
	return time.Time{}, false
}

// hasBefore reports whether w occurs in the k words before words[i].
func hasBefore(words []string, i int, w string, k int) bool {
	for j := max(0, i-k); j < i; j++ {
		if words[j] == w {
			return true
		}
	}
	return false
}

// numericDate parses ISO "2025-03-05" and "3/5/2025" (month first).
func numericDate(text string, loc *time.Location) (time.Time, bool) {
	for _, f := range strings.Fields(text) {
		f = strings.Trim(f, ".,;!?()")
		for _, layout := range []string{"2006-01-02", "1/2/2006", "01/02/2006"} {
			if t, err := time.ParseInLocation(layout, f, loc); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
