package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/zones"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/ratelimit"
	"github.com/webinfra/webinfra/internal/retry"
)

// DefaultBudget is the request rate a client keeps to unless told otherwise: 1,000 requests per
// 5 minutes, below Cloudflare's 1,200 per 5 minutes per token, which leaves room for other
// tools using the same token. Going over Cloudflare's limit blocks every call for 5 minutes.
var DefaultBudget = ratelimit.Budget{Requests: 1000, Per: 5 * time.Minute, Burst: 20}

// Config configures a [Client].
type Config struct {
	// Token is the API token; required.
	Token webinfra.Secret
	// BaseURL overrides the API's address (a fake's URL in tests); "" means Cloudflare's.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with a 60s timeout.
	HTTPClient *http.Client
	// Logger receives debug lines per request and info lines per applied change; nil discards.
	Logger *slog.Logger
	// Budget is the request rate shared by every call of the client; the zero value means
	// [DefaultBudget].
	Budget webinfra.RateBudget
	// Retry says how reads and rate-limited calls are retried; the zero value retries up to 5
	// attempts with backoff from 500ms, honouring Retry-After up to 5 minutes.
	Retry webinfra.RetryPolicy
	// BatchSize is the most changes sent in one batch call, at most the zone's [BatchLimit]
	// (ApplyDNS reports a larger one instead of sending it): 200 on the Free plan (the default
	// for 0), up to 3,500 on paid plans.
	BatchSize int
}

// Client talks to Cloudflare's API. It is safe for concurrent use; every call shares one rate
// limiter, so one client per token is the right number.
type Client struct {
	api       *cf.Client
	limiter   *ratelimit.Limiter
	log       *slog.Logger
	retry     retry.Policy
	batchSize int
}

// New checks cfg and returns a client. It does no network I/O.
func New(cfg Config) (*Client, error) {
	if cfg.Token.IsZero() {
		return nil, fmt.Errorf("cloudflare: Config.Token is required: %w", webinfra.ErrInvalidArgument)
	}
	if cfg.BatchSize < 0 || cfg.BatchSize > 3500 {
		return nil, fmt.Errorf("cloudflare: Config.BatchSize %d: must be 1-3500 (0 means 200): %w", cfg.BatchSize, webinfra.ErrInvalidArgument)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 200
	}
	if cfg.Budget == (ratelimit.Budget{}) {
		cfg.Budget = DefaultBudget
	}
	limiter, err := ratelimit.New(cfg.Budget)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: Config.Budget: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Retry.BaseDelay == 0 {
		cfg.Retry.BaseDelay = 500 * time.Millisecond
	}
	if cfg.Retry.MaxDelay == 0 {
		cfg.Retry.MaxDelay = 5 * time.Minute
	}
	c := &Client{limiter: limiter, log: cfg.Logger.With("pkg", "cloudflare"), retry: cfg.Retry, batchSize: cfg.BatchSize}
	opts := []option.RequestOption{
		option.WithAPIToken(cfg.Token.Reveal()),
		option.WithHTTPClient(cfg.HTTPClient),
		// cloudflare-go would retry up to 10 times by itself, sleeping whatever Retry-After says;
		// this client retries instead, under its shared limiter and bounded policy.
		option.WithMaxRetries(0),
		option.WithMiddleware(c.throttle),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	c.api = cf.NewClient(opts...)
	return c, nil
}

// throttle runs every HTTP request through the shared limiter, and on a 429 holds back every
// caller for as long as Cloudflare asks.
func (c *Client) throttle(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	if err := c.limiter.Wait(req.Context()); err != nil {
		return nil, err
	}
	c.log.Debug("request", "method", req.Method, "path", req.URL.Path)
	resp, err := next(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		wait, ok := retry.FromResponse(resp.Header, time.Now())
		if !ok {
			wait = 5 * time.Minute // Cloudflare's documented lockout
		}
		c.limiter.Pause(wait)
		c.log.Warn("rate limited", "retry_after", wait)
	}
	return resp, err
}

// do runs one logical call with the client's retry policy. Safe calls (reads) retry on
// rate limits, server errors and network failures; unsafe ones only on rate limits, where
// Cloudflare did nothing.
func (c *Client) do(ctx context.Context, safe bool, call func(context.Context) error) error {
	p := c.retry
	p.Retryable = func(err error) bool {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return apiErr.Status == http.StatusTooManyRequests || (safe && apiErr.Status >= 500)
		}
		return safe
	}
	return retry.Do(ctx, p, func(ctx context.Context) error { return translate(call(ctx)) })
}

// ZoneID returns the ID of the zone named name ("example.com"). An absent zone gives an error
// matching [ErrNotFound].
func (c *Client) ZoneID(ctx context.Context, name string) (string, error) {
	id, _, err := c.zone(ctx, name)
	return id, err
}

// zone looks up the zone named name: its ID and its plan's legacy ID ("free", "pro", ...; ""
// when the API does not say).
func (c *Client) zone(ctx context.Context, name string) (id, plan string, err error) {
	var page []zones.Zone
	err = c.do(ctx, true, func(ctx context.Context) error {
		res, err := c.api.Zones.List(ctx, zones.ZoneListParams{Name: cf.F(name)})
		if err != nil {
			return err
		}
		page = res.Result
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("cloudflare: look up zone %q: %w", name, err)
	}
	for _, z := range page {
		if z.Name == name {
			// Deprecated for changing a zone's plan (the subscription API does that); reading
			// it is how the zone listing says which plan, and so which batch limit, applies.
			//lint:ignore SA1019 read only, see above
			return z.ID, z.Plan.LegacyID, nil
		}
	}
	return "", "", fmt.Errorf("cloudflare: zone %q: %w", name, ErrNotFound)
}

// BatchLimit is the most changes one batch call may carry on a zone of the plan with that
// legacy ID: 200 on "free", 3,500 on the others, as Cloudflare's "Batch record changes" page
// lists. An unknown plan ("") gets the Free limit.
func BatchLimit(plan string) int {
	switch plan {
	case "pro", "business", "enterprise":
		return 3500
	}
	return 200
}
