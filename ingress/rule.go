package ingress

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	k8svalidation "k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
)

// Rule is a Traefik v3 router rule: a matcher such as Host(`example.com`), or matchers combined
// with [And], [Or] and [Not]. Build rules with the functions of this file, or read one with
// [ParseRule]; [Rule.String] renders Traefik's syntax with every value quoted correctly.
//
// The zero Rule is empty and renders as ""; a router with an empty rule is invalid. Rules are
// immutable values, safe for concurrent use.
type Rule struct {
	op      ruleOp
	matcher string   // canonical matcher name, for opMatch
	args    []string // matcher arguments, for opMatch
	kids    []Rule   // operands: two or more for opAnd/opOr, one for opNot
}

type ruleOp uint8

const (
	opNone ruleOp = iota
	opMatch
	opAnd
	opOr
	opNot
)

// matcherArity lists Traefik v3's HTTP matchers with the numbers of arguments each takes.
var matcherArity = map[string][]int{
	"ClientIP":     {1},
	"Method":       {1},
	"Host":         {1},
	"HostRegexp":   {1},
	"Path":         {1},
	"PathRegexp":   {1},
	"PathPrefix":   {1},
	"Header":       {2},
	"HeaderRegexp": {2},
	"Query":        {1, 2},
	"QueryRegexp":  {1, 2},
}

// matcherNames maps every spelling Traefik accepts (as declared, lower case, upper case, and
// capitalised lower case, as traefik's pkg/rules does) to the canonical name.
var matcherNames = func() map[string]string {
	m := map[string]string{}
	for name := range matcherArity {
		lower := strings.ToLower(name)
		for _, alias := range []string{name, lower, strings.ToUpper(name), strings.ToUpper(lower[:1]) + lower[1:]} {
			m[alias] = name
		}
	}
	return m
}()

func match(name string, args ...string) Rule {
	return Rule{op: opMatch, matcher: name, args: args}
}

// Host matches requests for the host name host (case-insensitive, port ignored).
func Host(host string) Rule { return match("Host", host) }

// HostRegexp matches requests whose host matches the Go regular expression re.
func HostRegexp(re string) Rule { return match("HostRegexp", re) }

// Path matches requests for exactly path, which must start with '/'.
func Path(path string) Rule { return match("Path", path) }

// PathPrefix matches requests whose path starts with prefix, which must start with '/'.
func PathPrefix(prefix string) Rule { return match("PathPrefix", prefix) }

// PathRegexp matches requests whose path matches the Go regular expression re.
func PathRegexp(re string) Rule { return match("PathRegexp", re) }

// Header matches requests whose header name has exactly value.
func Header(name, value string) Rule { return match("Header", name, value) }

// Query matches requests with the query parameter key set to value.
func Query(key, value string) Rule { return match("Query", key, value) }

// QueryKey matches requests that have the query parameter key, whatever its value.
func QueryKey(key string) Rule { return match("Query", key) }

// ClientIP matches requests whose client address (the TCP peer, or the PROXY protocol source) is
// in p.
func ClientIP(p netip.Prefix) Rule { return match("ClientIP", p.String()) }

// Method matches requests with the HTTP method m.
func Method(m string) Rule { return match("Method", m) }

// And matches when all rules match. Nested Ands are flattened; And of one rule is that rule;
// empty rules are dropped.
func And(rules ...Rule) Rule { return combine(opAnd, rules) }

// Or matches when any rule matches. Nested Ors are flattened; Or of one rule is that rule;
// empty rules are dropped.
func Or(rules ...Rule) Rule { return combine(opOr, rules) }

// Not matches when r does not. Not of the empty rule is empty.
func Not(r Rule) Rule {
	if r.op == opNone {
		return Rule{}
	}
	return Rule{op: opNot, kids: []Rule{r}}
}

func combine(op ruleOp, rules []Rule) Rule {
	var kids []Rule
	for _, r := range rules {
		switch r.op {
		case opNone:
		case op:
			kids = append(kids, r.kids...)
		default:
			kids = append(kids, r)
		}
	}
	switch len(kids) {
	case 0:
		return Rule{}
	case 1:
		return kids[0]
	}
	return Rule{op: op, kids: kids}
}

