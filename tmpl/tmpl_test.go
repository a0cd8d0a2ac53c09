package tmpl

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func vars(m map[string]string) Lookup {
	return func(n string) (string, bool) { v, ok := m[n]; return v, ok }
}

func TestRender(t *testing.T) {
	v := vars(map[string]string{"account": "12345678", "name": `Ann "Nan" O'Neil`, "parcel": "AB 12/3"})
	for _, tc := range []struct {
		src  string
		esc  Escaper
		want string
	}{
		{"no placeholders", Text, "no placeholders"},
		{"Hello {{name}}.", Text, `Hello Ann "Nan" O'Neil.`},
		{`{"account": "{{account}}", "name": "{{ name }}"}`, JSON, `{"account": "12345678", "name": "Ann \"Nan\" O'Neil"}`},
		{"/parcels/{{parcel}}", Path, "/parcels/AB%2012%2F3"},
		{"Hi {{nobody|there}}, {{nobody}}!", Text, "Hi there, !"},
		{"{{account}}{{account}}", Text, "1234567812345678"},
		{"{ single } braces", Text, "{ single } braces"},
	} {
		tp, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if got := tp.Render(v, tc.esc); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
	tp := MustParse("{{a}} and {{b|x}}")
	if strings.Join(tp.Names(), ",") != "a,b" || tp.Static() || !MustParse("plain").Static() {
		t.Errorf("names %v", tp.Names())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"Hello {{name", "column 7: {{ without }}"},
		{"{{}}", `"" is not a variable name`},
		{"ok {{a b}}", `column 4: "a b" is not a variable name`},
	} {
		if _, err := Parse(tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

// FuzzParse: any text parses or fails cleanly; rendering never panics and
// JSON-escaped values never break out of their string.
func FuzzParse(f *testing.F) {
	f.Add(`{"a": "{{a}}"}`, `x"y\`)
	f.Add("{{a|b}} {{", "v")
	f.Fuzz(func(t *testing.T, src, val string) {
		tp, err := Parse(src)
		if err != nil {
			return
		}
		tp.Render(func(string) (string, bool) { return val, true }, Text)
		out := MustParse(`"{{v}}"`).Render(func(string) (string, bool) { return val, true }, JSON)
		var back string
		if err := json.Unmarshal([]byte(out), &back); err != nil || utf8.ValidString(val) && back != val {
			t.Fatalf("JSON escaping of %q gave %s (%v)", val, out, err)
		}
	})
}
