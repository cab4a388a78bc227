// Package filterpattern evaluates the subset of CloudWatch Logs JSON filter
// patterns this module's metric filters use, so tests can run the patterns
// deployed in a template against log lines the functions really write.
//
// The syntax and meaning follow "Filter pattern syntax for metric filters,
// subscription filters, filter log events, and Live Tail" and "Using filter
// patterns to match terms in JSON log events" in the Amazon CloudWatch Logs
// user guide
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):
//
//   - a JSON pattern is one expression in braces: { EXPR };
//   - EXPR joins comparisons with && and || and groups them
//     with parentheses (here && binds tighter than ||; the guide does not
//     say, so this module's patterns never mix them without parentheses);
//   - a comparison is SELECTOR OP VALUE, the selector a JSON path starting at
//     "$." (members by name, array elements by [index]);
//   - a string VALUE, in double quotes, is compared with = or != against a
//     string field, and may start or end with the wildcard *;
//   - a numeric VALUE is compared with =, !=, <, >, <= or >= against a number
//     field;
//   - a comparison on a field the event lacks, or of the other type, does not
//     match.
//
// Anything else (text and space-delimited patterns, IS NULL, EXISTS, regular
// expressions, wildcards inside a string) is refused by Parse rather than
// guessed at: a pattern this package cannot evaluate faithfully fails the test
// that tries it.
package filterpattern

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Pattern is a parsed JSON filter pattern.
type Pattern struct {
	expr node
}

// Parse parses a JSON filter pattern of the supported subset.
func Parse(src string) (*Pattern, error) {
	s := strings.TrimSpace(src)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("filter pattern %q: only JSON patterns ({ ... }) are supported", src)
	}
	toks, err := lex(s[1 : len(s)-1])
	if err != nil {
		return nil, fmt.Errorf("filter pattern %q: %w", src, err)
	}
	p := &parser{toks: toks}
	expr, err := p.or()
	if err == nil && p.pos != len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	if err != nil {
		return nil, fmt.Errorf("filter pattern %q: %w", src, err)
	}
	return &Pattern{expr: expr}, nil
}

// Match reports whether a log event matches. An event that is not a JSON
// object never matches a JSON pattern.
func (p *Pattern) Match(event string) bool {
	doc, ok := decode(event)
	return ok && p.expr.eval(doc)
}

// Value resolves a metric filter's MetricValue or a dimension's value
// ("$.field", or a literal number) against an event. ok is false when the
// selector does not resolve to a string or a number.
func Value(selector, event string) (value any, ok bool) {
	if !strings.HasPrefix(selector, "$.") {
		f, err := strconv.ParseFloat(selector, 64)
		return f, err == nil
	}
	doc, ok := decode(event)
	if !ok {
		return nil, false
	}
	path, err := parsePath(selector)
	if err != nil {
		return nil, false
	}
	v, found := lookup(doc, path)
	switch v.(type) {
	case string, json.Number:
		return normalize(v), found
	}
	return nil, false
}

func decode(event string) (map[string]any, bool) {
	dec := json.NewDecoder(strings.NewReader(event))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	return doc, true
}

