package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/zones"

	"github.com/webinfra/webinfra"
)

// Settings is the desired state of a zone's settings. Only the settings given are managed;
// zero fields leave Cloudflare's value alone.
type Settings struct {
	// Zone is the zone's name.
	Zone string `json:"zone"`
	// SSL is the encryption mode between Cloudflare and the origin: off, flexible, full or
	// strict. "" leaves it alone.
	SSL string `json:"ssl,omitempty"`
	// AlwaysUseHTTPS redirects every http request to https; nil leaves it alone.
	AlwaysUseHTTPS *bool `json:"alwaysUseHTTPS,omitempty"`
	// AutomaticHTTPSRewrites rewrites http links in pages to https; nil leaves it alone.
	AutomaticHTTPSRewrites *bool `json:"automaticHTTPSRewrites,omitempty"`
	// MinTLSVersion is the oldest TLS version clients may use: 1.0, 1.1, 1.2 or 1.3.
	MinTLSVersion string `json:"minTLSVersion,omitempty"`
	// HSTS configures the Strict-Transport-Security header (setting security_header).
	HSTS *HSTS `json:"hsts,omitempty"`
	// Other sets any further setting by its API name to its value as the API takes it, e.g.
	// "brotli": "on" or "browser_cache_ttl": 14400.
	Other map[string]any `json:"other,omitempty"`
}

// HSTS is the Strict-Transport-Security policy Cloudflare sends.
type HSTS struct {
	// Enabled turns the header on.
	Enabled bool `json:"enabled"`
	// MaxAgeSeconds is max-age; browsers' preload lists want at least 31536000 (a year).
	MaxAgeSeconds int `json:"maxAgeSeconds"`
	// IncludeSubdomains applies the policy to every subdomain.
	IncludeSubdomains bool `json:"includeSubdomains"`
	// Preload asks to be put on browsers' preload lists.
	Preload bool `json:"preload"`
	// NoSniff also sends X-Content-Type-Options: nosniff.
	NoSniff bool `json:"noSniff"`
}

var (
	sslModes    = []string{"off", "flexible", "full", "strict"}
	tlsVersions = []string{"1.0", "1.1", "1.2", "1.3"}
	typedNames  = []string{"ssl", "always_use_https", "automatic_https_rewrites", "min_tls_version", "security_header"}
)

// Validate reports every problem with its field path.
func (s Settings) Validate() error {
	var errs webinfra.ValidationError
	if s.Zone == "" {
		errs.Required(webinfra.NewPath("zone"))
	}
	if s.SSL != "" && !slices.Contains(sslModes, s.SSL) {
		errs.NotSupported(webinfra.NewPath("ssl"), s.SSL, sslModes)
	}
	if s.MinTLSVersion != "" && !slices.Contains(tlsVersions, s.MinTLSVersion) {
		errs.NotSupported(webinfra.NewPath("minTLSVersion"), s.MinTLSVersion, tlsVersions)
	}
	if s.HSTS != nil {
		if s.HSTS.MaxAgeSeconds < 0 || s.HSTS.MaxAgeSeconds > 63072000 {
			errs.Invalid(webinfra.NewPath("hsts", "maxAgeSeconds"), s.HSTS.MaxAgeSeconds, "must be 0-63072000 (two years)")
		}
		if s.HSTS.Preload && (s.HSTS.MaxAgeSeconds < 31536000 || !s.HSTS.IncludeSubdomains) {
			errs.Invalid(webinfra.NewPath("hsts", "preload"), true, "preload needs maxAgeSeconds of at least 31536000 and includeSubdomains")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Other)) {
		p := webinfra.NewPath("other").Key(name)
		switch {
		case name == "" || strings.ContainsAny(name, "/ ?#"):
			errs.Invalid(p, name, "not a setting name")
		case slices.Contains(typedNames, name):
			errs.Invalid(p, name, "set through its typed field instead")
		case s.Other[name] == nil:
			errs.Invalid(p, "null", "a value is required")
		}
	}
	return errs.Err()
}

