package ifname_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/webinfra/webinfra/internal/ifname"
)

func TestCheck(t *testing.T) {
	for _, name := range []string{"eth0", "enp3s0", "tun-mesh0", "eth0.100", "wg_0", "a", strings.Repeat("x", 15)} {
		assert.NoError(t, ifname.Check(name), "%q", name)
	}
	for _, tc := range []struct{ name, msg string }{
		{"", "empty"},
		{strings.Repeat("x", 16), "16 bytes, more than 15"},
		{".", "reserved"},
		{"..", "reserved"},
		{"a/b", `"/"`},
		{"a:1", `":"`},
		{"a b", `" "`},
		{"a\tb", `"\t"`},
		{"a\nb", `"\n"`},
		{"a\rb", `"\r"`},
		{"a\x00b", `"\x00"`},
		{"a\x7fb", `"\x7f"`},
		{"a;b", `";"`},
		{"a}b", `"}"`},
		{"a{b", `"{"`},
		{`a"b`, `"\""`},
		{"a'b", `"'"`},
		{`a\b`, `"\\"`},
		{"eth*", `"*"`},
		{"a%b", `"%"`},
		{"a#b", `"#"`},
		{"a$b", `"$"`},
		{"é", `"\xc3"`},
	} {
		err := ifname.Check(tc.name)
		if assert.Error(t, err, "%q", tc.name) {
			assert.Contains(t, err.Error(), tc.msg, "%q", tc.name)
		}
		assert.False(t, ifname.Valid(tc.name))
	}
}
