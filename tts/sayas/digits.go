package sayas

import (
	"strings"
	"unicode"
)

// Digits reads a string of digits one by one: "4271" is "four two seven
// one". Letters are read as capital letters set off by commas (engines
// read a lone "a" as the article); spaces, dashes, dots and other
// separators are dropped.
func Digits(s string) string {
	var b strings.Builder
	prevLetter, any := false, false
	for _, r := range s {
		var word string
		letter := false
		switch {
		case r >= '0' && r <= '9':
			word = ones[r-'0']
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			word, letter = string(unicode.ToUpper(r)), true
		default:
			continue
		}
		if any {
			if letter || prevLetter {
				b.WriteString(", ")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(word)
		prevLetter, any = letter, true
	}
	return b.String()
}

// groups splits s into groups of letters and digits at separators (space,
// dash, dot, slash, parentheses), dropping everything else.
func groups(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r < unicode.MaxASCII && (unicode.IsDigit(r) || unicode.IsLetter(r)):
			cur.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || r == '\t':
			flush()
		}
	}
	flush()
	return out
}

// chunk splits one long group into groups of n, or when n is 0 into the
// rhythm of telephone numbers: the last four digits, and groups of three
// before them (a lone leftover digit joins the group before it), so
// "02079460018" becomes "020 7946 0018".
func chunk(g string, n int) []string {
	if n > 0 {
		var out []string
		for len(g) > n {
			out = append(out, g[:n])
			g = g[n:]
		}
		return append(out, g)
	}
	if len(g) < 7 {
		return []string{g}
	}
	head, tail := g[:len(g)-4], g[len(g)-4:]
	var out []string
	for len(head) > 0 {
		k := min(3, len(head))
		if len(head) == 4 {
			k = 4
		}
		out = append(out, head[:k])
		head = head[k:]
	}
	return append(out, tail)
}

// Phone reads a telephone number in the groups it was written in, with a
// pause between groups: "+44 20 7946 0018" is "plus four four, two zero,
// seven nine four six, zero zero one eight". An unbroken number is grouped
// three by three with four at the end.
func Phone(s string) string {
	var parts []string
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		parts = append(parts, "plus")
		s = s[1:]
	}
	gs := groups(s)
	if len(gs) == 1 {
		gs = chunk(gs[0], 0)
	}
	for _, g := range gs {
		parts = append(parts, Digits(g))
	}
	if len(parts) > 1 && parts[0] == "plus" {
		return "plus " + strings.Join(parts[1:], ", ")
	}
	return strings.Join(parts, ", ")
}

// Account reads an account or reference number character by character in
// groups of four (or the groups it was written in), so a caller can check
// it: "AB123456" is "A, B, one two, three four five six".
func Account(s string) string {
	gs := groups(s)
	if len(gs) == 1 {
		gs = chunk(gs[0], 4)
	}
	parts := make([]string, 0, len(gs))
	for _, g := range gs {
		parts = append(parts, Digits(g))
	}
	return strings.Join(parts, ", ")
}
