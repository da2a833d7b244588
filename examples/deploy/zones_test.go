package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A stack with a customer's zone beside its own: the customer's site hostnames are planned in
// their zone, which gets the zone settings too, and the stack's zone keeps the rest and the
// mail records; a second plan is empty.
func TestSeveralZonesInOneStack(t *testing.T) {
	simulated(t)
	data, err := os.ReadFile("stack.yaml")
	require.NoError(t, err)
	st := strings.Replace(string(data), "domain: example.com\n", "domain: example.com\nzones: [customer.test]\n", 1)
	st = strings.Replace(st, "hosts: [shop.example.com]", "hosts: [shop.customer.test, customer.test]", 1)
	path := filepath.Join(t.TempDir(), "stack.yaml")
	require.NoError(t, os.WriteFile(path, []byte(st), 0o644))
	code, out, errOut := runDeploy(t, "--stack", path, "--state", t.TempDir(), "--output", "json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "plan after apply: No changes.")
	for _, want := range []string{`"id": "shop.customer.test A 203.0.113.10"`, `"id": "customer.test A 203.0.113.10"`, `"id": "www.example.com A 203.0.113.10"`} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "shop.example.com")
	assert.Contains(t, out, `"id": "customer.test ssl"`, "the customer's zone gets the settings")
	assert.Contains(t, out, `"id": "example.com ssl"`)
}