// values renders the desired settings as the API's setting names and values.
func (s Settings) values() map[string]any {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	out := map[string]any{}
	maps.Copy(out, s.Other)
	if s.SSL != "" {
		out["ssl"] = s.SSL
	}
	if s.AlwaysUseHTTPS != nil {
		out["always_use_https"] = onOff(*s.AlwaysUseHTTPS)
	}
	if s.AutomaticHTTPSRewrites != nil {
		out["automatic_https_rewrites"] = onOff(*s.AutomaticHTTPSRewrites)
	}
	if s.MinTLSVersion != "" {
		out["min_tls_version"] = s.MinTLSVersion
	}
	if h := s.HSTS; h != nil {
		out["security_header"] = map[string]any{"strict_transport_security": map[string]any{
			"enabled": h.Enabled, "max_age": h.MaxAgeSeconds, "include_subdomains": h.IncludeSubdomains,
			"preload": h.Preload, "nosniff": h.NoSniff,
		}}
	}
	return out
}

// SettingsPlan is what [Client.PlanSettings] found to change.
type SettingsPlan struct {
	zoneID  string
	zone    string
	changes []settingChange
}

type settingChange struct {
	name          string
	before, after any
}

// Plan returns the changes as the shared plan type, one update per setting.
func (p *SettingsPlan) Plan() webinfra.Plan {
	var plan webinfra.Plan
	for _, c := range p.changes {
		plan.Add(webinfra.Change{Kind: "zone_setting", ID: p.zone + " " + c.name, Action: webinfra.Update,
			Before: webinfra.Fields{"value": c.before}, After: webinfra.Fields{"value": c.after}})
	}
	return plan
}

// Empty reports whether every managed setting already has its desired value.
func (p *SettingsPlan) Empty() bool { return len(p.changes) == 0 }

// PlanSettings reads the managed settings (one GET each) and returns those whose value differs.
// Object values compare on the keys given only, so a desired HSTS policy does not fight fields
// Cloudflare adds.
func (c *Client) PlanSettings(ctx context.Context, s Settings) (*SettingsPlan, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	zoneID, err := c.ZoneID(ctx, s.Zone)
	if err != nil {
		return nil, err
	}
	p := &SettingsPlan{zoneID: zoneID, zone: s.Zone}
	want := s.values()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		var raw string
		err := c.do(ctx, true, func(ctx context.Context) error {
			res, err := c.api.Zones.Settings.Get(ctx, name, zones.SettingGetParams{ZoneID: cf.F(zoneID)})
			if err != nil {
				return err
			}
			raw = res.JSON.RawJSON()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cloudflare: read setting %q of zone %q: %w", name, s.Zone, err)
		}
		var cur struct {
			Value any `json:"value"`
		}
		if err := json.Unmarshal([]byte(raw), &cur); err != nil {
			return nil, fmt.Errorf("cloudflare: decode setting %q: %w", name, err)
		}
		desired := canonical(want[name])
		if !covers(cur.Value, desired) {
			p.changes = append(p.changes, settingChange{name: name, before: cur.Value, after: desired})
		}
	}
	return p, nil
}

// ApplySettings sets each changed setting (PATCH /zones/{id}/settings/{name}). It stops at the
// first failure; PlanSettings and ApplySettings again converge. Setting a value already in
// place succeeds.
func (c *Client) ApplySettings(ctx context.Context, p *SettingsPlan) error {
	for _, ch := range p.changes {
		body, err := json.Marshal(map[string]any{"value": ch.after})
		if err != nil {
			return err
		}
		err = c.do(ctx, true, func(ctx context.Context) error { // a PATCH to a value is idempotent
			_, err := c.api.Zones.Settings.Edit(ctx, ch.name, zones.SettingEditParams{ZoneID: cf.F(p.zoneID)},
				option.WithRequestBody("application/json", body))
			return err
		})
		if err != nil {
			return fmt.Errorf("cloudflare: set %q of zone %q: %w", ch.name, p.zone, err)
		}
		c.log.Info("applied", "zone", p.zone, "setting", ch.name)
	}
	return nil
}

// canonical turns v into the form encoding/json decodes to (numbers as float64), so it
// compares with values read from the API.
func canonical(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// covers reports whether have holds want: equal scalars and lists, and for objects every key of
// want with a covered value.
func covers(have, want any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(have, want)
	}
	hm, ok := have.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range wm {
		if !covers(hm[k], wv) {
			return false
		}
	}
	return true
}
