package cloudflare_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
	"github.com/webinfra/webinfra/internal/ratelimit"
)

const (
	batchCall = "POST /zones/{id}/dns_records/batch"
	listCall  = "GET /zones/{id}/dns_records"
	zoneCall  = "GET /zones"
)

type env struct {
	srv    *cloudflaretest.Server
	zoneID string
	client *cloudflare.Client
	logs   *bytes.Buffer
}

func setup(t *testing.T, batchSize int) *env {
	t.Helper()
	srv := cloudflaretest.Start(t, cloudflaretest.Options{})
	logs := &bytes.Buffer{}
	c, err := cloudflare.New(cloudflare.Config{
		Token:     webinfra.NewSecret(srv.Token()),
		BaseURL:   srv.URL(),
		BatchSize: batchSize,
		Budget:    ratelimit.Budget{Requests: 1000, Per: time.Second, Burst: 1000},
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	return &env{srv: srv, zoneID: srv.AddZone("example.com"), client: c, logs: logs}
}

func records(n int, prefix string) []cloudflare.Record {
	out := make([]cloudflare.Record, n)
	for i := range out {
		out[i] = cloudflare.Record{Name: fmt.Sprintf("%s%d.example.com", prefix, i), Type: cloudflare.TypeA,
			Content: fmt.Sprintf("192.0.2.%d", i%250+1), Proxied: i%2 == 0}
	}
	return out
}

func (e *env) converge(t *testing.T, d cloudflare.DNS) {
	t.Helper()
	p, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	require.NoError(t, e.client.ApplyDNS(t.Context(), p))
	again, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	require.True(t, again.Empty(), "a second plan is empty:\n%s", again.Plan())
}

func TestConvergeFromEmptyInBatches(t *testing.T) {
	e := setup(t, 50)
	d := cloudflare.DNS{Zone: "example.com", Records: records(420, "h")}
	p, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Create: 420}, p.Plan().Summary())
	assert.Equal(t, 0, e.srv.Count(batchCall), "Plan only reads")

	e.srv.ResetCalls()
	require.NoError(t, e.client.ApplyDNS(t.Context(), p))
	assert.Equal(t, int(math.Ceil(420.0/50)), e.srv.Count(batchCall))
	assert.Len(t, e.srv.Calls(), 9, "only batch calls")
	assert.Len(t, e.srv.Records(e.zoneID), 420)

	e.srv.ResetCalls()
	again, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	assert.True(t, again.Empty())
	assert.Equal(t, []string{zoneCall, listCall}, e.srv.Calls(), "no-op plan: zone lookup and the one page (total_pages says it is the last)")

	require.NoError(t, e.client.ApplyDNS(t.Context(), again))
	assert.Equal(t, 0, e.srv.Count(batchCall), "an empty plan writes nothing")
	assert.NotContains(t, e.logs.String(), "test-token-123", "the token never reaches the logs")
}

func TestRecordsNotOwnedAreNeverTouched(t *testing.T) {
	e := setup(t, 0)
	theirs := e.srv.AddRecord(e.zoneID, cloudflaretest.Record{Name: "mail.example.com", Type: "A", Content: "198.51.100.7"})
	e.converge(t, cloudflare.DNS{Zone: "example.com", Records: records(3, "w")})
	// Now the desired state drops everything: only our records go.
	e.converge(t, cloudflare.DNS{Zone: "example.com"})
	recs := e.srv.Records(e.zoneID)
	require.Len(t, recs, 1)
	assert.Equal(t, theirs, recs[0].ID)
	assert.Equal(t, "", recs[0].Comment, "unowned record unchanged")
}