// IsZero reports whether r is the empty rule.
func (r Rule) IsZero() bool { return r.op == opNone }

// String renders r in Traefik v3 syntax: values in backticks, or in double quotes with Go
// escapes when they hold a backtick or a control character; `&&` inside `||` in parentheses for
// readability. [ParseRule] of the result gives r back.
func (r Rule) String() string {
	var b strings.Builder
	r.write(&b)
	return b.String()
}

func (r Rule) write(b *strings.Builder) {
	switch r.op {
	case opMatch:
		b.WriteString(r.matcher)
		b.WriteByte('(')
		for i, a := range r.args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteRuleValue(a))
		}
		b.WriteByte(')')
	case opAnd, opOr:
		sep := " && "
		if r.op == opOr {
			sep = " || "
		}
		for i, k := range r.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			if k.op == opAnd || k.op == opOr {
				b.WriteByte('(')
				k.write(b)
				b.WriteByte(')')
			} else {
				k.write(b)
			}
		}
	case opNot:
		k := r.kids[0]
		b.WriteByte('!')
		if k.op == opAnd || k.op == opOr {
			b.WriteByte('(')
			k.write(b)
			b.WriteByte(')')
		} else {
			k.write(b)
		}
	}
}

// quoteRuleValue quotes v as a Go string literal, which is what Traefik's rule parser (Go's
// go/parser underneath) reads: a raw `...` literal when possible, since rules are usually
// written that way; otherwise "..." with escapes (raw literals cannot hold a backtick, and Go
// drops carriage returns from them).
func quoteRuleValue(v string) string {
	raw := utf8.ValidString(v)
	for _, c := range v {
		if c == '`' || c < 0x20 || c == 0x7f || c == utf8.RuneError || c == '\uFEFF' {
			raw = false
			break
		}
	}
	if raw {
		return "`" + v + "`"
	}
	return strconv.Quote(v)
}

// RuleError is a syntax or matcher error in a router rule, with the byte offset where it was
// found. It matches [webinfra.ErrInvalidArgument] with errors.Is.
type RuleError struct {
	// Rule is the rule text.
	Rule string
	// Offset is the 0-based byte offset of the problem in Rule.
	Offset int
	// Msg says what is wrong.
	Msg string
}

// Error renders `ingress: rule "R": column C: msg`, with a 1-based column.
func (e *RuleError) Error() string {
	return fmt.Sprintf("ingress: rule %q: column %d: %s", e.Rule, e.Offset+1, e.Msg)
}

// Is reports whether target is [webinfra.ErrInvalidArgument].
func (e *RuleError) Is(target error) bool { return target == webinfra.ErrInvalidArgument }

// ParseRule reads a Traefik v3 HTTP router rule and checks its matchers as Traefik does: known
// matcher names (in Traefik's accepted spellings), argument counts, non-empty values, ASCII
// hosts, paths starting with '/', valid regular expressions and client addresses. Errors are
// *[RuleError] values giving the position.
//
// The parser is written by hand (a small recursive descent over Go's expression and string
// literal syntax, which is what Traefik's vulcand/predicate parser accepts) because the traefik
// module itself cannot be a dependency of this module. Grammar:
//
//	rule    = or
//	or      = and { "||" and }
//	and     = unary { "&&" unary }
//	unary   = "!" unary | "(" or ")" | matcher
//	matcher = NAME "(" STRING { "," STRING } ")"
//	STRING  = Go raw `...` or interpreted "..." string literal
func ParseRule(s string) (Rule, error) {
	p := &ruleParser{src: s}
	p.skipSpace()
	if p.pos == len(s) {
		return Rule{}, p.errf(0, "empty rule")
	}
	r, err := p.parseOr()
	if err != nil {
		return Rule{}, err
	}
	p.noNewline = false // Go's parser accepts the semicolon a final newline inserts
	p.skipSpace()
	if p.pos != len(s) {
		return Rule{}, p.errf(p.pos, "unexpected %q after the rule", p.peekToken())
	}
	return r, nil
}

