package mesh

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/webinfra/webinfra"
)

// Var is one variable of a tinc configuration file, "Key = Value".
type Var struct {
	// Key is the variable name; tinc compares names case-insensitively.
	Key string
	// Value is the text after the separator, without surrounding blanks.
	Value string
}

// Conf is a tinc configuration file (tinc.conf or a host file) as tincd reads it: variables in
// file order and PEM blocks (keys), which tincd skips when it reads variables. Comments are not
// kept. The zero value is an empty file.
type Conf struct {
	// Vars are the variables in file order; a key may repeat (ConnectTo, Subnet, Address).
	Vars []Var
	// Blocks are the PEM blocks, each from its "-----BEGIN" line to its "-----END" line
	// inclusive, newline-terminated.
	Blocks []string
}

var confKey = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// ParseConf parses a tinc configuration file the way tincd 1.0 reads one: lines of
// "Key = Value", "Key=Value" or "Key Value"; blank lines and lines starting with '#' ignored;
// PEM blocks kept whole. Errors name the line and match webinfra.ErrInvalidArgument: a variable
// without a value (tincd refuses those too), an unterminated PEM block, and control characters,
// which tincd would take into names and values but which no file can round-trip.
func ParseConf(data []byte) (*Conf, error) {
	c := &Conf{}
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(nil, 1<<20)
	var block *strings.Builder
	line := 0
	for s.Scan() {
		line++
		text := strings.TrimRight(s.Text(), " \t\r")
		if i := strings.IndexFunc(text, isControl); i >= 0 {
			return nil, confError(line, "control character %q", text[i])
		}
		if block != nil {
			block.WriteString(text + "\n")
			if strings.HasPrefix(text, "-----END") {
				c.Blocks = append(c.Blocks, block.String())
				block = nil
			}
			continue
		}
		text = strings.TrimLeft(text, " \t")
		switch {
		case text == "" || text[0] == '#':
			continue
		case strings.HasPrefix(text, "-----BEGIN"):
			block = &strings.Builder{}
			block.WriteString(text + "\n")
			continue
		}
		end := strings.IndexAny(text, "\t =")
		if end < 0 {
			return nil, confError(line, "variable %q has no value", text)
		}
		key, value := text[:end], strings.TrimLeft(text[end:], "\t ")
		if strings.HasPrefix(value, "=") {
			value = strings.TrimLeft(value[1:], "\t ")
		}
		if !confKey.MatchString(key) {
			return nil, confError(line, "variable name %q: want letters and digits", key)
		}
		if value == "" {
			return nil, confError(line, "variable %q has no value", key)
		}
		c.Vars = append(c.Vars, Var{Key: key, Value: value})
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("mesh: parse config: %w: %w", err, webinfra.ErrInvalidArgument)
	}
	if block != nil {
		return nil, confError(line, "PEM block without an -----END line")
	}
	return c, nil
}

func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

func confError(line int, format string, args ...any) error {
	return fmt.Errorf("mesh: parse config: line %d: %s: %w", line, fmt.Sprintf(format, args...), webinfra.ErrInvalidArgument)
}

// Marshal renders the file: one "Key = Value" line per variable, then each PEM block after a
// blank line. ParseConf of the result gives c back.
func (c *Conf) Marshal() []byte {
	var b bytes.Buffer
	for _, v := range c.Vars {
		fmt.Fprintf(&b, "%s = %s\n", v.Key, v.Value)
	}
	for _, blk := range c.Blocks {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(blk)
	}
	return b.Bytes()
}

// Get returns the values of key (case-insensitive), in file order.
func (c *Conf) Get(key string) []string {
	var out []string
	for _, v := range c.Vars {
		if strings.EqualFold(v.Key, key) {
			out = append(out, v.Value)
		}
	}
	return out
}

// First returns the first value of key, or "".
func (c *Conf) First(key string) string {
	if vs := c.Get(key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Add appends a variable.
func (c *Conf) Add(key, value string) { c.Vars = append(c.Vars, Var{Key: key, Value: value}) }

// Without returns a copy of c without the variables named by keys (case-insensitive) and with
// the same blocks.
func (c *Conf) Without(keys ...string) *Conf {
	out := &Conf{Blocks: c.Blocks}
	for _, v := range c.Vars {
		drop := false
		for _, k := range keys {
			drop = drop || strings.EqualFold(v.Key, k)
		}
		if !drop {
			out.Vars = append(out.Vars, v)
		}
	}
	return out
}
