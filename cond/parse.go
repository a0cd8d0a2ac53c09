package cond

import (
	"fmt"
	"strings"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp     // == != < <= > >=
	tAnd    // && and
	tOr     // || or
	tNot    // ! not
	tIn     // in
	tLParen // (
	tRParen // )
	tLBrack // [
	tRBrack // ]
	tComma  // ,
)

type token struct {
	kind tokKind
	text string // the value for strings, the word or symbol otherwise
	pos  int    // byte offset in the source
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' }

func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			w := src[i:j]
			k := tIdent
			switch strings.ToLower(w) {
			case "and":
				k = tAnd
			case "or":
				k = tOr
			case "not":
				k = tNot
			case "in":
				k = tIn
			case "true", "false":
				k, w = tString, strings.ToLower(w)
			}
			toks = append(toks, token{k, w, i})
			i = j
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == ':') {
				j++
			}
			toks = append(toks, token{tNumber, src[i:j], i})
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(src) && src[j] != c {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
				j++
			}
			if j >= len(src) {
				return nil, fmt.Errorf("column %d: unterminated string", i+1)
			}
			toks = append(toks, token{tString, b.String(), i})
			i = j + 1
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch {
			case two == "==" || two == "!=" || two == "<=" || two == ">=":
				toks = append(toks, token{tOp, two, i})
				i += 2
			case two == "&&":
				toks = append(toks, token{tAnd, two, i})
				i += 2
			case two == "||":
				toks = append(toks, token{tOr, two, i})
				i += 2
			case c == '<' || c == '>':
				toks = append(toks, token{tOp, string(c), i})
				i++
			case c == '=':
				// A single "=" is what people write for equality.
				toks = append(toks, token{tOp, "==", i})
				i++
			case c == '!':
				toks = append(toks, token{tNot, "!", i})
				i++
			case c == '(':
				toks = append(toks, token{tLParen, "(", i})
				i++
			case c == ')':
				toks = append(toks, token{tRParen, ")", i})
				i++
			case c == '[':
				toks = append(toks, token{tLBrack, "[", i})
				i++
			case c == ']':
				toks = append(toks, token{tRBrack, "]", i})
				i++
			case c == ',':
				toks = append(toks, token{tComma, ",", i})
				i++
			default:
				return nil, fmt.Errorf("column %d: unexpected character %q", i+1, c)
			}
		}
	}
	return append(toks, token{tEOF, "end of condition", len(src)}), nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("column %d: %s", t.pos+1, fmt.Sprintf(format, args...))
}

func (p *parser) or(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.errorf(p.peek(), "condition nested too deeply")
	}
	a, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		p.next()
		b, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		a = orNode{a, b}
	}
	return a, nil
}

func (p *parser) and(depth int) (node, error) {
	a, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		p.next()
		b, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		a = andNode{a, b}
	}
	return a, nil
}

func (p *parser) unary(depth int) (node, error) {
	if p.peek().kind == tNot {
		if depth > maxDepth {
			return nil, p.errorf(p.peek(), "condition nested too deeply")
		}
		p.next()
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.cmp(depth)
}

func (p *parser) cmp(depth int) (node, error) {
	a, err := p.term(depth)
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tOp:
		p.next()
		b, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		return cmpNode{t.text, a, b}, nil
	case t.kind == tIn || t.kind == tNot && p.toks[p.i+1].kind == tIn:
		negate := t.kind == tNot
		if negate {
			p.next()
		}
		p.next()
		switch l := p.peek(); l.kind {
		case tIdent:
			p.next()
			return inNode{x: a, listName: l.text, negate: negate}, nil
		case tLBrack:
			p.next()
			var items []node
			for p.peek().kind != tRBrack {
				it, err := p.term(depth)
				if err != nil {
					return nil, err
				}
				items = append(items, it)
				if p.peek().kind == tComma {
					p.next()
				} else if p.peek().kind != tRBrack {
					return nil, p.errorf(p.peek(), "want , or ] in a list, got %q", p.peek().text)
				}
			}
			p.next()
			return inNode{x: a, items: items, negate: negate}, nil
		default:
			return nil, p.errorf(l, "want a list name or [...] after in, got %q", l.text)
		}
	}
	return a, nil
}

func (p *parser) term(depth int) (node, error) {
	t := p.next()
	switch t.kind {
	case tIdent:
		return varNode(t.text), nil
	case tString, tNumber:
		return litNode(t.text), nil
	case tLParen:
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errorf(c, "want ), got %q", c.text)
		}
		return x, nil
	}
	return nil, p.errorf(t, "want a name, a value or (, got %q", t.text)
}