func normalize(v any) any {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

// The expression tree.

type node interface{ eval(doc map[string]any) bool }

type and struct{ l, r node }
type or struct{ l, r node }

func (n and) eval(doc map[string]any) bool { return n.l.eval(doc) && n.r.eval(doc) }
func (n or) eval(doc map[string]any) bool  { return n.l.eval(doc) || n.r.eval(doc) }

type comparison struct {
	path   []step
	op     string
	str    *string  // a string value, or
	num    *float64 // a numeric one
	prefix bool     // "abc*"
	suffix bool     // "*abc"
}

func (c comparison) eval(doc map[string]any) bool {
	v, found := lookup(doc, c.path)
	if !found {
		return false
	}
	if c.str != nil {
		s, ok := v.(string)
		if !ok {
			return false
		}
		eq := false
		switch {
		case c.prefix && c.suffix:
			eq = strings.Contains(s, *c.str)
		case c.prefix:
			eq = strings.HasPrefix(s, *c.str)
		case c.suffix:
			eq = strings.HasSuffix(s, *c.str)
		default:
			eq = s == *c.str
		}
		if c.op == "!=" {
			return !eq
		}
		return eq
	}
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	f, err := n.Float64()
	if err != nil {
		return false
	}
	switch c.op {
	case "=":
		return f == *c.num
	case "!=":
		return f != *c.num
	case "<":
		return f < *c.num
	case ">":
		return f > *c.num
	case "<=":
		return f <= *c.num
	case ">=":
		return f >= *c.num
	}
	return false
}

// step is a member name or, when index >= 0, an array index.
type step struct {
	name  string
	index int
}

func lookup(doc map[string]any, path []step) (any, bool) {
	var cur any = doc
	for _, s := range path {
		if s.index >= 0 {
			a, ok := cur.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			cur = a[s.index]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[s.name]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func parsePath(sel string) ([]step, error) {
	if !strings.HasPrefix(sel, "$.") || len(sel) == 2 {
		return nil, fmt.Errorf("selector %q must start with $. and name a field", sel)
	}
	var path []step
	for part := range strings.SplitSeq(sel[2:], ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" && rest == "" {
			return nil, fmt.Errorf("selector %q has an empty member", sel)
		}
		if name != "" {
			if strings.ContainsAny(name, `]"*`) {
				return nil, fmt.Errorf("selector %q: unsupported member %q", sel, name)
			}
			path = append(path, step{name: name, index: -1})
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil || i < 0 {
				return nil, fmt.Errorf("selector %q: bad array index", sel)
			}
			path = append(path, step{index: i})
			rest = strings.TrimPrefix(after, "[")
			if after != "" && !strings.HasPrefix(after, "[") {
				return nil, fmt.Errorf("selector %q: unexpected %q", sel, after)
			}
		}
	}
	return path, nil
}

// The lexer and the recursive-descent parser.

type token struct {
	kind string // "sel", "op", "str", "num", "&&", "||", "(", ")"
	text string
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.HasPrefix(s[i:], "&&"), strings.HasPrefix(s[i:], "||"):
			toks = append(toks, token{kind: s[i : i+2], text: s[i : i+2]})
			i += 2
		case c == '(' || c == ')':
			toks = append(toks, token{kind: string(c), text: string(c)})
			i++
		case strings.HasPrefix(s[i:], "!="), strings.HasPrefix(s[i:], "<="), strings.HasPrefix(s[i:], ">="):
			toks = append(toks, token{kind: "op", text: s[i : i+2]})
			i += 2
		case c == '=' || c == '<' || c == '>':
			toks = append(toks, token{kind: "op", text: string(c)})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					return nil, fmt.Errorf("escapes in strings are not supported")
				}
				j++
			}
			if j == len(s) {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, token{kind: "str", text: s[i+1 : j]})
			i = j + 1
		case c == '$':
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n=!<>()&|", rune(s[j])) {
				j++
			}
			toks = append(toks, token{kind: "sel", text: s[i:j]})
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && strings.ContainsRune("0123456789.eE+-", rune(s[j])) {
				j++
			}
			toks = append(toks, token{kind: "num", text: s[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unsupported syntax at %q", s[i:])
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek(kind string) bool { return p.pos < len(p.toks) && p.toks[p.pos].kind == kind }

func (p *parser) next() (token, error) {
	if p.pos == len(p.toks) {
		return token{}, fmt.Errorf("unexpected end of pattern")
	}
	p.pos++
	return p.toks[p.pos-1], nil
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	for err == nil && p.peek("||") {
		p.pos++
		var r node
		if r, err = p.and(); err == nil {
			l = or{l, r}
		}
	}
	return l, err
}

func (p *parser) and() (node, error) {
	l, err := p.term()
	for err == nil && p.peek("&&") {
		p.pos++
		var r node
		if r, err = p.term(); err == nil {
			l = and{l, r}
		}
	}
	return l, err
}

func (p *parser) term() (node, error) {
	if p.peek("(") {
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	}
	sel, err := p.next()
	if err != nil {
		return nil, err
	}
	if sel.kind != "sel" {
		return nil, fmt.Errorf("expected a $. selector, got %q", sel.text)
	}
	path, err := parsePath(sel.text)
	if err != nil {
		return nil, err
	}
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	if op.kind != "op" {
		return nil, fmt.Errorf("expected a comparison after %s, got %q", sel.text, op.text)
	}
	val, err := p.next()
	if err != nil {
		return nil, err
	}
	c := comparison{path: path, op: op.text}
	switch val.kind {
	case "str":
		if op.text != "=" && op.text != "!=" {
			return nil, fmt.Errorf("strings compare with = or != only, got %s", op.text)
		}
		s := val.text
		c.prefix, c.suffix = strings.HasSuffix(s, "*"), strings.HasPrefix(s, "*")
		s = strings.TrimSuffix(strings.TrimPrefix(s, "*"), "*")
		if strings.Contains(s, "*") {
			return nil, fmt.Errorf("a wildcard inside a string is not supported")
		}
		c.str = &s
	case "num":
		f, err := strconv.ParseFloat(val.text, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", val.text)
		}
		c.num = &f
	default:
		return nil, fmt.Errorf("expected a quoted string or a number after %s %s, got %q", sel.text, op.text, val.text)
	}
	return c, nil
}
