package ingress_test

import (
	"fmt"

	"github.com/webinfra/webinfra/ingress"
)

// A router built with the rule builder, validated and rendered as a file-provider file.
func ExampleDynamic_FileYAML() {
	d := &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers: map[string]ingress.Router{"www": {
			Rule:        ingress.And(ingress.Host("www.example.com"), ingress.PathPrefix("/api")).String(),
			Service:     "web",
			EntryPoints: []string{ingress.EntryPointWebSecure},
			TLS:         &ingress.RouterTLS{},
		}},
		Services: map[string]ingress.Service{"web": {LoadBalancer: &ingress.LoadBalancer{
			Servers: []ingress.Server{{URL: "http://10.0.0.5:8080"}},
		}}},
	}}
	if err := d.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	y, _ := d.FileYAML()
	fmt.Print(string(y))
	// Output:
	// http:
	//   routers:
	//     www:
	//       entryPoints:
	//       - websecure
	//       rule: Host(`www.example.com`) && PathPrefix(`/api`)
	//       service: web
	//       tls: {}
	//   services:
	//     web:
	//       loadBalancer:
	//         servers:
	//         - url: http://10.0.0.5:8080
}

// Validation names every problem with its field path.
func ExampleDynamic_Validate() {
	d := &ingress.Dynamic{HTTP: ingress.HTTP{Routers: map[string]ingress.Router{
		"www": {Rule: "Host(`www.example.com`", Service: "missing"},
	}}}
	fmt.Println(d.Validate())
	// Output:
	// http.routers[www].rule: invalid value "Host(`www.example.com`": column 23: want ',' or ')' in the arguments of Host
	// http.routers[www].service: invalid value "missing": no such service in http.services (Traefik would disable the router)
}

// Values holding a backtick are quoted with double quotes.
func ExampleParseRule() {
	r, err := ingress.ParseRule("host(`a.example.com`) && Header(\"X-Tag\", \"a`b\")")
	fmt.Println(r, err)
	// Output:
	// Host(`a.example.com`) && Header(`X-Tag`, "a`b") <nil>
}
