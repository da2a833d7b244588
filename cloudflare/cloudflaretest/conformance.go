package cloudflaretest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/internal/testutil"
)

// Harness gives the conformance suite a Cloudflare to run against: the fake or the real API.
type Harness interface {
	// New returns a client and the zone to use, for one subtest. Every record a subtest makes
	// is under Target.Prefix, so runs on a real zone do not meet each other; the suite deletes
	// what it made.
	New(t *testing.T) Target
	// Caps says which optional parts the backend supports.
	Caps() Caps
}

// Target is what [Harness.New] returns.
type Target struct {
	Client *cloudflare.Client
	// Zone is the zone's name.
	Zone string
	// Prefix is a label unique to this subtest ("wi-3f2a1c"); records go under Prefix.Zone.
	Prefix string
	// Token is the API token Client uses; the Auth and DNSWire subtests send requests with it
	// past the client, as a raw HTTP caller or cloudflare-go itself would, to check what the
	// service refuses. Required.
	Token webinfra.Secret
	// BaseURL is the API's address the raw requests go to; "" means Cloudflare's.
	BaseURL string
}

// Caps declares optional behaviour, never guessed by the suite.
type Caps struct {
	// Tags: the zone's plan keeps record tags (paid plans).
	Tags bool
	// ZoneSettings: the suite may change the zone's settings.
	ZoneSettings bool
}

// UniquePrefix returns a fresh DNS label for one subtest's records.
func UniquePrefix() string { return testutil.UniqueName("wi") }

// RunConformance checks the cloudflare package's contracts against the harness's backend.
// Subtest names are stable (Area/Case), so one can run alone with -run.
func RunConformance(t *testing.T, h Harness) {
	t.Run("DNS/ConvergeCreateUpdateDelete", func(t *testing.T) { testConverge(t, h) })
	t.Run("DNS/PlanReadOnly", func(t *testing.T) { testPlanReadOnly(t, h) })
	t.Run("DNS/ForeignRecordsUntouched", func(t *testing.T) { testForeign(t, h) })
	t.Run("DNS/CNAMESwap", func(t *testing.T) { testCNAMESwap(t, h) })
	t.Run("DNS/StructuredTypesRoundTrip", func(t *testing.T) { testStructured(t, h) })
	t.Run("DNS/DeleteAbsent", func(t *testing.T) { testDeleteAbsent(t, h) })
	t.Run("DNS/RejectedChangeIsolated", func(t *testing.T) { testRejected(t, h) })
	if h.Caps().Tags {
		t.Run("DNS/TagOwnership", func(t *testing.T) { testTags(t, h) })
	}
	t.Run("Auth/MissingToken", func(t *testing.T) { testAuthMissing(t, h) })
	t.Run("Auth/MalformedHeader", func(t *testing.T) { testAuthMalformed(t, h) })
	t.Run("Auth/WrongToken", func(t *testing.T) { testAuthWrong(t, h) })
	for _, c := range wireCases {
		t.Run("DNSWire/"+c.name, func(t *testing.T) { testWireRefused(t, h, c) })
	}
	t.Run("DNSWire/PriorityZeroAccepted", func(t *testing.T) { testWirePriorityZero(t, h) })
	t.Run("DNSWire/BatchRefusedWhole", func(t *testing.T) { testWireBatch(t, h) })
	t.Run("DNSWire/UpdateRefused", func(t *testing.T) { testWireUpdate(t, h) })
	t.Run("IPRanges/Published", func(t *testing.T) { testIPRanges(t, h) })
	if h.Caps().ZoneSettings {
		t.Run("Settings/Converge", func(t *testing.T) { testSettings(t, h) })
	}
}

// state builds a desired state of records named label.prefix.zone.
func state(tg Target, owner string, recs ...cloudflare.Record) cloudflare.DNS {
	d := cloudflare.DNS{Zone: tg.Zone, Owner: owner}
	for _, r := range recs {
		r.Name = r.Name + "." + tg.Prefix + "." + tg.Zone
		d.Records = append(d.Records, r)
	}
	return d
}