func TestCollidingUnownedRecordNeedsAdopt(t *testing.T) {
	e := setup(t, 0)
	id := e.srv.AddRecord(e.zoneID, cloudflaretest.Record{Name: "www.example.com", Type: "A", Content: "192.0.2.1", Comment: "hand made"})
	d := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: "www.example.com", Type: cloudflare.TypeA, Content: "192.0.2.1"}}}
	_, err := e.client.PlanDNS(t.Context(), d)
	require.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), "www.example.com A 192.0.2.1")
	assert.Contains(t, err.Error(), "set DNS.Adopt to take them over")

	d.Adopt = true
	p, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Update: 1}, p.Plan().Summary())
	assert.Contains(t, p.Plan().String(), "owned   = false -> true")
	e.converge(t, d)
	recs := e.srv.Records(e.zoneID)
	require.Len(t, recs, 1)
	assert.Equal(t, id, recs[0].ID, "adopted in place")
	assert.Equal(t, "webinfra:default", recs[0].Comment)
}

// A record that cannot share its name with an unowned one (a CNAME beside it) is a different
// error: the message does not offer Adopt, and setting Adopt gives the same message.
func TestBlockingUnownedRecordIsNotOfferedAdopt(t *testing.T) {
	e := setup(t, 0)
	e.srv.AddRecord(e.zoneID, cloudflaretest.Record{Name: "www.example.com", Type: "A", Content: "192.0.2.1"})
	d := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: "www.example.com", Type: cloudflare.TypeCNAME, Content: "example.net"}}}
	_, err := e.client.PlanDNS(t.Context(), d)
	require.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
	assert.NotContains(t, err.Error(), "set DNS.Adopt")
	assert.Contains(t, err.Error(), "Adopt does not take over a different record: remove those records or change the desired ones")
	assert.Contains(t, err.Error(), "www.example.com CNAME example.net (beside www.example.com A 192.0.2.1)")
	d.Adopt = true
	_, err2 := e.client.PlanDNS(t.Context(), d)
	require.Error(t, err2)
	assert.Equal(t, err.Error(), err2.Error())
}

func TestContentChangeIsAnInPlaceUpdate(t *testing.T) {
	e := setup(t, 0)
	d := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{
		{Name: "api.example.com", Type: cloudflare.TypeA, Content: "192.0.2.10", Comment: "api"},
		{Name: "example.com", Type: cloudflare.TypeMX, Content: "smtp.google.com", Priority: new(uint16(1))},
		{Name: "_sip._tcp.example.com", Type: cloudflare.TypeSRV, Content: "5 5060 sip.example.com", Priority: new(uint16(10))},
		{Name: "example.com", Type: cloudflare.TypeCAA, Content: `0 issue "letsencrypt.org"`},
		{Name: "example.com", Type: cloudflare.TypeTXT, Content: "v=spf1 include:_spf.google.com ~all"},
	}}
	e.converge(t, d)
	before := e.srv.Records(e.zoneID)

	d.Records[0].Content = "192.0.2.11"
	d.Records[2].Content = "5 5061 sip.example.com"
	p, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Update: 2}, p.Plan().Summary(), "%s", p.Plan())
	e.converge(t, d)
	after := e.srv.Records(e.zoneID)
	require.Len(t, after, len(before))
	for i := range before {
		assert.Equal(t, before[i].ID, after[i].ID, "records keep their IDs")
	}
}

func TestCNAMEReplacingRecordsGoesInOneBatch(t *testing.T) {
	e := setup(t, 1) // even with one change per batch, the swap stays atomic
	d := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{
		{Name: "shop.example.com", Type: cloudflare.TypeA, Content: "192.0.2.1"},
		{Name: "shop.example.com", Type: cloudflare.TypeA, Content: "192.0.2.2"},
	}}
	e.converge(t, d)
	d.Records = []cloudflare.Record{{Name: "shop.example.com", Type: cloudflare.TypeCNAME, Content: "shops.example.net", Proxied: true}}
	e.srv.ResetCalls()
	e.converge(t, d)
	assert.Equal(t, 1, e.srv.Count(batchCall))
	recs := e.srv.Records(e.zoneID)
	require.Len(t, recs, 1)
	assert.Equal(t, "CNAME", recs[0].Type)
}

