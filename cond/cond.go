// Package cond parses and evaluates the small condition language of flow
// files: a menu option's `when:`, a branch's cases. Conditions compare
// call variables, the caller's number and the time:
//
//	status == "out_for_delivery"
//	caller in vip && !open
//	balance >= 100 || tier in ["gold", "platinum"]
//	not verified
//
// Values are strings. A comparison of two numbers is numeric; otherwise
// it compares the text. A bare name is true when its value is set and is
// not "", "false", "no" or "0". `x in name` tests membership of a list
// configured by name; `x in [...]` a literal list. Unknown variables are
// empty, so a condition on a variable that is not set yet is simply false.
package cond

import (
	"fmt"
	"strconv"
	"strings"
)

// Env resolves names while a condition is evaluated.
type Env interface {
	// Var returns a variable's value; ok is false when it is not set.
	Var(name string) (string, bool)
	// List returns a named list (for `in name`); ok is false when there
	// is no such list.
	List(name string) ([]string, bool)
}

// MapEnv is an Env over plain maps.
type MapEnv struct {
	Vars  map[string]string
	Lists map[string][]string
}

// Var implements Env.
func (m MapEnv) Var(name string) (string, bool) { v, ok := m.Vars[name]; return v, ok }

// List implements Env.
func (m MapEnv) List(name string) ([]string, bool) { l, ok := m.Lists[name]; return l, ok }

// Expr is a parsed condition. It is immutable and safe for concurrent use.
type Expr struct {
	src  string
	root node
}

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Eval evaluates the condition. It never panics; a nil Expr is true.
func (e *Expr) Eval(env Env) bool {
	if e == nil || e.root == nil {
		return true
	}
	return truthy(e.root.eval(env))
}

// Names lists the variables the condition reads, in order of appearance.
func (e *Expr) Names() []string {
	var out []string
	walk(e.root, func(n node) {
		if v, ok := n.(varNode); ok {
			out = append(out, string(v))
		}
	})
	return out
}

// Lists lists the named lists the condition uses.
func (e *Expr) Lists() []string {
	var out []string
	walk(e.root, func(n node) {
		if in, ok := n.(inNode); ok && in.listName != "" {
			out = append(out, in.listName)
		}
	})
	return out
}

// MaxLen bounds a condition's source: conditions are one line.
const MaxLen = 1000

// maxDepth bounds nesting so a hostile file cannot exhaust the stack.
const maxDepth = 50

// Parse reads a condition. Errors give the column of the problem.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLen {
		return nil, fmt.Errorf("condition longer than %d characters", MaxLen)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, fmt.Errorf("empty condition")
	}
	p := &parser{toks: toks}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, fmt.Errorf("column %d: unexpected %q", t.pos+1, t.text)
	}
	return &Expr{src: src, root: n}, nil
}

// truthy is how a value reads as a condition.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "no", "0":
		return false
	}
	return true
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

type node interface{ eval(Env) string }

type (
	varNode string
	litNode string
	notNode struct{ x node }
	andNode struct{ a, b node }
	orNode  struct{ a, b node }
	cmpNode struct {
		op   string
		a, b node
	}
	inNode struct {
		x        node
		listName string
		items    []node
		negate   bool
	}
)

func (n varNode) eval(env Env) string {
	v, _ := env.Var(string(n))
	return v
}
func (n litNode) eval(Env) string    { return string(n) }
func (n notNode) eval(e Env) string  { return boolStr(!truthy(n.x.eval(e))) }
func (n andNode) eval(e Env) string  { return boolStr(truthy(n.a.eval(e)) && truthy(n.b.eval(e))) }
func (n orNode) eval(e Env) string   { return boolStr(truthy(n.a.eval(e)) || truthy(n.b.eval(e))) }
func (n cmpNode) eval(e Env) string  { return boolStr(compare(n.op, n.a.eval(e), n.b.eval(e))) }
func (n inNode) eval(env Env) string { return boolStr(n.member(env) != n.negate) }

func (n inNode) member(env Env) bool {
	x := n.x.eval(env)
	if n.listName != "" {
		l, _ := env.List(n.listName)
		for _, v := range l {
			if equal(x, v) {
				return true
			}
		}
		return false
	}
	for _, it := range n.items {
		if equal(x, it.eval(env)) {
			return true
		}
	}
	return false
}

// equal compares numerically when both sides are numbers ("100" ==
// "100.0"), else as text, ignoring case and surrounding space.
func equal(a, b string) bool {
	if x, y, ok := numbers(a, b); ok {
		return x == y
	}
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

func numbers(a, b string) (float64, float64, bool) {
	x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	return x, y, err1 == nil && err2 == nil
}

func compare(op, a, b string) bool {
	switch op {
	case "==":
		return equal(a, b)
	case "!=":
		return !equal(a, b)
	}
	c := 0
	if x, y, ok := numbers(a, b); ok {
		switch {
		case x < y:
			c = -1
		case x > y:
			c = 1
		}
	} else {
		c = strings.Compare(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func walk(n node, f func(node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case notNode:
		walk(n.x, f)
	case andNode:
		walk(n.a, f)
		walk(n.b, f)
	case orNode:
		walk(n.a, f)
		walk(n.b, f)
	case cmpNode:
		walk(n.a, f)
		walk(n.b, f)
	case inNode:
		walk(n.x, f)
		for _, it := range n.items {
			walk(it, f)
		}
	}
}
