package ingress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/webinfra/webinfra"
)

// templateEscape is how a literal "{{" is written in a file-provider file: Traefik runs every
// such file through Go's text/template before reading it, and this action prints "{{".
const templateEscape = `{{"{{"}}`

// FileYAML renders d as a Traefik file-provider file (YAML, keys sorted, so the output is
// deterministic apart from the bcrypt hashes of basic-auth passwords; see
// [Dynamic.HashPasswords]). Every literal "{{" is escaped, because Traefik's file provider runs
// files through Go templates; Traefik reads the file back as d. FileYAML does not validate: call
// [Dynamic.Validate] first. Its only error is a failure to hash a password.
func (d *Dynamic) FileYAML() ([]byte, error) {
	j, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("ingress: render file: %w", err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("ingress: render file: %w", err)
	}
	return bytes.ReplaceAll(y, []byte("{{"), []byte(templateEscape)), nil
}

// ParseFileYAML reads a file-provider file (YAML or JSON) strictly: unknown keys, duplicate keys
// and values of the wrong type are errors, all reported in one *[webinfra.ValidationError]
// (matching [webinfra.ErrInvalidArgument]) naming each field path, such as
// `http.routers[www].sevice: unknown field`. Traefik itself rejects such a file whole with one log
// line and keeps its previous configuration. The "{{" escape of [Dynamic.FileYAML] is undone;
// any other Go template action is an error, since this function does not run templates. Keys
// of Traefik's schema that the SDK does not model (weighted services, other middlewares, tcp,
// udp) count as unknown. ParseFileYAML does not validate references: call [Dynamic.Validate].
func ParseFileYAML(data []byte) (*Dynamic, error) {
	var errs webinfra.ValidationError
	root := webinfra.NewPath("")
	rest := bytes.ReplaceAll(data, []byte(templateEscape), nil)
	if i := bytes.Index(rest, []byte("{{")); i >= 0 {
		errs.Add(root, nil, "holds a Go template action; only the escape {{\"{{\"}} of a literal {{ is supported")
		return nil, errs.Err()
	}
	data = bytes.ReplaceAll(data, []byte(templateEscape), []byte("{{"))
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		errs.Add(root, nil, "not valid YAML: "+strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
		return nil, errs.Err()
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		errs.Add(root, nil, "not valid YAML: "+err.Error())
		return nil, errs.Err()
	}
	d := &Dynamic{}
	if generic == nil {
		return d, nil
	}
	checkFields(&errs, webinfra.Path{}, generic, reflect.TypeFor[Dynamic]())
	if errs.Len() > 0 {
		return nil, errs.Err()
	}
	if err := json.Unmarshal(j, d); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			errs.Addf(webinfra.NewPath(te.Field), nil, "want %s, got a JSON %s", te.Type, te.Value)
		} else {
			errs.Add(root, nil, strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil, errs.Err()
	}
	return d, nil
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// checkFields walks a decoded JSON value along the Go type it will be decoded into and records
// every object key that type has no field for, and values whose JSON kind cannot fit.
func checkFields(errs *webinfra.ValidationError, p webinfra.Path, v any, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			errs.Add(p, nil, "want an object")
			return
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				errs.Add(p.Child(k), nil, "unknown field")
				continue
			}
			checkFields(errs, p.Child(k), obj[k], ft)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			errs.Add(p, nil, "want an object")
			return
		}
		for _, k := range sortedKeys(obj) {
			checkFields(errs, p.Key(k), obj[k], t.Elem())
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			errs.Add(p, nil, "want a list")
			return
		}
		for i, e := range arr {
			checkFields(errs, p.Index(i), e, t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			errs.Add(p, nil, "want a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			errs.Add(p, nil, "want true or false")
		}
	case reflect.Int, reflect.Int64:
		if _, ok := v.(json.Number); !ok {
			errs.Add(p, nil, "want a number")
		}
	}
}
