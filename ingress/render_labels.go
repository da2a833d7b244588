package ingress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/traefik/paerser/parser"
)

// labelSliceAsStruct lists the lists of objects that Traefik's label schema addresses by a
// singular name holding one element (its `label-slice-as-struct` tags).
var labelSliceAsStruct = map[string]string{"servers": "server"}

// Labels renders d as container labels for Traefik's Docker (or Swarm, ECS, Nomad) provider,
// such as `traefik.http.routers.www.rule` = "Host(`www.example.com`)", using paerser's label
// encoder, the library Traefik itself reads labels with. Lists of values are joined with ", ";
// basic-auth users appear as htpasswd lines with bcrypt hashes. A load balancer can have only
// one server in labels (Traefik's label schema names it `server`); more are an error, as is a
// password that cannot be hashed. Labels does not validate: call [Dynamic.Validate] first.
func (d *Dynamic) Labels() (map[string]string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("ingress: render labels: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("ingress: render labels: %w", err)
	}
	root := &parser.Node{Name: "traefik"}
	if err := labelNode(root, tree); err != nil {
		return nil, err
	}
	return parser.EncodeNode(root), nil
}

// labelNode fills n from a decoded JSON value, the way paerser's encoder shapes Traefik's own
// configuration structs into nodes.
func labelNode(n *parser.Node, v any) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := &parser.Node{Name: k}
			val := x[k]
			if single, ok := labelSliceAsStruct[k]; ok {
				list, _ := val.([]any)
				if len(list) > 1 {
					return fmt.Errorf("ingress: render labels: %s.%s has %d entries; labels hold only one", n.Name, k, len(list))
				}
				child.Name = single
				if len(list) == 1 {
					val = list[0]
				}
			}
			if err := labelNode(child, val); err != nil {
				return err
			}
			if m, ok := val.(map[string]any); ok && len(m) == 0 {
				child.Value = "true" // an empty section such as compress: {} or tls: {}
			}
			n.Children = append(n.Children, child)
		}
	case []any:
		var vals []string
		for _, e := range x {
			if _, ok := e.(map[string]any); ok {
				return fmt.Errorf("ingress: render labels: %s is a list of objects, which labels cannot hold", n.Name)
			}
			vals = append(vals, scalar(e))
		}
		n.Value = strings.Join(vals, ", ")
	default:
		n.Value = scalar(x)
	}
	return nil
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
