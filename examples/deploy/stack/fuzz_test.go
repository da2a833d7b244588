package stack_test

import (
	"os"
	"testing"

	"github.com/webinfra/webinfra/examples/deploy/stack"
)

// FuzzParseValidate feeds arbitrary documents to the decoder and the validator: neither may
// panic, and a decoded stack always validates to nil or a ValidationError.
func FuzzParseValidate(f *testing.F) {
	demo, err := os.ReadFile(demoStack)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		demo,                    // valid
		[]byte("name: x\n"),     // minimal
		[]byte("nodes: [{}]\n"), // empty node
		[]byte("mesh: {subnet: '::/0'}\ncluster: {podSubnet: '::/1', loadBalancerPool: '0.0.0.0/0'}\n"),
		[]byte("nodes: [{name: a, meshAddress: '10.0.0.0', publicAddresses: ['::ffff:1.2.3.4']}]\nmesh: {subnet: 10.0.0.0/8}\n"),
		[]byte("sites: [{hosts: ['*.example.com', '']}]\n"),
		[]byte("security: {updates: {window: '23:59-00:00'}}\n"),
		[]byte("{\"name\": 1}"), // JSON, wrong type
		[]byte("a: &a [*a]\n"),  // alias loop
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := stack.Parse(doc)
		if err != nil {
			return
		}
		_ = s.Validate()
	})
}
