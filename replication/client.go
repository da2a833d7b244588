package replication

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/retry"
)

// Config configures a [Client]. Only BaseURL and APIKey are required.
type Config struct {
	// BaseURL is the address of Syncthing's GUI/REST listener, "http://127.0.0.1:8384"; required.
	// A trailing slash is ignored.
	BaseURL string
	// APIKey is the REST API key (config.xml gui/apikey); required. It is sent only in the
	// X-API-Key header and is never logged nor part of an error.
	APIKey webinfra.Secret
	// HTTPClient sends the requests; nil means a client with a 90s timeout, which leaves room
	// for [Client.Events] long polls up to 80s. A custom client's timeout must exceed the long
	// polls it serves.
	HTTPClient *http.Client
	// Logger receives a debug line per request and a warn line per retry, and from
	// [ApplyNode] an info line per applied change; nil discards.
	Logger *slog.Logger
	// Retry says how idempotent calls (GET, PUT, PATCH, DELETE) are retried on 5xx answers and
	// connection errors; 4xx answers are never retried, nor are POST calls (scan, revert,
	// override). The zero value means 4 attempts with backoff from 200ms up to 5s. Its
	// Retryable field is ignored: the client decides what is retryable.
	Retry webinfra.RetryPolicy
}

// Client talks to one Syncthing instance over its REST API. It is safe for concurrent use.
// Every method takes a ctx first; cancelling it aborts the request and any retry wait, and the
// returned error then matches ctx.Err() with errors.Is.
type Client struct {
	base  *url.URL
	key   webinfra.Secret
	http  *http.Client
	log   *slog.Logger
	retry retry.Policy
}

// New checks cfg, fills defaults and returns a client. It does no network I/O; use
// [Client.Health] or [Client.Status] to check the connection. A missing BaseURL or APIKey, or a
// BaseURL that is not an absolute http(s) URL, gives an error matching
// [webinfra.ErrInvalidArgument].
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("replication: Config.BaseURL is required: %w", webinfra.ErrInvalidArgument)
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("replication: Config.BaseURL %q: want an absolute http(s) URL: %w", cfg.BaseURL, webinfra.ErrInvalidArgument)
	}
	if cfg.APIKey.IsZero() {
		return nil, fmt.Errorf("replication: Config.APIKey is required: %w", webinfra.ErrInvalidArgument)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 90 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Retry.Attempts == 0 {
		cfg.Retry.Attempts = 4
	}
	if cfg.Retry.MaxDelay == 0 {
		cfg.Retry.MaxDelay = 5 * time.Second
	}
	c := &Client{base: u, key: cfg.APIKey, http: cfg.HTTPClient, log: cfg.Logger.With("pkg", "replication"), retry: cfg.Retry}
	c.retry.Retryable = retryable
	log := c.log
	c.retry.OnRetry = func(attempt int, err error, wait time.Duration) {
		log.Warn("retrying syncthing request", "attempt", attempt, "wait", wait, "err", err)
	}
	return c, nil
}

// retryable says whether an error of an idempotent call is worth another attempt: 5xx answers
// and transport errors are; 4xx answers and ctx errors are not.
func retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// call is one REST request.
type call struct {
	method string
	path   string     // "/rest/config/folders/x", already escaped per segment
	query  url.Values // nil for none
	body   any        // JSON-encoded when non-nil
	out    any        // JSON-decoded from a 2xx answer when non-nil
	// idempotent calls are retried; POSTs never are.
	idempotent bool
}

// do runs c with the retry policy for idempotent calls and once otherwise.
func (c *Client) do(ctx context.Context, cl call) error {
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("replication: %s %s: encode body: %w", cl.method, cl.path, err)
		}
		body = b
	}
	p := c.retry
	if !cl.idempotent {
		p.Attempts = 1
	}
	return retry.Do(ctx, p, func(ctx context.Context) error { return c.once(ctx, cl, body) })
}

func (c *Client) once(ctx context.Context, cl call, body []byte) error {
	u := *c.base
	u.Path = c.base.Path + cl.path
	u.RawPath = c.base.EscapedPath() + cl.path
	if cl.query != nil {
		u.RawQuery = cl.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), rd)
	if err != nil {
		return retry.Permanent(fmt.Errorf("replication: %s %s: %w", cl.method, cl.path, err))
	}
	req.Header.Set("X-API-Key", c.key.Reveal())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.log.Debug("request", "method", cl.method, "path", cl.path)
	resp, err := c.http.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		// url.Error prints the URL, which carries no secret (the key is a header).
		return fmt.Errorf("replication: %s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return fmt.Errorf("replication: %s %s: read answer: %w", cl.method, cl.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(cl.method, cl.path, resp.StatusCode, data)
	}
	if cl.out == nil {
		return nil
	}
	if err := json.Unmarshal(data, cl.out); err != nil {
		return fmt.Errorf("replication: %s %s: decode answer: %w", cl.method, cl.path, err)
	}
	return nil
}

// pathSeg escapes one path segment (a folder ID may hold any character, even "/").
func pathSeg(s string) string { return url.PathEscape(s) }

// SystemStatus is the part of /rest/system/status this package reads.
type SystemStatus struct {
	// MyID is the instance's own device ID.
	MyID string `json:"myID"`
	// StartTime is when the process started.
	StartTime time.Time `json:"startTime"`
	// Uptime is in seconds.
	Uptime int64 `json:"uptime"`
}

// Status returns the instance's system status (GET /rest/system/status), notably its own device
// ID. It is a read and is retried.
func (c *Client) Status(ctx context.Context) (*SystemStatus, error) {
	var s SystemStatus
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/system/status", out: &s, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: system status: %w", err)
	}
	return &s, nil
}

// Health checks GET /rest/noauth/health, which needs no API key and answers {"status":"OK"} as
// soon as the REST listener is up. Any other answer is an error matching
// [webinfra.ErrUnavailable]. It is retried like every read.
func (c *Client) Health(ctx context.Context) error {
	var h struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/noauth/health", out: &h, idempotent: true}); err != nil {
		return fmt.Errorf("replication: health: %w", err)
	}
	if h.Status != "OK" {
		return fmt.Errorf("replication: health: status %q: %w", h.Status, webinfra.ErrUnavailable)
	}
	return nil
}

// Ping checks the API key with GET /rest/system/ping ({"ping":"pong"}). A wrong key gives an
// error matching [webinfra.ErrPermissionDenied].
func (c *Client) Ping(ctx context.Context) error {
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/system/ping", idempotent: true}); err != nil {
		return fmt.Errorf("replication: ping: %w", err)
	}
	return nil
}
