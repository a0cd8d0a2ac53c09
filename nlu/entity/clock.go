package entity

import (
	"fmt"
	"strconv"
	"strings"
)

// Clock is a time of day.
type Clock struct {
	Hour   int // 0..23
	Minute int // 0..59
	// Ambiguous reports that the caller gave no am/pm, "noon" or 24-hour
	// form: Hour is then 1..12 and may mean the afternoon.
	Ambiguous bool
}

// String formats the clock as "15:04", with "?" after an ambiguous hour.
func (c Clock) String() string {
	s := fmt.Sprintf("%02d:%02d", c.Hour, c.Minute)
	if c.Ambiguous {
		s += "?"
	}
	return s
}

// Time finds a time of day in text: "3 pm", "3:30pm", "15:30", "three
// thirty", "half past four", "quarter to five", "ten past nine in the
// evening", "five o'clock", "noon", "midnight". Morning/afternoon/evening
// words settle am and pm.
func Time(text string) (Clock, bool) {
	words := Words(strings.NewReplacer("a.m.", " am ", "p.m.", " pm ", "a.m", " am ", "p.m", " pm ").Replace(strings.ToLower(text)))
	c, at, ok := findClock(words)
	if !ok {
		return Clock{}, false
	}
	if c.Ambiguous {
		c = applyMeridiem(c, words, at)
	}
	return c, true
}

// findClock returns the first clock in words and the index after it.
func findClock(words []string) (Clock, int, bool) {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch w {
		case "noon", "midday":
			return Clock{Hour: 12}, i + 1, true
		case "midnight":
			return Clock{Hour: 0}, i + 1, true
		}
		// "15:30", "3:30", "3:30pm".
		if c, ok := colonClock(w); ok {
			return c, i + 1, true
		}
		// "3pm", "11am".
		if h, mer, ok := suffixedHour(w); ok {
			c := Clock{Hour: h % 12}
			if mer == "pm" {
				c.Hour += 12
			}
			return c, i + 1, true
		}
		// "half past four", "quarter to five", "ten past nine".
		if m, n, ok := minutesRelative(words, i); ok && n+1 < len(words) {
			if h, next, ok := hourAt(words, n+1); ok {
				c := Clock{Hour: h, Minute: m, Ambiguous: true}
				if words[n] == "to" || words[n] == "til" || words[n] == "till" || words[n] == "before" {
					c.Hour = (h + 11) % 12
					if c.Hour == 0 {
						c.Hour = 12
					}
					c.Minute = 60 - m
				}
				return c, next, true
			}
		}
		// "three thirty", "four oclock", "4 pm", "seven fifteen".
		if h, next, ok := hourAt(words, i); ok {
			c := Clock{Hour: h, Ambiguous: true}
			if next < len(words) && (words[next] == "oclock" || words[next] == "o") {
				if words[next] == "o" && next+1 < len(words) && words[next+1] == "clock" {
					next++
				}
				return c, next + 1, true
			}
			if next < len(words) && (words[next] == "oh" || words[next] == "o") && next+1 < len(words) {
				if d, ok := digitWords[words[next+1]]; ok && d != '0' {
					c.Minute = int(d - '0')
					return c, next + 2, true
				}
			}
			if next < len(words) {
				if m, end, ok := spokenNumber(words, next); ok && m >= 10 && m < 60 && m == float64(int(m)) {
					c.Minute = int(m)
					return c, end, true
				}
			}
			if next < len(words) && isMeridiemAt(words, next) {
				return c, next, true
			}
			if i > 0 && (words[i-1] == "at" || words[i-1] == "around" || words[i-1] == "by") {
				return c, next, true
			}
		}
	}
	return Clock{}, 0, false
}

// hourAt reads an hour 1..12 (spoken or written) at words[i].
func hourAt(words []string, i int) (int, int, bool) {
	if i >= len(words) {
		return 0, i, false
	}
	w := words[i]
	if allDigits(w) && len(w) <= 2 {
		h, _ := strconv.Atoi(w)
		if h >= 1 && h <= 12 {
			return h, i + 1, true
		}
		return 0, i, false
	}
	if u, ok := unitWords[w]; ok && u >= 1 && u <= 12 {
		return u, i + 1, true
	}
	return 0, i, false
}

// minutesRelative reads "half past", "quarter to", "ten past", "twenty
// five to" at words[i]; it returns the minutes and the index of the
// "past"/"to" word.
func minutesRelative(words []string, i int) (int, int, bool) {
	rel := func(j int) bool {
		if j >= len(words) {
			return false
		}
		switch words[j] {
		case "past", "after", "to", "til", "till", "before":
			return true
		}
		return false
	}
	switch words[i] {
	case "half":
		if rel(i+1) && words[i+1] != "to" {
			return 30, i + 1, true
		}
	case "quarter":
		if rel(i + 1) {
			return 15, i + 1, true
		}
	case "a":
		if i+1 < len(words) && words[i+1] == "quarter" && rel(i+2) {
			return 15, i + 2, true
		}
	}
	if v, next, ok := spokenNumber(words, i); ok && v >= 1 && v < 60 && v == float64(int(v)) {
		if next < len(words) && (words[next] == "minutes" || words[next] == "minute") {
			next++
		}
		if rel(next) {
			return int(v), next, true
		}
	}
	return 0, i, false
}

func colonClock(w string) (Clock, bool) {
	mer := ""
	for _, s := range []string{"am", "pm"} {
		if strings.HasSuffix(w, s) {
			mer, w = s, strings.TrimSuffix(w, s)
		}
	}
	h, m, ok := strings.Cut(w, ":")
	if !ok || !allDigits(h) || !allDigits(m) || len(h) > 2 || len(m) != 2 {
		return Clock{}, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 23 || mm > 59 {
		return Clock{}, false
	}
	c := Clock{Hour: hh, Minute: mm}
	switch {
	case mer != "" && (hh < 1 || hh > 12):
		return Clock{}, false
	case mer == "am":
		c.Hour = hh % 12
	case mer == "pm":
		c.Hour = hh%12 + 12
	case hh >= 1 && hh <= 12 && len(h) == 1:
		c.Ambiguous = true // "3:30"; "03:30" and "15:30" are 24-hour
	}
	return c, true
}

func suffixedHour(w string) (int, string, bool) {
	for _, s := range []string{"am", "pm"} {
		if n := strings.TrimSuffix(w, s); n != w && allDigits(n) && len(n) <= 2 {
			h, _ := strconv.Atoi(n)
			if h >= 1 && h <= 12 {
				return h, s, true
			}
		}
	}
	return 0, "", false
}

func isMeridiemAt(words []string, i int) bool {
	if i >= len(words) {
		return false
	}
	switch words[i] {
	case "am", "pm":
		return true
	case "a", "p":
		return i+1 < len(words) && words[i+1] == "m"
	}
	return false
}

// applyMeridiem settles an ambiguous hour with "am"/"pm" right after it or
// a part of the day anywhere in the utterance.
func applyMeridiem(c Clock, words []string, at int) Clock {
	pm, am := false, false
	if isMeridiemAt(words, at) {
		pm = words[at][0] == 'p'
		am = !pm
	} else {
		for _, w := range words {
			switch w {
			case "afternoon", "evening", "tonight", "night":
				pm = true
			case "morning":
				am = true
			}
		}
	}
	switch {
	case pm:
		c.Hour = c.Hour%12 + 12
		c.Ambiguous = false
	case am:
		c.Hour %= 12
		c.Ambiguous = false
	}
	return c
}
