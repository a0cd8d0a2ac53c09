package cond

import (
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	env := MapEnv{
		Vars: map[string]string{"status": "out_for_delivery", "balance": "112.40", "verified": "true",
			"caller": "447700900123", "open": "false", "tier": "Gold", "time": "09:30", "zero": "0"},
		Lists: map[string][]string{"vip": {"447700900123", "447700900999"}},
	}
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`status == "out_for_delivery"`, true},
		{`status = 'out_for_delivery'`, true},
		{`status != "delivered"`, true},
		{`balance >= 100`, true},
		{`balance < 100`, false},
		{`balance > 99.9 && verified`, true},
		{`not verified`, false},
		{`!open`, true},
		{`open`, false},
		{`zero`, false},
		{`missing`, false},
		{`missing == ""`, true},
		{`caller in vip`, true},
		{`caller not in vip`, false},
		{`caller in nolist`, false},
		{`tier in ["gold", "platinum"]`, true}, // case-insensitive
		{`tier in []`, false},
		{`caller in vip and !open`, true},
		{`(open || verified) && status == "out_for_delivery"`, true},
		{`open or not (verified)`, false},
		{`time >= "09:00" && time < "17:30"`, true},
		{`time >= 09:00`, true},
		{`balance == 112.4`, true}, // numeric equality
		{`true`, true},
		{`false || FALSE`, false},
	} {
		e, err := Parse(tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if got := e.Eval(env); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.src, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{``, "empty condition"},
		{`status ==`, "column 10: want a name"},
		{`"open`, "unterminated string"},
		{`a && (b`, "want )"},
		{`a in 5`, "want a list name"},
		{`a b`, `column 3: unexpected "b"`},
		{`a $ b`, "unexpected character"},
		{`x in [1 2]`, "want , or ]"},
		{strings.Repeat("(", 60) + "a" + strings.Repeat(")", 60), "nested too deeply"},
		{strings.Repeat("!", 60) + "a", "nested too deeply"},
	} {
		_, err := Parse(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestNamesAndLists(t *testing.T) {
	e, err := Parse(`caller in vip && status == "x" || !verified && tier in ["a", other]`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.Names(), ","); got != "caller,status,verified,tier,other" {
		t.Errorf("names %s", got)
	}
	if got := strings.Join(e.Lists(), ","); got != "vip" {
		t.Errorf("lists %s", got)
	}
	var nilExpr *Expr
	if !nilExpr.Eval(MapEnv{}) {
		t.Error("a nil condition should be true")
	}
}

// FuzzParse: any text parses or fails cleanly, and evaluation never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`a == "b"`, `caller in vip && !open`, `x in [1, "2", y]`, `(a || b) and not c`, `t >= 09:00`, `'it\'s'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			return
		}
		e.Eval(MapEnv{Vars: map[string]string{"a": "1"}, Lists: map[string][]string{"vip": {"1"}}})
		e.Names()
		e.Lists()
	})
}