func TestBisectionIsolatesRejectedChange(t *testing.T) {
	e := setup(t, 200)
	d := cloudflare.DNS{Zone: "example.com", Records: records(200, "b")}
	p, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	// Someone creates an identical record between plan and apply: Cloudflare rejects the batch.
	e.srv.AddRecord(e.zoneID, cloudflaretest.Record{Name: "b137.example.com", Type: "A", Content: "192.0.2.138"})
	e.srv.ResetCalls()

	err = e.client.ApplyDNS(t.Context(), p)
	var applyErr *cloudflare.ApplyError
	require.ErrorAs(t, err, &applyErr)
	require.Len(t, applyErr.Rejected, 1)
	assert.Equal(t, "b137.example.com A 192.0.2.138", applyErr.Rejected[0].Change.ID)
	assert.Equal(t, int64(cloudflare.CodeIdenticalRecord), applyErr.Rejected[0].Errors[0].Code)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	calls := e.srv.Count(batchCall)
	assert.LessOrEqual(t, calls, 2*int(math.Ceil(math.Log2(200)))+1, "bisection, not one call per record")
	t.Logf("isolated 1 bad change of 200 in %d batch calls", calls)
	assert.Len(t, e.srv.Records(e.zoneID), 200, "199 applied plus the foreign one")
}

func TestRateLimitedBatchIsRetriedAfterRetryAfter(t *testing.T) {
	e := setup(t, 0)
	e.srv.AddFault(cloudflaretest.Fault{Method: "POST", Path: "/zones/*/dns_records/batch", Status: 429, Code: 971, RetryAfter: time.Second, Times: 1})
	start := time.Now()
	e.converge(t, cloudflare.DNS{Zone: "example.com", Records: records(2, "r")})
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "waited as Cloudflare asked")
	assert.Equal(t, 2, e.srv.Count(batchCall))
}

func TestServerErrorOnBatchIsNotRetriedBlindly(t *testing.T) {
	e := setup(t, 0)
	e.srv.AddFault(cloudflaretest.Fault{Method: "POST", Path: "/zones/*/dns_records/batch", Status: 502, Times: 1})
	d := cloudflare.DNS{Zone: "example.com", Records: records(2, "s")}
	p, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	err = e.client.ApplyDNS(t.Context(), p)
	require.ErrorIs(t, err, webinfra.ErrUnavailable)
	assert.Equal(t, 1, e.srv.Count(batchCall), "a batch that may have been applied is not blindly resent")
	e.converge(t, d)
}

func TestDeleteOfVanishedRecordCountsAsDone(t *testing.T) {
	e := setup(t, 0)
	e.converge(t, cloudflare.DNS{Zone: "example.com", Records: records(1, "gone")})
	p, err := e.client.PlanDNS(t.Context(), cloudflare.DNS{Zone: "example.com"})
	require.NoError(t, err)
	require.Equal(t, 1, p.Len())
	require.NoError(t, e.client.ApplyDNS(t.Context(), p))
	require.NoError(t, e.client.ApplyDNS(t.Context(), p), "applying the same plan again succeeds")
}

func TestTagOwnershipAndOwnersShareAZone(t *testing.T) {
	e := setup(t, 0)
	blue := cloudflare.DNS{Zone: "example.com", Owner: "blue", Ownership: cloudflare.OwnershipTag, Records: records(2, "blue")}
	green := cloudflare.DNS{Zone: "example.com", Owner: "green", Records: records(2, "green")}
	e.converge(t, blue)
	e.converge(t, green)
	green.Records = nil
	e.converge(t, green)
	recs := e.srv.Records(e.zoneID)
	require.Len(t, recs, 2, "green removed only its own")
	assert.Equal(t, []string{"webinfra:blue"}, recs[0].Tags)
}

