package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/cache"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
)

// DefaultPurgeChunk is the most items one purge call carries unless Purge.ChunkSize says
// otherwise: the limit of Free, Pro and Business plans (Enterprise allows 500).
const DefaultPurgeChunk = 30

// Purge says what to remove from Cloudflare's cache: everything, or any mix of URLs, hosts,
// cache tags and URL prefixes.
type Purge struct {
	// Everything purges the whole zone; it excludes the lists.
	Everything bool
	// URLs are full http(s) URLs.
	URLs []string
	// Hosts are hostnames whose every cached file goes.
	Hosts []string
	// Tags are Cache-Tag header values.
	Tags []string
	// Prefixes are URL prefixes without the scheme: "www.example.com/images".
	Prefixes []string
	// ChunkSize is the most items per call; 0 means [DefaultPurgeChunk].
	ChunkSize int
}

// Validate reports every problem with its field path.
func (p Purge) Validate() error {
	var errs webinfra.ValidationError
	lists := len(p.URLs) + len(p.Hosts) + len(p.Tags) + len(p.Prefixes)
	switch {
	case p.Everything && lists > 0:
		errs.Add(webinfra.NewPath("everything"), true, "excludes urls, hosts, tags and prefixes")
	case !p.Everything && lists == 0:
		errs.Add(webinfra.Path{}, nil, "nothing to purge: set everything or a list")
	}
	for i, u := range p.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			errs.Invalid(webinfra.NewPath("urls").Index(i), u, "not an http(s) URL")
		}
	}
	for i, h := range p.Hosts {
		if len(validation.IsDNS1123Subdomain(h)) > 0 {
			errs.Invalid(webinfra.NewPath("hosts").Index(i), h, "not a hostname")
		}
	}
	for i, t := range p.Tags {
		if t == "" || strings.ContainsAny(t, ", ") {
			errs.Invalid(webinfra.NewPath("tags").Index(i), t, "not a cache tag (no spaces or commas)")
		}
	}
	for i, pre := range p.Prefixes {
		host, _, _ := strings.Cut(pre, "/")
		if strings.Contains(pre, "://") || len(validation.IsDNS1123Subdomain(host)) > 0 {
			errs.Invalid(webinfra.NewPath("prefixes").Index(i), pre, `not a prefix such as "www.example.com/path" (no scheme)`)
		}
	}
	if p.ChunkSize < 0 || p.ChunkSize > 500 {
		errs.Invalid(webinfra.NewPath("chunkSize"), p.ChunkSize, "must be 0-500")
	}
	return errs.Err()
}

// Purge removes content from the zone's cache, splitting each list into calls of at most
// ChunkSize items. Purging is idempotent, so failed calls are retried; on an error the calls
// already made stay done and the same Purge can be run again.
func (c *Client) Purge(ctx context.Context, zone string, p Purge) error {
	if err := p.Validate(); err != nil {
		return err
	}
	zoneID, err := c.ZoneID(ctx, zone)
	if err != nil {
		return err
	}
	var bodies []map[string]any
	if p.Everything {
		bodies = append(bodies, map[string]any{"purge_everything": true})
	}
	size := p.ChunkSize
	if size == 0 {
		size = DefaultPurgeChunk
	}
	for _, kind := range []struct {
		key   string
		items []string
	}{{"files", p.URLs}, {"hosts", p.Hosts}, {"tags", p.Tags}, {"prefixes", p.Prefixes}} {
		for start := 0; start < len(kind.items); start += size {
			bodies = append(bodies, map[string]any{kind.key: kind.items[start:min(start+size, len(kind.items))]})
		}
	}
	for _, body := range bodies {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		err = c.do(ctx, true, func(ctx context.Context) error {
			_, err := c.api.Cache.Purge(ctx, cache.CachePurgeParams{ZoneID: cf.F(zoneID)}, option.WithRequestBody("application/json", raw))
			return err
		})
		if err != nil {
			return fmt.Errorf("cloudflare: purge cache of zone %q: %w", zone, err)
		}
	}
	c.log.Info("purged", "zone", zone, "calls", len(bodies))
	return nil
}
