// Package tmpl fills {{name}} placeholders with call variables: in lookup
// URLs and JSON bodies, webhook payloads and prompt texts ("Your balance
// is {amount:{{balance}} GBP}"). It is deliberately tiny: a placeholder is
// a variable name, optionally with a fallback after "|" ({{name|there}});
// there is no logic. Each use escapes values for where they land (JSON
// string content, a URL path segment, plain text).
package tmpl

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Template is a parsed text with placeholders. It is immutable.
type Template struct {
	src   string
	parts []part
}

type part struct {
	lit      string
	name     string // "" for a literal part
	fallback string
}

// MaxLen bounds a template's source.
const MaxLen = 64 << 10

// Parse reads a template. "{{" must be closed by "}}"; names are letters,
// digits, "_" and ".".
func Parse(src string) (*Template, error) {
	if len(src) > MaxLen {
		return nil, fmt.Errorf("template longer than %d bytes", MaxLen)
	}
	t := &Template{src: src}
	rest := src
	off := 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("column %d: {{ without }}", off+i+1)
		}
		inner := rest[i+2 : i+2+j]
		name, fallback, _ := strings.Cut(inner, "|")
		name = strings.TrimSpace(name)
		if !validName(name) {
			return nil, fmt.Errorf("column %d: %q is not a variable name", off+i+1, name)
		}
		t.parts = append(t.parts, part{name: name, fallback: fallback})
		adv := i + 2 + j + 2
		rest = rest[adv:]
		off += adv
	}
}

// MustParse parses a template known to be valid (a constant in code); it
// panics otherwise.
func MustParse(src string) *Template {
	t, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return t
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// String returns the source.
func (t *Template) String() string { return t.src }

// Static reports whether the template has no placeholders.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.name != "" {
			return false
		}
	}
	return true
}

// Names lists the variables the template uses.
func (t *Template) Names() []string {
	var out []string
	for _, p := range t.parts {
		if p.name != "" {
			out = append(out, p.name)
		}
	}
	return out
}

// Lookup resolves a variable; ok is false when it is not set.
type Lookup func(name string) (string, bool)

// Escaper makes a value safe where it lands.
type Escaper func(string) string

// Escapers for the places templates are used.
var (
	// Text leaves values as they are (prompts, headers).
	Text Escaper = func(s string) string { return s }
	// JSON escapes a value as the content of a JSON string (the template
	// writes the quotes: {"account": "{{account}}"}).
	JSON Escaper = func(s string) string {
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	}
	// Path escapes a value as one URL path segment or query value.
	Path Escaper = url.PathEscape
)

// Render fills the placeholders; a variable that is not set takes its
// fallback ("" when none).
func (t *Template) Render(vars Lookup, esc Escaper) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.name == "" {
			b.WriteString(p.lit)
			continue
		}
		v, ok := vars(p.name)
		if !ok || v == "" {
			v = p.fallback
		}
		b.WriteString(esc(v))
	}
	return b.String()
}
