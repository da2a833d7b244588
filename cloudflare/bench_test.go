package cloudflare_test

import (
	"testing"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
	"github.com/webinfra/webinfra/internal/ratelimit"
)

// The benchmarks run against cloudflaretest with a per-call latency and Cloudflare's request
// limit enforced, scaled from 1,200 per 5 minutes to 1,200 per 5 seconds so a run takes seconds;
// the client keeps its default share of that (1,000 per window). They report call counts by
// endpoint, 429 answers, and the ratio to a baseline measured in the same loop.

const benchLatency = 200 * time.Microsecond

var scaledBudget = cloudflaretest.Budget{Requests: 1200, Window: 5 * time.Second}

func benchEnv(b *testing.B, batchSize int) (*cloudflaretest.Server, *cloudflare.Client) {
	b.Helper()
	srv := cloudflaretest.Start(b, cloudflaretest.Options{Latency: benchLatency, Budget: scaledBudget})
	c, err := cloudflare.New(cloudflare.Config{
		Token:     webinfra.NewSecret(srv.Token()),
		BaseURL:   srv.URL(),
		BatchSize: batchSize,
		Budget:    ratelimit.Budget{Requests: 1000, Per: 5 * time.Second, Burst: 20},
	})
	if err != nil {
		b.Fatal(err)
	}
	srv.AddZone("example.com")
	return srv, c
}

func converge(b *testing.B, c *cloudflare.Client, d cloudflare.DNS) {
	b.Helper()
	p, err := c.PlanDNS(b.Context(), d)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.ApplyDNS(b.Context(), p); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConverge10k converges a 10,000-record zone from empty in batches of 200, against a
// baseline that sends one change per call (batch size 1).
func BenchmarkConverge10k(b *testing.B) {
	d := cloudflare.DNS{Zone: "example.com", Records: records(10000, "c")}
	var base, cand time.Duration
	var baseCalls, candCalls, batches, lists, zones, limited int
	for b.Loop() {
		b.StopTimer()
		srvB, cB := benchEnv(b, 1)
		srvC, cC := benchEnv(b, 200)
		b.StartTimer()

		t0 := time.Now()
		converge(b, cB, d)
		t1 := time.Now()
		converge(b, cC, d)
		base += t1.Sub(t0)
		cand += time.Since(t1)

		baseCalls += len(srvB.Calls())
		candCalls += len(srvC.Calls())
		batches += srvC.Count(batchCall)
		lists += srvC.Count(listCall)
		zones += srvC.Count(zoneCall)
		limited += srvB.Limited() + srvC.Limited()
		srvB.Close()
		srvC.Close()
	}
	n := float64(b.N)
	// Targets: 1 zone lookup + list pages + ceil(10,000/200) batches, and no 429 ever.
	if batches != 50*b.N || zones != b.N || limited != 0 {
		b.Errorf("per run: %v batch calls (want 50), %v zone lookups (want 1), %v 429s (want 0)", float64(batches)/n, float64(zones)/n, float64(limited)/n)
	}
	b.ReportMetric(float64(candCalls)/n, "calls/op")
	b.ReportMetric(float64(batches)/n, "batch-calls/op")
	b.ReportMetric(float64(lists)/n, "list-calls/op")
	b.ReportMetric(float64(zones)/n, "zone-calls/op")
	b.ReportMetric(float64(baseCalls)/n, "baseline-calls/op")
	b.ReportMetric(float64(limited)/n, "429s/op")
	b.ReportMetric(float64(cand)/float64(base), "time-cand/base")
}

// BenchmarkNoopReplan re-plans a converged 10,000-record zone: no writes, a zone lookup and the
// list pages only. The baseline is the first plan of the same zone from empty, in the same loop.
func BenchmarkNoopReplan(b *testing.B) {
	d := cloudflare.DNS{Zone: "example.com", Records: records(10000, "n")}
	srv, c := benchEnv(b, 200)
	converge(b, c, d)
	var calls, writes int
	for b.Loop() {
		srv.ResetCalls()
		p, err := c.PlanDNS(b.Context(), d)
		if err != nil || !p.Empty() {
			b.Fatalf("re-plan not empty: %v", err)
		}
		calls += len(srv.Calls())
		writes += srv.Count(batchCall)
	}
	if writes != 0 || calls != 3*b.N {
		b.Errorf("no-op re-plan made %d writes and %v calls per run (want 0 and 3: zone and 2 pages of 5,000)", writes, float64(calls)/float64(b.N))
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
}

// BenchmarkBisect isolates one change Cloudflare rejects in a batch of 200, against the 200
// single-change calls a per-record apply would make.
func BenchmarkBisect(b *testing.B) {
	var calls int
	for b.Loop() {
		b.StopTimer()
		srv, c := benchEnv(b, 200)
		d := cloudflare.DNS{Zone: "example.com", Records: records(200, "x")}
		p, err := c.PlanDNS(b.Context(), d)
		if err != nil {
			b.Fatal(err)
		}
		zoneID := srv.Zones()["example.com"]
		srv.AddRecord(zoneID, cloudflaretest.Record{Name: "x99.example.com", Type: "A", Content: "192.0.2.100"})
		srv.ResetCalls()
		b.StartTimer()
		if err := c.ApplyDNS(b.Context(), p); err == nil {
			b.Fatal("the rejected change was not reported")
		}
		calls += srv.Count(batchCall)
		srv.Close()
	}
	// Target: about 2·log2(200)+1 calls; bisection by halves needs at most 2·ceil(log2(200))+1 = 17.
	if calls > 17*b.N {
		b.Errorf("isolating one rejected change took %v calls per run, want at most 17", float64(calls)/float64(b.N))
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(calls)/float64(b.N)/200, "calls-cand/base")
}