type ruleParser struct {
	src string
	pos int
	// noNewline is set after a token at which Go's scanner inserts a semicolon on a newline
	// (a name, a string, ')'), which makes Traefik's parser fail there.
	noNewline bool
}

func (p *ruleParser) errf(at int, format string, args ...any) error {
	return &RuleError{Rule: p.src, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (p *ruleParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\r':
		case '\n':
			if p.noNewline {
				return
			}
		default:
			return
		}
		p.pos++
	}
}

func (p *ruleParser) peekToken() string {
	rest := p.src[p.pos:]
	if len(rest) > 10 {
		rest = rest[:10]
	}
	return rest
}

func (p *ruleParser) accept(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		p.noNewline = tok == ")"
		return true
	}
	return false
}

func (p *ruleParser) parseOr() (Rule, error) {
	var kids []Rule
	for {
		r, err := p.parseAnd()
		if err != nil {
			return Rule{}, err
		}
		kids = append(kids, r)
		if !p.accept("||") {
			return Or(kids...), nil
		}
	}
}

func (p *ruleParser) parseAnd() (Rule, error) {
	var kids []Rule
	for {
		r, err := p.parseUnary()
		if err != nil {
			return Rule{}, err
		}
		kids = append(kids, r)
		if !p.accept("&&") {
			return And(kids...), nil
		}
	}
}

func (p *ruleParser) parseUnary() (Rule, error) {
	p.skipSpace()
	if p.pos == len(p.src) {
		return Rule{}, p.errf(p.pos, "unexpected end of rule, want a matcher, '!' or '('")
	}
	switch p.src[p.pos] {
	case '!':
		p.pos++
		p.noNewline = false
		r, err := p.parseUnary()
		if err != nil {
			return Rule{}, err
		}
		return Rule{op: opNot, kids: []Rule{r}}, nil
	case '(':
		open := p.pos
		p.pos++
		p.noNewline = false
		r, err := p.parseOr()
		if err != nil {
			return Rule{}, err
		}
		if !p.accept(")") {
			return Rule{}, p.errf(p.pos, "missing ')' closing the '(' at column %d", open+1)
		}
		return r, nil
	}
	return p.parseMatcher()
}

