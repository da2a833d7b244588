package stack

import (
	"errors"
	"fmt"
	"io"
	"os"
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
