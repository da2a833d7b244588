package cloudflare_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
)

// crashStates returns a zone's starting state and a desired state about 1,100 changes away:
// 300 content updates, 300 deletes, 300 creates, 100 A-to-CNAME swaps and 100 unchanged names.
func crashStates() (start, want cloudflare.DNS) {
	start = cloudflare.DNS{Zone: "example.com"}
	want = cloudflare.DNS{Zone: "example.com"}
	for i := range 800 {
		name := fmt.Sprintf("h%d.example.com", i)
		r := cloudflare.Record{Name: name, Type: cloudflare.TypeA, Content: fmt.Sprintf("192.0.2.%d", i%200+1)}
		start.Records = append(start.Records, r)
		switch {
		case i < 300:
			r.Content = fmt.Sprintf("198.51.100.%d", i%200+1)
			want.Records = append(want.Records, r)
		case i < 600: // deleted
		case i < 700:
			want.Records = append(want.Records, r)
		default:
			want.Records = append(want.Records, cloudflare.Record{Name: name, Type: cloudflare.TypeCNAME, Content: "lb.example.net", Proxied: true})
		}
	}
	for i := range 300 {
		want.Records = append(want.Records, cloudflare.Record{Name: fmt.Sprintf("n%d.example.com", i), Type: cloudflare.TypeAAAA, Content: fmt.Sprintf("2001:db8::%x", i+1)})
	}
	return start, want
}

// TestCrashAtEveryStep fails the apply after k batch calls, for every k, and checks that no name
// both states keep was left without a record, and that planning and applying again converges.
func TestCrashAtEveryStep(t *testing.T) {
	start, want := crashStates()
	kept := map[string]bool{}
	for _, r := range want.Records {
		kept[r.Name] = true
	}

	// The number of batch calls a full apply makes bounds k.
	full := setup(t, 50)
	full.converge(t, start)
	p, err := full.client.PlanDNS(t.Context(), want)
	require.NoError(t, err)
	require.Equal(t, 1100, p.Len())
	full.srv.ResetCalls()
	require.NoError(t, full.client.ApplyDNS(t.Context(), p))
	total := full.srv.Count(batchCall)
	require.Greater(t, total, 20)

	for k := range total {
		t.Run(fmt.Sprintf("after%d", k), func(t *testing.T) {
			e := setup(t, 50)
			foreign := e.srv.AddRecord(e.zoneID, cloudflaretest.Record{Name: "mail.example.com", Type: "MX", Content: "mx.example.net", Priority: new(int)})
			e.converge(t, start)
			p, err := e.client.PlanDNS(t.Context(), want)
			require.NoError(t, err)

			e.srv.AddFault(cloudflaretest.Fault{Method: "POST", Path: "/zones/*/dns_records/batch", Skip: k, Times: 1, Status: 500})
			require.Error(t, e.client.ApplyDNS(t.Context(), p), "the apply fails at batch call %d", k)

			names := map[string]int{}
			for _, r := range e.srv.Records(e.zoneID) {
				names[r.Name]++
			}
			for _, r := range start.Records {
				if kept[r.Name] {
					assert.Positive(t, names[r.Name], "%s kept by both states went unanswered", r.Name)
				}
			}

			e.srv.ClearFaults()
			e.converge(t, want)
			recs := e.srv.Records(e.zoneID)
			assert.Len(t, recs, len(want.Records)+1)
			assert.Contains(t, ids(recs), foreign, "the foreign record survived")
		})
	}
}

func ids(recs []cloudflaretest.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}
