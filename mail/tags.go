package mail

import (
	"strings"
)

// tag is one name=value pair of a tag list.
type tag struct{ name, value string }

// parseTags splits a tag list (RFC 6376 section 3.2, also the grammar of the MTA-STS and
// TLS-RPT TXT records): tags separated by ";", whitespace around names and values ignored, an
// optional trailing ";", tag names of a letter followed by letters, digits and '_', no tag
// twice. Order is kept because MTA-STS and TLS-RPT require v= first.
func parseTags(record, s string) ([]tag, error) {
	var tags []tag
	seen := map[string]bool{}
	parts := strings.Split(s, ";")
	for i, part := range parts {
		if strings.TrimSpace(part) == "" {
			if i == len(parts)-1 && i > 0 {
				break // trailing ";"
			}
			return nil, &ParseError{Record: record, Term: part, Msg: "empty tag"}
		}
		name, value, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || !isTagName(name) {
			return nil, &ParseError{Record: record, Term: strings.TrimSpace(part), Msg: "not a name=value tag"}
		}
		if seen[name] {
			return nil, &ParseError{Record: record, Term: name, Msg: "tag appears twice"}
		}
		seen[name] = true
		tags = append(tags, tag{name: name, value: strings.TrimSpace(value)})
	}
	return tags, nil
}

func isTagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func lookupTag(tags []tag, name string) (string, bool) {
	for _, t := range tags {
		if t.name == name {
			return t.value, true
		}
	}
	return "", false
}
