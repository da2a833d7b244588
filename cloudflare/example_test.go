package cloudflare_test

import (
	"context"
	"fmt"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
)

func ExampleClient_PlanDNS() {
	srv := cloudflaretest.NewServer(cloudflaretest.Options{})
	defer srv.Close()
	srv.AddZone("example.com")

	c, err := cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret(srv.Token()), BaseURL: srv.URL()})
	if err != nil {
		panic(err)
	}
	desired := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{
		{Name: "www.example.com", Type: cloudflare.TypeA, Content: "203.0.113.10", Proxied: true},
		{Name: "example.com", Type: cloudflare.TypeMX, Content: "smtp.google.com", Priority: new(uint16(1))},
	}}
	ctx := context.Background()
	plan, err := c.PlanDNS(ctx, desired)
	if err != nil {
		panic(err)
	}
	fmt.Print(plan.Plan())
	if err := c.ApplyDNS(ctx, plan); err != nil {
		panic(err)
	}
	again, _ := c.PlanDNS(ctx, desired)
	fmt.Print(again.Plan())
	// Output:
	// + dns_record example.com MX smtp.google.com
	//     content  = "smtp.google.com"
	//     priority = 1
	//     proxied  = false
	//     ttl      = 1
	//
	// + dns_record www.example.com A 203.0.113.10
	//     content = "203.0.113.10"
	//     proxied = true
	//     ttl     = 1
	//
	// Plan: 2 to create, 0 to update, 0 to delete.
	// No changes.
}