// converge plans and applies d and checks that a second plan is empty.
func converge(t *testing.T, tg Target, d cloudflare.DNS) {
	t.Helper()
	p, err := tg.Client.PlanDNS(t.Context(), d)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if err := tg.Client.ApplyDNS(t.Context(), p); err != nil {
		t.Fatalf("apply: %v", err)
	}
	again, err := tg.Client.PlanDNS(t.Context(), d)
	if err != nil {
		t.Fatalf("second plan: %v", err)
	}
	if !again.Empty() {
		t.Fatalf("second plan not empty:\n%s", again.Plan())
	}
}

// cleanup removes every record the owners made, when the subtest ends.
func cleanup(t *testing.T, tg Target, owners ...string) {
	t.Cleanup(func() {
		// t.Context is already done when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, o := range owners {
			d := cloudflare.DNS{Zone: tg.Zone, Owner: o}
			p, err := tg.Client.PlanDNS(ctx, d)
			if err == nil {
				err = tg.Client.ApplyDNS(ctx, p)
			}
			if err != nil {
				t.Errorf("cleanup of owner %s: %v", o, err)
			}
		}
	})
}

func a(name, content string) cloudflare.Record {
	return cloudflare.Record{Name: name, Type: cloudflare.TypeA, Content: content}
}

