package ingress_test

import (
	"testing"

	"github.com/webinfra/webinfra/ingress"
)

// FuzzParseRule: ParseRule never panics, and what it accepts renders with Rule.String to text
// that parses back to the same rule and renders the same again.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		// valid
		"Host(`example.com`)",
		"Host(`a`) && PathPrefix(`/api`) || !Method(`POST`)",
		"(Host(`a`) || Host(`b`)) && !(Path(`/x`) && Query(`k`, `v`))",
		"HostRegexp(`^[a-z]+\\.example\\.com$`)",
		`Header("X-A", "a` + "`" + `b\n")`,
		"ClientIP(`10.0.0.0/8`) && QueryRegexp(`q`, `^\\d+$`)",
		"host(`A`)\n",
		// edge and invalid
		"", "(", ")", "!", "&&", "Host(", "Host(`a`", "Host(\"\\", "Host(`a`)\n&&Path(`/`)",
		"Host(`a`, `b`)", "Path(`x`)", "PathRegexp(`(`)", "Host(`\xff`)", "Hots(`a`)", "Host(1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ingress.ParseRule(s)
		if err != nil {
			return
		}
		text := r.String()
		back, err := ingress.ParseRule(text)
		if err != nil {
			t.Fatalf("ParseRule(%q) = %q, which does not parse: %v", s, text, err)
		}
		if again := back.String(); again != text {
			t.Fatalf("ParseRule(%q): %q renders as %q after a round trip", s, text, again)
		}
		if back.String() != r.String() {
			t.Fatalf("round trip changed the rule")
		}
	})
}
