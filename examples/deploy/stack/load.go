package stack

import (
	"errors"
	"fmt"
	"os"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Parse decodes a stack from YAML (or JSON) strictly: unknown fields, duplicate keys and values of
// the wrong type are errors naming the field. It does not validate; call [Stack.Validate].
func Parse(data []byte) (*Stack, error) {
	// YAMLToJSONStrict rejects duplicate keys; sigs.k8s.io/json then decodes case-sensitively and
	// reports unknown fields with their paths, which encoding/json does not.
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if strings.TrimSpace(string(j)) == "null" {
		return nil, errors.New("stack: empty document")
	}
	var s Stack
	strict, err := kjson.UnmarshalStrict(j, &s, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("stack: %s", strings.Join(msgs, "; "))
	}
	return &s, nil
}

// Load reads and parses the stack file at path.
func Load(path string) (*Stack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