func (p *ruleParser) parseMatcher() (Rule, error) {
	start := p.pos
	for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	if name == "" {
		return Rule{}, p.errf(start, "unexpected %q, want a matcher, '!' or '('", p.peekToken())
	}
	canon, ok := matcherNames[name]
	if !ok {
		return Rule{}, p.errf(start, "unknown matcher %q", name)
	}
	p.noNewline = true
	if !p.accept("(") {
		return Rule{}, p.errf(p.pos, "want '(' after %s", name)
	}
	p.noNewline = false
	var args []string
	argAt := []int{}
	for {
		p.skipSpace()
		if len(args) == 0 && p.accept(")") {
			break
		}
		at := p.pos
		v, err := p.parseString()
		if err != nil {
			return Rule{}, err
		}
		args = append(args, v)
		argAt = append(argAt, at)
		if p.accept(")") {
			break
		}
		if !p.accept(",") {
			return Rule{}, p.errf(p.pos, "want ',' or ')' in the arguments of %s", name)
		}
		p.noNewline = false
	}
	if err := checkMatcher(canon, args); err != nil {
		at := start
		if err.arg >= 0 && err.arg < len(argAt) {
			at = argAt[err.arg]
		}
		return Rule{}, p.errf(at, "%s", err.msg)
	}
	return Rule{op: opMatch, matcher: canon, args: args}, nil
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseString reads a Go string literal at p.pos.
func (p *ruleParser) parseString() (string, error) {
	start := p.pos
	if p.pos == len(p.src) {
		return "", p.errf(p.pos, "unexpected end of rule, want a string in backticks or double quotes")
	}
	quote := p.src[p.pos]
	if quote != '`' && quote != '"' {
		return "", p.errf(p.pos, "unexpected %q, want a string in backticks or double quotes", p.peekToken())
	}
	i := p.pos + 1
	for ; i < len(p.src); i++ {
		c := p.src[i]
		if c == quote {
			break
		}
		if quote == '"' {
			if c == '\n' {
				return "", p.errf(i, "newline in a double-quoted string")
			}
			if c == '\\' {
				i++
			}
		}
	}
	if i >= len(p.src) {
		return "", p.errf(start, "string not terminated")
	}
	lit := p.src[start : i+1]
	v, err := strconv.Unquote(lit)
	if err != nil {
		return "", p.errf(start, "invalid string literal %s", lit)
	}
	if !utf8.ValidString(lit) {
		return "", p.errf(start, "string literal is not valid UTF-8")
	}
	p.pos = i + 1
	p.noNewline = true
	return v, nil
}

type matcherError struct {
	arg int // index of the offending argument, -1 for the matcher itself
	msg string
}

// checkMatcher applies the checks Traefik's matcher builders make (pkg/muxer/http).
func checkMatcher(name string, args []string) *matcherError {
	arity := matcherArity[name]
	okArity := false
	for _, n := range arity {
		okArity = okArity || n == len(args)
	}
	if !okArity {
		return &matcherError{-1, fmt.Sprintf("%s takes %s argument(s), got %d", name, joinInts(arity), len(args))}
	}
	for i, a := range args {
		if a == "" {
			return &matcherError{i, fmt.Sprintf("empty argument to %s", name)}
		}
	}
	v := args[0]
	switch name {
	case "Host":
		if msg := checkHost(v); msg != "" {
			return &matcherError{0, fmt.Sprintf("Host value %q: %s", v, msg)}
		}
	case "HostRegexp":
		for i := range len(v) {
			if v[i] >= utf8.RuneSelf {
				return &matcherError{0, fmt.Sprintf("%s value %q has non-ASCII characters (use the punycode form)", name, v)}
			}
		}
	case "Path", "PathPrefix":
		if !strings.HasPrefix(v, "/") {
			return &matcherError{0, fmt.Sprintf("%s value %q does not start with '/'", name, v)}
		}
	case "ClientIP":
		if _, err := netip.ParsePrefix(v); err != nil {
			if _, err := netip.ParseAddr(v); err != nil {
				return &matcherError{0, fmt.Sprintf("ClientIP value %q is neither an IP address nor a CIDR range", v)}
			}
		}
	}
	re := -1
	switch name {
	case "HostRegexp", "PathRegexp":
		re = 0
	case "HeaderRegexp":
		re = 1
	case "QueryRegexp":
		re = len(args) - 1
	}
	if re >= 0 {
		if _, err := regexp.Compile(args[re]); err != nil {
			return &matcherError{re, fmt.Sprintf("%s: %v", name, err)}
		}
	}
	return nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " or ")
}

// checkHost returns "" when h is a host a Host matcher or a Host header can name: an IP address
// (IPv6 bare or in brackets) or a DNS name of labels of 1 to 63 ASCII letters, digits and '-'
// (not first or last), at most 253 bytes, with an optional final dot; otherwise it says why not.
// Non-ASCII names must be given in their punycode form.
func checkHost(h string) string {
	if _, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil {
		if strings.Contains(h, "%") {
			return "a zoned address is not a host"
		}
		return ""
	}
	for i := range len(h) {
		if h[i] >= utf8.RuneSelf {
			return "has non-ASCII characters (use the punycode form)"
		}
	}
	name := strings.ToLower(strings.TrimSuffix(h, "."))
	if problems := k8svalidation.IsDNS1123Subdomain(name); len(problems) > 0 {
		return "not a host name: " + strings.Join(problems, "; ")
	}
	for l := range strings.SplitSeq(name, ".") {
		if len(l) > 63 {
			return fmt.Sprintf("label %q is %d bytes, more than 63", l, len(l))
		}
	}
	return ""
}
