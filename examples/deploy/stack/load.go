package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/webinfra/webinfra"
)

// MaxFileSize is the largest stack file [Load] and [Parse] accept: 4 MiB, far above any real
// stack, so that a wrong path (a disk image, /dev/zero) fails fast instead of filling memory.
const MaxFileSize = 4 << 20

// errTooLarge says that a stack is over MaxFileSize; it matches webinfra.ErrInvalidArgument.
func errTooLarge(size string) error {
	return fmt.Errorf("stack: %s, larger than the limit of 4 MiB (%d bytes): %w", size, MaxFileSize, webinfra.ErrInvalidArgument)
}

// Parse decodes a stack from YAML (or JSON) strictly: unknown fields, duplicate keys and values of
// the wrong type are errors naming the field. Data longer than [MaxFileSize] is refused before
// decoding, with an error matching webinfra.ErrInvalidArgument. It does not validate; call
// [Stack.Validate].
func Parse(data []byte) (*Stack, error) {
	if len(data) > MaxFileSize {
		return nil, errTooLarge(fmt.Sprintf("%d bytes", len(data)))
	}
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
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// In the stack's words, not Go's: the field's path and the kinds of YAML value.
		return nil, fmt.Errorf("stack: %s: %s given, want %s: %w", te.Field, yamlKind(te.Value), wantKind(te.Type), webinfra.ErrInvalidArgument)
	}
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

// yamlKind names the kind of value json reports ("string", "number", "array", "object", "bool").
func yamlKind(v string) string {
	switch v {
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	case "bool":
		return "true/false"
	case "number":
		return "a number"
	case "string":
		return "text"
	}
	return v
}

// wantKind says what a field of Go type t takes, as a stack file writes it.
func wantKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value lines)"
	case reflect.Pointer:
		return wantKind(t.Elem())
	}
	return t.Kind().String()
}

// Load reads and parses the stack file at path. It reads at most [MaxFileSize] bytes and one
// more: a longer file (or an endless one such as a device) is refused before parsing, with an
// error naming path and the limit that matches webinfra.ErrInvalidArgument.
func Load(path string) (*Stack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %w", path, errTooLarge("more than 4 MiB"))
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
