package webinfra

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Path is the location of a field in a desired state, printed as `sites[2].hosts[0]` or
// `nodes[fw-1].roles`. Build it with [NewPath], [Path.Child], [Path.Index] and [Path.Key]
// rather than formatting by hand.
//
// Paths are immutable values: every method returns a new path and leaves its receiver alone, so a
// parent path can be shared by the validation of many children. The zero Path is the root.
//
// The shape follows k8s.io/apimachinery's field.Path; it is rewritten here (a few lines) so that
// this small root package does not pull apimachinery into every user of the SDK.
type Path struct {
	parent *Path
	elem   string // "name", "[3]" or "[key]"
}

// NewPath returns the path of a top-level field, with optional nested field names.
func NewPath(name string, more ...string) Path {
	p := Path{elem: name}
	for _, m := range more {
		p = p.Child(m)
	}
	return p
}

// Child returns the path of the named field inside p.
func (p Path) Child(name string) Path {
	return p.with(name)
}

// Index returns the path of element i of the list at p.
func (p Path) Index(i int) Path {
	return p.with("[" + strconv.Itoa(i) + "]")
}

// Key returns the path of the map entry (or named list element) k at p.
func (p Path) Key(k string) Path {
	return p.with("[" + k + "]")
}

func (p Path) with(elem string) Path {
	if p.elem == "" && p.parent == nil {
		return Path{elem: elem}
	}
	parent := p
	return Path{parent: &parent, elem: elem}
}

// String renders the path; the root renders as "".
func (p Path) String() string {
	var elems []string
	for q := &p; q != nil; q = q.parent {
		elems = append(elems, q.elem)
	}
	var b strings.Builder
	for i := len(elems) - 1; i >= 0; i-- {
		e := elems[i]
		if b.Len() > 0 && !strings.HasPrefix(e, "[") {
			b.WriteByte('.')
		}
		b.WriteString(e)
	}
	return b.String()
}

// FieldError is one problem found by validation: which field, the offending value, and why.
type FieldError struct {
	// Path locates the field, as rendered by [Path.String].
	Path string `json:"path"`
	// Value is the offending value, rendered for humans; nil when the problem is not about a
	// value (a required field, a list too short).
	Value *string `json:"value,omitempty"`
	// Msg says what is wrong, in lower case: "not a hostname", "overlaps mesh.subnet (10.0.0.0/8)".
	Msg string `json:"msg"`
}

// Error renders `path: invalid value "v": msg`, or `path: msg` when there is no value.
func (e FieldError) Error() string {
	if e.Value == nil {
		return e.Path + ": " + e.Msg
	}
	return fmt.Sprintf("%s: invalid value %q: %s", e.Path, *e.Value, e.Msg)
}

func (e FieldError) value() string {
	if e.Value == nil {
		return ""
	}
	return "=" + *e.Value
}

// ValidationError collects every problem of a desired state, so that one Validate call reports
// them all. Its Error text lists them one per line, sorted by path and deduplicated, and it
// matches [ErrInvalidArgument] with errors.Is.
//
// The zero value is ready to collect problems; [ValidationError.Err] turns it into nil when
// there are none. It is not safe for concurrent use.
type ValidationError struct {
	// Errors lists the problems; [ValidationError.Err] sorts and deduplicates them.
	Errors []FieldError `json:"errors"`
}

// Add records a problem at path; value is the offending value, or nil when the problem is not
// about a value.
func (v *ValidationError) Add(path Path, value any, msg string) {
	e := FieldError{Path: path.String(), Msg: msg}
	if value != nil {
		r := render(value)
		e.Value = &r
	}
	v.Errors = append(v.Errors, e)
}

// Invalid records that the value at path is invalid, and why.
func (v *ValidationError) Invalid(path Path, value any, msg string) {
	v.Add(path, value, msg)
}

// Addf records a problem at path with a formatted message.
func (v *ValidationError) Addf(path Path, value any, format string, args ...any) {
	v.Add(path, value, fmt.Sprintf(format, args...))
}

// Required records that the field at path must be set.
func (v *ValidationError) Required(path Path) {
	v.Add(path, nil, "required")
}

// Duplicate records that value at path repeats one given before, at first.
func (v *ValidationError) Duplicate(path Path, value any, first Path) {
	v.Add(path, value, "duplicate of "+first.String())
}

// NotSupported records that value at path is not one of the supported values.
func (v *ValidationError) NotSupported(path Path, value any, supported []string) {
	quoted := make([]string, len(supported))
	for i, s := range supported {
		quoted[i] = strconv.Quote(s)
	}
	v.Add(path, value, "supported values: "+strings.Join(quoted, ", "))
}

// Merge appends the problems of another validation error, with their paths prefixed by at.
// It lets a package validate a nested value with its own Validate and keep the caller's paths.
// Errors that are not validation errors are recorded at `at` with their message.
func (v *ValidationError) Merge(at Path, err error) {
	if err == nil {
		return
	}
	prefix := at.String()
	other, ok := err.(*ValidationError)
	if !ok {
		v.Add(at, nil, err.Error())
		return
	}
	for _, e := range other.Errors {
		switch {
		case prefix == "":
		case e.Path == "":
			e.Path = prefix
		case strings.HasPrefix(e.Path, "["):
			e.Path = prefix + e.Path
		default:
			e.Path = prefix + "." + e.Path
		}
		v.Errors = append(v.Errors, e)
	}
}

// Len returns the number of problems recorded so far.
func (v *ValidationError) Len() int { return len(v.Errors) }

// Err returns nil when no problem was recorded, and otherwise v with its problems sorted by path
// and deduplicated. Return it from Validate.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Errors) == 0 {
		return nil
	}
	slices.SortFunc(v.Errors, func(a, b FieldError) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Msg, b.Msg), strings.Compare(a.value(), b.value()))
	})
	v.Errors = slices.CompactFunc(v.Errors, func(a, b FieldError) bool {
		return a.Path == b.Path && a.Msg == b.Msg && a.value() == b.value()
	})
	return v
}

// Error lists the problems, one per line.
func (v *ValidationError) Error() string {
	lines := make([]string, len(v.Errors))
	for i, e := range v.Errors {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Is reports whether target is [ErrInvalidArgument].
func (v *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }

// render turns a field value into the text a FieldError shows. Secrets stay redacted because
// they format as Redacted.
func render(value any) string {
	switch x := value.(type) {
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}