func testConverge(t *testing.T, h Harness) {
	tg := h.New(t)
	owner := tg.Prefix
	cleanup(t, tg, owner)
	d := state(tg, owner, a("www", "192.0.2.1"), a("www", "192.0.2.2"),
		cloudflare.Record{Name: "txt", Type: cloudflare.TypeTXT, Content: "v=spf1 -all", TTL: 300})
	converge(t, tg, d)
	d.Records[1].Content = "192.0.2.3"
	d.Records[2].Comment = "updated"
	p, err := tg.Client.PlanDNS(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Plan().Summary(); s != (webinfra.Summary{Update: 2}) {
		t.Fatalf("want 2 in-place updates, got %s\n%s", s, p.Plan())
	}
	converge(t, tg, d)
	converge(t, tg, state(tg, owner))
}

func testPlanReadOnly(t *testing.T, h Harness) {
	tg := h.New(t)
	cleanup(t, tg, tg.Prefix)
	d := state(tg, tg.Prefix, a("ro", "192.0.2.9"))
	for range 2 {
		p, err := tg.Client.PlanDNS(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		if s := p.Plan().Summary(); s != (webinfra.Summary{Create: 1}) {
			t.Fatalf("a plan changed the zone: %s", s)
		}
	}
}

func testForeign(t *testing.T, h Harness) {
	tg := h.New(t)
	mine, theirs := tg.Prefix, tg.Prefix+"-other"
	cleanup(t, tg, mine, theirs)
	converge(t, tg, state(tg, theirs, a("shared", "192.0.2.20")))
	converge(t, tg, state(tg, mine, a("shared", "192.0.2.21")))
	converge(t, tg, state(tg, mine)) // drop all of mine
	// Theirs is still there: their plan is still empty.
	p, err := tg.Client.PlanDNS(t.Context(), state(tg, theirs, a("shared", "192.0.2.20")))
	if err != nil || !p.Empty() {
		t.Fatalf("foreign record touched: %v %v", err, p)
	}
	// Declaring their record without Adopt is refused.
	_, err = tg.Client.PlanDNS(t.Context(), state(tg, mine, a("shared", "192.0.2.20")))
	if !errors.Is(err, webinfra.ErrFailedPrecondition) {
		t.Fatalf("want ErrFailedPrecondition, got %v", err)
	}
}

func testCNAMESwap(t *testing.T, h Harness) {
	tg := h.New(t)
	cleanup(t, tg, tg.Prefix)
	converge(t, tg, state(tg, tg.Prefix, a("swap", "192.0.2.30"), a("swap", "192.0.2.31")))
	converge(t, tg, state(tg, tg.Prefix, cloudflare.Record{Name: "swap", Type: cloudflare.TypeCNAME, Content: "example.net", Proxied: true}))
	converge(t, tg, state(tg, tg.Prefix, a("swap", "192.0.2.32")))
}

func testStructured(t *testing.T, h Harness) {
	tg := h.New(t)
	cleanup(t, tg, tg.Prefix)
	converge(t, tg, state(tg, tg.Prefix,
		cloudflare.Record{Name: "_sip._tcp", Type: cloudflare.TypeSRV, Content: "5 5060 sip.example.net", Priority: new(uint16(10))},
		cloudflare.Record{Name: "caa", Type: cloudflare.TypeCAA, Content: `0 issue "letsencrypt.org"`},
		cloudflare.Record{Name: "mx", Type: cloudflare.TypeMX, Content: "smtp.google.com", Priority: new(uint16(1))},
		cloudflare.Record{Name: "v6", Type: cloudflare.TypeAAAA, Content: "2001:db8::1", Proxied: true},
	))
}

func testDeleteAbsent(t *testing.T, h Harness) {
	tg := h.New(t)
	cleanup(t, tg, tg.Prefix)
	converge(t, tg, state(tg, tg.Prefix, a("gone", "192.0.2.40")))
	p, err := tg.Client.PlanDNS(t.Context(), state(tg, tg.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := tg.Client.ApplyDNS(t.Context(), p); err != nil {
			t.Fatalf("apply %d of a delete plan: %v", i+1, err)
		}
	}
}

func testRejected(t *testing.T, h Harness) {
	tg := h.New(t)
	mine, theirs := tg.Prefix, tg.Prefix+"-other"
	cleanup(t, tg, mine, theirs)
	d := state(tg, mine, a("r1", "192.0.2.50"), a("r2", "192.0.2.51"), a("r3", "192.0.2.52"), a("r4", "192.0.2.53"))
	p, err := tg.Client.PlanDNS(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	// Between plan and apply someone creates a record identical to one of ours.
	converge(t, tg, state(tg, theirs, a("r3", "192.0.2.52")))
	err = tg.Client.ApplyDNS(t.Context(), p)
	var applyErr *cloudflare.ApplyError
	if !errors.As(err, &applyErr) || len(applyErr.Rejected) != 1 {
		t.Fatalf("want exactly one rejected change, got %v", err)
	}
	if want := "r3." + tg.Prefix + "." + tg.Zone + " A 192.0.2.52"; applyErr.Rejected[0].Change.ID != want {
		t.Fatalf("rejected %q, want %q", applyErr.Rejected[0].Change.ID, want)
	}
	d.Records = append(d.Records[:2], d.Records[3])
	p, err = tg.Client.PlanDNS(t.Context(), d)
	if err != nil || !p.Empty() {
		t.Fatalf("the other three were applied: %v\n%v", err, p.Plan())
	}
}

func testTags(t *testing.T, h Harness) {
	tg := h.New(t)
	d := state(tg, tg.Prefix, a("tagged", "192.0.2.60"))
	d.Ownership = cloudflare.OwnershipTag
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		e := cloudflare.DNS{Zone: tg.Zone, Owner: tg.Prefix, Ownership: cloudflare.OwnershipTag}
		p, err := tg.Client.PlanDNS(ctx, e)
		if err == nil {
			err = tg.Client.ApplyDNS(ctx, p)
		}
		if err != nil {
			t.Errorf("cleanup of tagged records: %v", err)
		}
	})
	converge(t, tg, d)
}

func testIPRanges(t *testing.T, h Harness) {
	tg := h.New(t)
	r, err := tg.Client.IPRanges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.IPv4) == 0 || len(r.IPv6) == 0 {
		t.Fatalf("want IPv4 and IPv6 ranges, got %v", r)
	}
}

func testSettings(t *testing.T, h Harness) {
	tg := h.New(t)
	on := true
	s := cloudflare.Settings{Zone: tg.Zone, SSL: "strict", AlwaysUseHTTPS: &on, MinTLSVersion: "1.2"}
	p, err := tg.Client.PlanSettings(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Client.ApplySettings(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	again, err := tg.Client.PlanSettings(t.Context(), s)
	if err != nil || !again.Empty() {
		t.Fatalf("settings did not converge: %v %v", err, again.Plan())
	}
}
