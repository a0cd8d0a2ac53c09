package sayas

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SyntaxError reports markup that Expand cannot read, at a byte offset of
// the prompt text, so config validation can point at it.
type SyntaxError struct {
	Offset int    // bytes from the start of the text
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("say-as markup at byte %d: %s", e.Offset, e.Msg)
}

// Limits on markup, so a hostile or broken prompt costs little.
const (
	maxValue = 256 // bytes of one value
	maxAttrs = 8   // attributes on one <say-as>
)

// Expand replaces say-as markup in text with words and returns plain text
// for a synthesizer. Two spellings are understood:
//
//	{kind:value}                                  e.g. {amount:112.40 GBP}
//	<say-as interpret-as="kind" format="dmy">value</say-as>
//
// Kinds: digits, number (or cardinal), ordinal, amount (or currency; a
// bare number is in GBP), date (YYYY-MM-DD or MM-DD; with <say-as>,
// format ymd, dmy, mdy, md or dm), weekday (a date read with its day),
// time (HH:MM, 24-hour), phone (or telephone), account, characters (or
// spell-out). "{{" and "}}" stand for literal braces; any other "<" is
// text. Expand returns a *SyntaxError for markup it cannot read.
func Expand(text string) (string, error) {
	if !strings.ContainsAny(text, "{}<") {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text) + 32)
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '{' && strings.HasPrefix(text[i:], "{{"):
			b.WriteByte('{')
			i += 2
		case c == '}' && strings.HasPrefix(text[i:], "}}"):
			b.WriteByte('}')
			i += 2
		case c == '{':
			end := strings.IndexAny(text[i+1:], "{}")
			if end < 0 || text[i+1+end] != '}' {
				return "", &SyntaxError{i, "unclosed {"}
			}
			body := text[i+1 : i+1+end]
			kind, value, ok := strings.Cut(body, ":")
			if !ok {
				return "", &SyntaxError{i, fmt.Sprintf("{%s} needs kind:value (write {{ for a literal brace)", clip(body))}
			}
			w, err := Interpret(strings.TrimSpace(kind), value, "")
			if err != nil {
				return "", &SyntaxError{i, err.Error()}
			}
			b.WriteString(w)
			i += end + 2
		case c == '<' && hasPrefixFold(text[i:], "<say-as"):
			n, w, err := sayAsElement(text[i:])
			if err != nil {
				return "", &SyntaxError{i, err.Error()}
			}
			b.WriteString(w)
			i += n
		case c == '<' && hasPrefixFold(text[i:], "</say-as"):
			return "", &SyntaxError{i, "</say-as> without <say-as>"}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// sayAsElement reads one <say-as ...>value</say-as> at the start of s and
// returns its length and its words.
func sayAsElement(s string) (int, string, error) {
	i := len("<say-as")
	attrs := map[string]string{}
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return 0, "", fmt.Errorf("unclosed <say-as")
		}
		if s[i] == '>' {
			i++
			break
		}
		if i > len("<say-as") && !isSpace(s[i-1]) {
			return 0, "", fmt.Errorf("attributes of <say-as> must be separated by spaces")
		}
		start := i
		for i < len(s) && (isNameByte(s[i])) {
			i++
		}
		name := strings.ToLower(s[start:i])
		if name == "" {
			return 0, "", fmt.Errorf("unexpected %q in <say-as>", s[i])
		}
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			return 0, "", fmt.Errorf("attribute %s needs a value", name)
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
			return 0, "", fmt.Errorf("attribute %s needs a quoted value", name)
		}
		q := s[i]
		end := strings.IndexByte(s[i+1:], q)
		if end < 0 {
			return 0, "", fmt.Errorf("unclosed value of attribute %s", name)
		}
		if _, dup := attrs[name]; dup {
			return 0, "", fmt.Errorf("attribute %s given twice", name)
		}
		if len(attrs) >= maxAttrs {
			return 0, "", fmt.Errorf("too many attributes")
		}
		attrs[name] = unescape(s[i+1 : i+1+end])
		i += end + 2
	}
	closeAt := indexFold(s[i:], "</say-as>")
	if closeAt < 0 {
		return 0, "", fmt.Errorf("<say-as> without </say-as>")
	}
	content := s[i : i+closeAt]
	if strings.ContainsRune(content, '<') {
		return 0, "", fmt.Errorf("markup inside <say-as>")
	}
	kind, ok := attrs["interpret-as"]
	if !ok {
		return 0, "", fmt.Errorf("<say-as> needs interpret-as")
	}
	w, err := Interpret(kind, unescape(content), attrs["format"])
	if err != nil {
		return 0, "", err
	}
	return i + closeAt + len("</say-as>"), w, nil
}

