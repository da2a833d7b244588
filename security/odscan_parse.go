package security

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// OdscanRecord is one per-file line of odscan's log output:
//
//	name="/srv/a/eicar.com", threat="Eicar test file", action="cleaned by deleting", info=""
//
// Keys are lower-case words; values are double-quoted with backslash escapes (\" and \\).
type OdscanRecord struct {
	// Name is the file.
	Name string
	// Threat is the detection name, from the "threat" key or, as odscan 8.0.375.0 writes it,
	// "result"; "" for a clean or unscanned file.
	Threat string
	// Action is what odscan did: "cleaned by deleting", "retained" ...
	Action string
	// Info carries the reason a file was not scanned ("Error opening file").
	Info string
}

// ParseOdscan reads odscan's output. Lines that are not key="value" records with a name
// (banners, summaries such as "Scanned files: 10") are ignored; a record line that is
// malformed (an unterminated quote, a key without a value) is an [ErrUnexpectedOutput].
func ParseOdscan(out []byte) ([]OdscanRecord, error) {
	var recs []OdscanRecord
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "name=") {
			continue
		}
		kv, err := parseKV(line)
		if err != nil {
			return nil, fmt.Errorf("security: odscan output line %d: %w: %w", n, ErrUnexpectedOutput, err)
		}
		if kv["name"] == "" {
			return nil, fmt.Errorf("security: odscan output line %d: record without a name: %w", n, ErrUnexpectedOutput)
		}
		threat := kv["threat"]
		if threat == "" {
			// odscan 8.0.375.0 names the detection result="..." (MailScanner v5 issue 540).
			threat = kv["result"]
		}
		recs = append(recs, OdscanRecord{Name: kv["name"], Threat: threat, Action: kv["action"], Info: kv["info"]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("security: odscan output: %w: %w", ErrUnexpectedOutput, err)
	}
	return recs, nil
}

// parseKV parses `k1="v1", k2="v2"`.
func parseKV(s string) (map[string]string, error) {
	kv := map[string]string{}
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if i == len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, fmt.Errorf("key without value at %d", i)
		}
		key := s[i : i+eq]
		if strings.ContainsAny(key, " \",") {
			return nil, fmt.Errorf("bad key %q", key)
		}
		i += eq + 1
		if i >= len(s) || s[i] != '"' {
			return nil, fmt.Errorf("value of %s is not quoted", key)
		}
		i++
		var b strings.Builder
		closed := false
		for i < len(s) {
			c := s[i]
			i++
			if c == '\\' && i < len(s) {
				b.WriteByte(s[i])
				i++
				continue
			}
			if c == '"' {
				closed = true
				break
			}
			b.WriteByte(c)
		}
		if !closed {
			return nil, fmt.Errorf("unterminated value of %s", key)
		}
		if _, dup := kv[key]; dup {
			return nil, fmt.Errorf("duplicate key %s", key)
		}
		kv[key] = b.String()
	}
	return kv, nil
}

// QuoteOdscan quotes a value as odscan writes it (used by the stand-in odscan of securitytest).
func QuoteOdscan(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