func TestIPRanges(t *testing.T) {
	e := setup(t, 0)
	r, err := e.client.IPRanges(t.Context())
	require.NoError(t, err)
	assert.NotEmpty(t, r.IPv4)
	assert.NotEmpty(t, r.IPv6)
	assert.True(t, r.IPv4[0].Addr().Is4())
	assert.Len(t, r.All(), len(r.IPv4)+len(r.IPv6))
}

func TestZoneNotFound(t *testing.T) {
	e := setup(t, 0)
	_, err := e.client.ZoneID(t.Context(), "example.org")
	assert.ErrorIs(t, err, cloudflare.ErrNotFound)
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := cloudflare.New(cloudflare.Config{})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	_, err = cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret("x"), BatchSize: 5000})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

// An MX or SRV without a priority is refused by PlanDNS before any call; priority 0 set
// explicitly is a valid priority, sent as 0 and read back so that a second plan is empty.
func TestPriorityUnsetIsRefusedAndZeroIsSent(t *testing.T) {
	e := setup(t, 0)
	for _, r := range []cloudflare.Record{
		{Name: "example.com", Type: cloudflare.TypeMX, Content: "smtp.google.com"},
		{Name: "_sip._tcp.example.com", Type: cloudflare.TypeSRV, Content: "5 5060 sip.example.com"},
	} {
		_, err := e.client.PlanDNS(t.Context(), cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{r}})
		require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
		assert.Contains(t, err.Error(), "records[0].priority: required for "+string(r.Type))
	}
	assert.Empty(t, e.srv.Calls(), "a refused plan made calls")

	d := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{
		{Name: "example.com", Type: cloudflare.TypeMX, Content: "smtp.google.com", Priority: new(uint16(0))},
		{Name: "_sip._tcp.example.com", Type: cloudflare.TypeSRV, Content: "5 5060 sip.example.com", Priority: new(uint16(0))},
	}}
	e.converge(t, d)
	var got []int
	for _, r := range e.srv.Records(e.zoneID) {
		switch {
		case r.Priority != nil:
			got = append(got, *r.Priority)
		case r.Type == "SRV":
			got = append(got, -1) // the SRV's priority lives in data
		}
	}
	assert.Len(t, got, 2)
	assert.Contains(t, got, 0, "the MX was not sent with priority 0")
}

// A BatchSize above the zone's limit is reported before any change, naming both, instead of
// being sent and bisected; on a plan whose limit allows it, one batch carries the lot.
func TestBatchSizeAboveTheZonesLimitIsReported(t *testing.T) {
	e := setup(t, 500)
	d := cloudflare.DNS{Zone: "example.com", Records: records(300, "h")}
	p, err := e.client.PlanDNS(t.Context(), d)
	require.NoError(t, err)
	e.srv.ResetCalls()
	err = e.client.ApplyDNS(t.Context(), p)
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `Config.BatchSize 500 is above the zone's limit of 200 changes per batch (plan "free")`)
	assert.Zero(t, e.srv.Count(batchCall), "nothing sent")
	assert.Empty(t, e.srv.Records(e.zoneID))

	e.srv.SetZonePlan(e.zoneID, "pro")
	e.converge(t, d)
	assert.Equal(t, 1, e.srv.Count(batchCall), "one batch of 300 on a Pro zone")
	assert.Len(t, e.srv.Records(e.zoneID), 300)
}

// The fake refuses a batch over the zone's limit, as Cloudflare does, so a client that skipped
// the check would see it.
func TestFakeRefusesOversizedBatch(t *testing.T) {
	e := setup(t, 0)
	var body strings.Builder
	body.WriteString(`{"posts":[`)
	for i := range 201 {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"type":"A","name":"x%d.example.com","content":"192.0.2.1","ttl":1}`, i)
	}
	body.WriteString(`]}`)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL()+"zones/"+e.zoneID+"/dns_records/batch", strings.NewReader(body.String()))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.srv.Token())
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Empty(t, e.srv.Records(e.zoneID))
}