// Interpret reads one value as kind (see Expand for the kinds); format is
// the date order for kind "date" ("" means ISO YYYY-MM-DD).
func Interpret(kind, value, format string) (string, error) {
	value = strings.TrimSpace(value)
	if len(value) > maxValue {
		return "", fmt.Errorf("%s value longer than %d bytes", kind, maxValue)
	}
	if value == "" {
		return "", fmt.Errorf("empty %s value", kind)
	}
	switch strings.ToLower(kind) {
	case "digits":
		return nonEmpty(kind, value, Digits(value))
	case "characters", "spell-out", "spell":
		return nonEmpty(kind, value, Digits(value))
	case "phone", "telephone":
		return nonEmpty(kind, value, Phone(value))
	case "account":
		return nonEmpty(kind, value, Account(value))
	case "number", "cardinal":
		w, ok := Decimal(value)
		if !ok {
			return "", fmt.Errorf("number %q is not a decimal number", value)
		}
		return w, nil
	case "ordinal":
		v := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(
			strings.ToLower(value), "st"), "nd"), "rd"), "th")
		n, err := strconv.ParseInt(strings.ReplaceAll(v, ",", ""), 10, 64)
		if err != nil {
			return "", fmt.Errorf("ordinal %q is not a whole number", value)
		}
		return Ordinal(n), nil
	case "amount", "currency":
		m, code, err := ParseAmount(value, "GBP")
		if err != nil {
			return "", err
		}
		return Amount(m, code), nil
	case "date":
		t, withYear, err := parseDate(value, format)
		if err != nil {
			return "", err
		}
		return Date(t, withYear), nil
	case "weekday":
		t, withYear, err := parseDate(value, format)
		if err != nil {
			return "", err
		}
		if !withYear {
			return "", fmt.Errorf("weekday %q needs a year", value)
		}
		return Weekday(t), nil
	case "time":
		h, m, err := parseTime(value)
		if err != nil {
			return "", err
		}
		return Time(h, m), nil
	}
	return "", fmt.Errorf("unknown say-as kind %q", clip(kind))
}

func nonEmpty(kind, value, words string) (string, error) {
	if words == "" {
		return "", fmt.Errorf("%s %q has no letters or digits", kind, clip(value))
	}
	return words, nil
}

// parseDate reads a date in the order format names (ymd by default), with
// -, / or . between fields. Formats md and dm have no year.
func parseDate(v, format string) (time.Time, bool, error) {
	format = strings.ToLower(strings.TrimSpace(format))
	if format == "" {
		format = "ymd"
		if strings.Count(v, "-") == 1 {
			format = "md"
		}
	}
	f := strings.FieldsFunc(v, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	if len(f) != len(format) {
		return time.Time{}, false, fmt.Errorf("date %q does not match format %s", clip(v), format)
	}
	y, m, d := 2000, 0, 0 // 2000 is a leap year: "02-29" without a year is valid
	for i, k := range format {
		n, err := strconv.Atoi(f[i])
		if err != nil || n < 0 || len(f[i]) > 4 {
			return time.Time{}, false, fmt.Errorf("date %q: %q is not a number", clip(v), clip(f[i]))
		}
		switch k {
		case 'y':
			y = n
		case 'm':
			m = n
		case 'd':
			d = n
		default:
			return time.Time{}, false, fmt.Errorf("unknown date format %q", clip(format))
		}
	}
	if m < 1 || m > 12 {
		return time.Time{}, false, fmt.Errorf("date %q: no month %d", clip(v), m)
	}
	t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	if d < 1 || t.Day() != d {
		return time.Time{}, false, fmt.Errorf("date %q: no day %d in that month", clip(v), d)
	}
	return t, strings.ContainsRune(format, 'y'), nil
}

// parseTime reads HH:MM or HH:MM:SS on the 24-hour clock.
func parseTime(v string) (int, int, error) {
	f := strings.Split(v, ":")
	if len(f) < 2 || len(f) > 3 {
		return 0, 0, fmt.Errorf("time %q is not HH:MM", clip(v))
	}
	h, err1 := strconv.Atoi(f[0])
	m, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(f[1]) != 2 {
		return 0, 0, fmt.Errorf("time %q is not HH:MM", clip(v))
	}
	return h, m, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == ':'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// indexFold is strings.Index ignoring ASCII case of sub.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

var entities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'")

func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entities.Replace(s)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
