package ingress_test

import (
	"bytes"
	"testing"

	"github.com/webinfra/webinfra/ingress"
)

// FuzzParseFileYAML: ParseFileYAML never panics; what it accepts passes through Validate without
// panicking, renders with FileYAML, and that rendering parses back to a configuration that
// renders identically.
func FuzzParseFileYAML(f *testing.F) {
	for _, s := range []string{
		// valid
		"http:\n  routers:\n    www:\n      rule: Host(`www.example.com`)\n      service: web\n      middlewares: [hsts]\n      tls: {options: modern}\n  services:\n    web:\n      loadBalancer:\n        servers:\n        - url: http://10.0.0.1:8080\n        healthCheck: {path: /healthz, interval: 10s}\n  middlewares:\n    hsts:\n      headers: {stsSeconds: 63072000, customResponseHeaders: {X-T: '{{\"{{\"}} x'}}\ntls:\n  options:\n    modern: {minVersion: VersionTLS13}\n",
		`{"http":{"middlewares":{"a":{"basicAuth":{"users":["ops:$2y$05$abcdefghijklmnopqrstuuRjx4w8yMoXrTmWeMpnvLZ9BjbHGsTZ6"]}},"r":{"rateLimit":{"average":10,"period":1,"burst":5}}}}}`,
		"http: {middlewares: {c: {compress: {}}, i: {ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {depth: 1}}}}}",
		// edge and invalid
		"", "null", "{}", "[]", "http: 3", "http: {routers: {a: {sevice: x}}}", "http: {routers: {a: {priority: x}}}",
		"http:\n  routers: {}\n  routers: {}\n", "http: {routers: {a: {rule: '{{ .X }}'}}}", "tls: {options: {a: {sniStrict: yes}}}",
		"http: {services: {a: {loadBalancer: {healthCheck: {interval: 1e300}}}}}", "http: {middlewares: {a: {basicAuth: {users: [nocolon]}}}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ingress.ParseFileYAML(data)
		if err != nil {
			return
		}
		_ = d.Validate()
		y, err := d.FileYAML()
		if err != nil {
			t.Fatalf("FileYAML of a parsed file: %v", err)
		}
		back, err := ingress.ParseFileYAML(y)
		if err != nil {
			t.Fatalf("rendering does not parse: %v\n%s", err, y)
		}
		y2, err := back.FileYAML()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(y, y2) {
			t.Fatalf("round trip changed the file:\n%s\n---\n%s", y, y2)
		}
	})
}
