package sayas

import (
	"strings"
	"time"
)

// Year reads a year as people say it: 1999 "nineteen ninety nine", 1905
// "nineteen oh five", 2000 "two thousand", 2005 "two thousand and five",
// 2025 "twenty twenty five".
func Year(y int) string {
	hi, lo := y/100, y%100
	switch {
	case y < 1000 || y >= 10000:
		return Number(int64(y))
	case hi%10 == 0 && lo < 10: // 2005: "two thousand and five"
		return Number(int64(y))
	case lo == 0:
		return Number(int64(hi)) + " hundred"
	case lo < 10:
		return Number(int64(hi)) + " oh " + ones[lo]
	}
	return Number(int64(hi)) + " " + Number(int64(lo))
}

// Date reads a date the British way: "the fourth of March twenty twenty
// five", or "the fourth of March" without the year.
func Date(t time.Time, withYear bool) string {
	var b strings.Builder
	b.WriteString("the ")
	b.WriteString(Ordinal(int64(t.Day())))
	b.WriteString(" of ")
	b.WriteString(t.Month().String())
	if withYear {
		b.WriteByte(' ')
		b.WriteString(Year(t.Year()))
	}
	return b.String()
}

// Weekday reads a date with its day of the week: "Tuesday the fourth of
// March".
func Weekday(t time.Time) string {
	return t.Weekday().String() + " " + Date(t, false)
}

// Time reads a time of day on the twelve-hour clock: 09:05 "nine oh five
// a.m.", 14:00 "two p.m.", 12:00 "twelve noon", 00:00 "midnight". Out of
// range values are wrapped into a day.
func Time(hour, minute int) string {
	hour = ((hour % 24) + 24) % 24
	minute = ((minute % 60) + 60) % 60
	switch {
	case hour == 0 && minute == 0:
		return "midnight"
	case hour == 12 && minute == 0:
		return "twelve noon"
	}
	suffix := "a.m."
	if hour >= 12 {
		suffix = "p.m."
	}
	h := hour % 12
	if h == 0 {
		h = 12
	}
	var b strings.Builder
	b.WriteString(ones[h])
	switch {
	case minute == 0:
	case minute < 10:
		b.WriteString(" oh ")
		b.WriteString(ones[minute])
	default:
		b.WriteByte(' ')
		b.WriteString(Number(int64(minute)))
	}
	b.WriteByte(' ')
	b.WriteString(suffix)
	return b.String()
}
