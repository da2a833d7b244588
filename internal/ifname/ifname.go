// Package ifname checks Linux network interface names before they are written into a
// configuration file (tinc.conf, an nftables ruleset, a MetalLB advertisement).
//
// The kernel (dev_valid_name in net/core/dev.c) accepts any name of 1 to IFNAMSIZ-1 (15) bytes
// other than "." and "..", without '/', ':' or white space. That still lets through control
// characters, quotes, braces and ';', which would end a value early or add a line in the
// files the names are rendered into. Valid is stricter: it accepts only the characters real
// interface names use (letters, digits, '_', '-' and '.', as in eth0, enp3s0, tun-mesh0,
// eth0.100), so a valid name can be rendered anywhere without quoting.
package ifname

import "fmt"

// MaxLen is the longest interface name Linux accepts: IFNAMSIZ (16) less the terminating NUL.
const MaxLen = 15

// Msg describes a valid name, for validation messages.
const Msg = "not a network interface name (1 to 15 letters, digits, '_', '-' or '.', not \".\" or \"..\")"

// Check returns nil when name is a valid interface name, and otherwise an error saying what is
// wrong with it (its length, the offending character, or a reserved name). It is pure.
func Check(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty")
	case len(name) > MaxLen:
		return fmt.Errorf("%d bytes, more than %d", len(name), MaxLen)
	case name == "." || name == "..":
		return fmt.Errorf("%q is reserved", name)
	}
	for i := 0; i < len(name); i++ {
		if !ok(name[i]) {
			return fmt.Errorf("character %q at offset %d", name[i:i+1], i)
		}
	}
	return nil
}

// Valid reports whether Check accepts name.
func Valid(name string) bool { return Check(name) == nil }

func ok(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}
