package ingress_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/ingress/ingresstest"
)

// routeChange points the route at backend to, and returns how long until real Traefik serves
// it from there.
func routeChange(b *testing.B, tr *ingresstest.Proxy, to *ingresstest.Echo) time.Duration {
	req := ingresstest.Request{Host: "bench.example.com"}
	start := time.Now()
	tr.WriteDynamic(b, "bench.yaml", oneRoute("bench.example.com", lb(to.URL), nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if r, err := tr.Do(req); err == nil && r.Status == http.StatusOK {
			if e, err := r.Echo(); err == nil && e.Local == to.Addr {
				return time.Since(start)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatalf("route change not served within 30s")
	return 0
}

// BenchmarkRouteChange measures the time from writing a changed route until real Traefik serves
// it, with the SDK's static configuration (100ms providers throttle) and with Traefik's default
// throttle (2s), interleaved in the same loop.
func BenchmarkRouteChange(b *testing.B) {
	sdk := ingresstest.Start(b, ingresstest.Config{})
	upstream := ingresstest.Start(b, ingresstest.Config{Static: func(o *ingress.StaticOptions) { o.ThrottleDuration = ingress.UpstreamThrottle }})
	back := [2]*ingresstest.Echo{ingresstest.StartEcho(b), ingresstest.StartEcho(b)}
	for _, tr := range []*ingresstest.Proxy{sdk, upstream} {
		routeChange(b, tr, back[0])
	}
	var tSDK, tUp time.Duration
	i := 1
	for b.Loop() {
		tSDK += routeChange(b, sdk, back[i%2])
		tUp += routeChange(b, upstream, back[i%2])
		i++
	}
	n := float64(b.N)
	b.ReportMetric(tSDK.Seconds()*1000/n, "sdk-ms/op")
	b.ReportMetric(tUp.Seconds()*1000/n, "default-ms/op")
	b.ReportMetric(float64(tUp)/float64(tSDK), "default/sdk")
}

func bigConfig(n int) *ingress.Dynamic {
	d := &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers:     make(map[string]ingress.Router, n),
		Services:    make(map[string]ingress.Service, n),
		Middlewares: map[string]ingress.Middleware{"hsts": {Headers: ingress.HSTS()}},
	}}
	for i := range n {
		name := fmt.Sprintf("site-%05d", i)
		d.HTTP.Routers[name] = ingress.Router{
			Rule:        ingress.And(ingress.Host(name+".example.com"), ingress.PathPrefix("/")).String(),
			Service:     name,
			Middlewares: []string{"hsts"},
			EntryPoints: []string{ingress.EntryPointWebSecure},
			TLS:         &ingress.RouterTLS{},
		}
		d.HTTP.Services[name] = lb(fmt.Sprintf("http://10.%d.%d.%d:8080", i>>16&255, i>>8&255, i&255))
	}
	return d
}

// BenchmarkRender10000 validates and renders 10,000 routers (with their services) as a
// file-provider file, against plain json.Marshal of the same structs as the baseline.
func BenchmarkRender10000(b *testing.B) {
	d := bigConfig(10000)
	var base, cand time.Duration
	var size int
	for b.Loop() {
		t0 := time.Now()
		j, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := d.Validate(); err != nil {
			b.Fatal(err)
		}
		y, err := d.FileYAML()
		if err != nil {
			b.Fatal(err)
		}
		cand += time.Since(t1)
		base += t1.Sub(t0)
		size = len(y) + 0*len(j)
	}
	n := float64(b.N)
	b.ReportMetric(cand.Seconds()*1000/n, "render-ms/op")
	b.ReportMetric(base.Seconds()*1000/n, "json-ms/op")
	b.ReportMetric(float64(cand)/float64(base), "render/json")
	b.ReportMetric(float64(size), "yaml-bytes")
}
