package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/dns"
	"github.com/cloudflare/cloudflare-go/v6/option"

	"github.com/webinfra/webinfra"
)

// RejectedChange is a change Cloudflare refused, with its reasons.
type RejectedChange struct {
	// Change is the refused change, as the plan shows it.
	Change webinfra.Change
	// Errors are Cloudflare's error codes and messages for the batch that held only this change.
	Errors []ErrorDetail
}

// ApplyError reports the changes Cloudflare rejected; every other change of the plan was
// applied. It matches [webinfra.ErrInvalidArgument].
type ApplyError struct {
	// Rejected lists the refused changes in plan order.
	Rejected []RejectedChange
}

// Error lists each rejected change with Cloudflare's codes and messages.
func (e *ApplyError) Error() string {
	lines := []string{fmt.Sprintf("cloudflare: %d changes rejected:", len(e.Rejected))}
	for _, r := range e.Rejected {
		var reasons []string
		for _, d := range r.Errors {
			reasons = append(reasons, fmt.Sprintf("%d %s", d.Code, d.Message))
		}
		lines = append(lines, fmt.Sprintf("  %s %s: %s", r.Change.Action, r.Change.ID, strings.Join(reasons, "; ")))
	}
	return strings.Join(lines, "\n")
}

// Is reports whether target is [webinfra.ErrInvalidArgument].
func (e *ApplyError) Is(target error) bool { return target == webinfra.ErrInvalidArgument }

// ApplyDNS performs the plan through the batch endpoint (POST /zones/{id}/dns_records/batch),
// at most Config.BatchSize changes per call (a BatchSize above the zone's [BatchLimit] is an
// error matching webinfra.ErrInvalidArgument before any call), creating and updating before
// deleting so that a
// name the desired state keeps never goes unanswered. Changes that must be atomic (a CNAME
// replacing other records at its name) always share a batch.
//
// A batch is transactional: when Cloudflare rejects one, ApplyDNS splits it in halves and
// retries each, isolating the offending changes in about 2·log2(n) calls; it applies the rest
// and returns an [*ApplyError] listing the rejected ones. Any other failure (network, server,
// rate limit beyond the retry policy, ctx) stops ApplyDNS with the error; changes already sent
// stay applied, and PlanDNS then ApplyDNS again converges. Deleting a record that is already
// gone counts as done.
func (c *Client) ApplyDNS(ctx context.Context, p *DNSPlan) error {
	if limit := BatchLimit(p.zonePlan); c.batchSize > limit && len(p.units) > 0 {
		// Sending it would have every large batch refused and bisected until it fit: say so
		// instead, before any change.
		return fmt.Errorf("cloudflare: apply to zone %q: Config.BatchSize %d is above the zone's limit of %d changes per batch (plan %q): %w",
			p.state.Zone, c.batchSize, limit, p.zonePlan, webinfra.ErrInvalidArgument)
	}
	var rejected []RejectedChange
	var chunk []unit
	size := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := c.applyChunk(ctx, p, chunk, &rejected)
		chunk, size = nil, 0
		return err
	}
	for _, u := range p.units {
		if size > 0 && size+len(u) > c.batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
		chunk = append(chunk, u)
		size += len(u)
	}
	if err := flush(); err != nil {
		return err
	}
	if len(rejected) > 0 {
		return &ApplyError{Rejected: rejected}
	}
	return nil
}

// applyChunk sends units as one batch, bisecting on rejection.
func (c *Client) applyChunk(ctx context.Context, p *DNSPlan, units []unit, rejected *[]RejectedChange) error {
	err := c.sendBatch(ctx, p, units)
	var apiErr *APIError
	switch {
	case err == nil:
		for _, u := range units {
			for _, o := range u {
				c.log.Info("applied", "zone", p.state.Zone, "action", o.action.String(), "record", o.change().ID)
			}
		}
		return nil
	case !errors.As(err, &apiErr) || !(apiErr.rejected() || apiErr.Status == http.StatusNotFound):
		return fmt.Errorf("cloudflare: apply batch of %d changes to zone %q: %w", countOps(units), p.state.Zone, err)
	case len(units) == 1:
		u := units[0]
		if len(u) == 1 && u[0].action == webinfra.Delete && recordGone(apiErr) {
			return nil
		}
		for _, o := range u {
			*rejected = append(*rejected, RejectedChange{Change: o.change(), Errors: apiErr.Errors})
		}
		c.log.Warn("rejected", "zone", p.state.Zone, "changes", countOps(units), "error", apiErr.Error())
		return nil
	}
	mid := len(units) / 2
	if err := c.applyChunk(ctx, p, units[:mid], rejected); err != nil {
		return err
	}
	return c.applyChunk(ctx, p, units[mid:], rejected)
}

// recordGone reports whether Cloudflare refused a delete because the record no longer exists.
func recordGone(e *APIError) bool {
	if e.Status == http.StatusNotFound {
		return true
	}
	for _, d := range e.Errors {
		if d.Code == CodeRecordNotFound {
			return true
		}
	}
	return false
}

// Error codes of Cloudflare's DNS API that this package acts on or its fake returns.
const (
	// CodeRecordNotFound: the record does not exist.
	CodeRecordNotFound = 81044
	// CodeCNAMEConflict: a CNAME cannot share its name with other records.
	CodeCNAMEConflict = 81053
	// CodeIdenticalRecord: an identical record already exists.
	CodeIdenticalRecord = 81058
	// CodeInvalidContent: the content is not valid for the record type.
	CodeInvalidContent = 9005
)

func countOps(units []unit) int {
	n := 0
	for _, u := range units {
		n += len(u)
	}
	return n
}

type batchBody struct {
	Deletes []map[string]string `json:"deletes,omitempty"`
	Patches []wireRecord        `json:"patches,omitempty"`
	Posts   []wireRecord        `json:"posts,omitempty"`
}

func (c *Client) sendBatch(ctx context.Context, p *DNSPlan, units []unit) error {
	var body batchBody
	for _, u := range units {
		for _, o := range u {
			switch o.action {
			case webinfra.Delete:
				body.Deletes = append(body.Deletes, map[string]string{"id": o.id})
			case webinfra.Update:
				w, err := toWire(p.state.withMarker(*o.after), o.id)
				if err != nil {
					return err
				}
				body.Patches = append(body.Patches, w)
			case webinfra.Create:
				w, err := toWire(p.state.withMarker(*o.after), "")
				if err != nil {
					return err
				}
				body.Posts = append(body.Posts, w)
			}
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, false, func(ctx context.Context) error {
		_, err := c.api.DNS.Records.Batch(ctx, dns.RecordBatchParams{ZoneID: cf.F(p.zoneID)},
			option.WithRequestBody("application/json", raw))
		return err
	})
}
