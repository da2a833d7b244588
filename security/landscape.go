package security

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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/webinfra/webinfra"
)

// The Landscape client follows Canonical's documentation (documentation.ubuntu.com/landscape,
// "Reference > API"):
//   - REST API v2 (Landscape 24.04+): POST /api/v2/login {email, password, account} and
//     POST /api/v2/login/access-key {access_key, secret_key} (24.10+) return {"token": JWT,...};
//     calls send "Authorization: Bearer JWT". GET /api/v2/computers?query=&limit=&offset=
//     and GET /api/v2/activities[/<id>] answer {"count", "results", "next", "previous"} and one
//     activity; GET /api/v2/packages?query=&upgrade=true&security=true lists upgrades.
//   - The legacy API: GET /api/?action=NAME&version=2011-08-01&... ("How to use the legacy API
//     via HTTPS requests"). It accepts the REST JWT as Bearer ("only action and version are
//     required"), or HMAC signing with access_key_id, signature_method=HmacSHA256,
//     signature_version=2 and timestamp ([SignLegacy]). Actions used: GetComputers,
//     GetActivities, GetPackages, UpgradePackages, RebootComputers, ExecuteScript.
// The actions that start work (upgrade, reboot, run a script) go through the legacy action
// endpoint in both modes, since that is where the documentation describes them for every
// server version.

// LegacyAPIVersion is the legacy API version sent with every legacy call.
const LegacyAPIVersion = "2011-08-01"

// LandscapeConfig configures a [Landscape] client. Give either AccessKey+SecretKey or
// Email+Password.
type LandscapeConfig struct {
	// BaseURL is the server's root, e.g. "https://landscape.example.com"; required. The REST API
	// is under /api/v2, the legacy API at /api/.
	BaseURL string
	// AccessKey and SecretKey are API credentials (Landscape's account settings page).
	AccessKey string
	SecretKey webinfra.Secret
	// Email, Password and Account log in as a person; Account "" means the default account.
	Email    string
	Password webinfra.Secret
	Account  string
	// Legacy uses only the signed legacy API (older servers without /api/v2); it needs
	// AccessKey+SecretKey.
	Legacy bool
	// HTTPClient sends the requests; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	// PollInterval is the time between activity polls; 0 means 5s.
	PollInterval time.Duration
	// Now is the clock for legacy signatures; nil means time.Now.
	Now func() time.Time
	// Logger receives a Debug line per request; nil discards them. Secrets are never logged.
	Logger *slog.Logger
}

// Landscape is a client of Canonical Landscape. It logs in lazily on the first REST call and
// again when the server answers 401. Errors never carry credentials: a transport failure's
// *url.Error names the endpoint with its query replaced by [webinfra.Redacted] (the legacy
// API signs in the query), and tokens and keys travel only in headers and bodies, which no
// error quotes. Safe for concurrent use.
type Landscape struct {
	cfg  LandscapeConfig
	base *url.URL
	hc   *http.Client
	log  *slog.Logger

	mu    sync.Mutex
	token webinfra.Secret
}

// Computer is a machine registered with Landscape.
type Computer struct {
	ID                 int      `json:"id"`
	Title              string   `json:"title"`
	Hostname           string   `json:"hostname"`
	Tags               []string `json:"tags"`
	RebootRequiredFlag bool     `json:"reboot_required_flag"`
}

// Activity is a job Landscape runs on computers. Status is one of Landscape's activity states
// ("undelivered", "delivered", "in-progress", "scheduled", "succeeded", "failed", "canceled");
// an activity on several computers has one child per computer.
type Activity struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Summary    string     `json:"summary"`
	Status     string     `json:"activity_status"`
	ResultText string     `json:"result_text"`
	ResultCode *int       `json:"result_code"`
	ComputerID int        `json:"computer_id"`
	ParentID   *int       `json:"parent_id"`
	Children   []Activity `json:"children"`
}

// Done reports whether the activity (and every child) reached a final state.
func (a Activity) Done() bool {
	if len(a.Children) > 0 {
		for _, c := range a.Children {
			if !c.Done() {
				return false
			}
		}
		return true
	}
	return a.Status == "succeeded" || a.Status == "failed" || a.Status == "canceled"
}

// Succeeded reports whether the activity and every child succeeded.
func (a Activity) Succeeded() bool {
	if len(a.Children) > 0 {
		for _, c := range a.Children {
			if !c.Succeeded() {
				return false
			}
		}
		return true
	}
	return a.Status == "succeeded"
}

// Package is an available package upgrade.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Security is set for upgrades from the security pocket.
	Security bool `json:"security"`
}

// NewLandscape checks cfg; it does no network I/O.
func NewLandscape(cfg LandscapeConfig) (*Landscape, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, invalidf("landscape base URL %q: want scheme://host", cfg.BaseURL)
	}
	keys := cfg.AccessKey != "" && !cfg.SecretKey.IsZero()
	pass := cfg.Email != "" && !cfg.Password.IsZero()
	switch {
	case keys == pass:
		return nil, invalidf("landscape: give either access key and secret key, or email and password")
	case cfg.Legacy && !keys:
		return nil, invalidf("landscape: the legacy API needs an access key and secret key")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Landscape{cfg: cfg, base: u, hc: cfg.HTTPClient, log: orDiscard(cfg.Logger).With("pkg", "security", "api", "landscape")}, nil
}

// LoginReply is the body of POST /api/v2/login and /login/access-key.
type LoginReply struct {
	Token          string `json:"token"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	CurrentAccount string `json:"current_account"`
}

// Login obtains a fresh JWT. Calls log in by themselves; Login lets a caller check credentials
// early. Wrong credentials give an [*APIError] matching [webinfra.ErrPermissionDenied].
func (c *Landscape) Login(ctx context.Context) error {
	if c.cfg.Legacy {
		return nil
	}
	var path string
	var body any
	if c.cfg.AccessKey != "" {
		path, body = "/api/v2/login/access-key", map[string]string{"access_key": c.cfg.AccessKey, "secret_key": c.cfg.SecretKey.Reveal()}
	} else {
		b := map[string]string{"email": c.cfg.Email, "password": c.cfg.Password.Reveal()}
		if c.cfg.Account != "" {
			b["account"] = c.cfg.Account
		}
		path, body = "/api/v2/login", b
	}
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	var reply LoginReply
	if err := c.do(req, "POST "+path, &reply); err != nil {
		return err
	}
	if reply.Token == "" {
		return fmt.Errorf("security: landscape login: no token in reply: %w", ErrUnexpectedOutput)
	}
	c.mu.Lock()
	c.token = webinfra.NewSecret(reply.Token)
	c.mu.Unlock()
	return nil
}

func (c *Landscape) bearer(ctx context.Context) (string, error) {
	c.mu.Lock()
	t := c.token
	c.mu.Unlock()
	if t.IsZero() {
		if err := c.Login(ctx); err != nil {
			return "", err
		}
		c.mu.Lock()
		t = c.token
		c.mu.Unlock()
	}
	return "Bearer " + t.Reveal(), nil
}

// rest GETs a REST v2 path with query values into out, logging in again once on 401.
func (c *Landscape) rest(ctx context.Context, path string, q url.Values, out any) error {
	for attempt := 0; ; attempt++ {
		auth, err := c.bearer(ctx)
		if err != nil {
			return err
		}
		u := c.base.String() + "/api/v2" + path
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", auth)
		err = c.do(req, "GET /api/v2"+path, out)
		var api *APIError
		if attempt == 0 && errors.As(err, &api) && api.Status == http.StatusUnauthorized {
			c.mu.Lock()
			c.token = webinfra.Secret{}
			c.mu.Unlock()
			continue
		}
		return err
	}
}

// legacy calls a legacy action: signed with HMAC in legacy mode, with the JWT otherwise.
func (c *Landscape) legacy(ctx context.Context, action string, params url.Values, out any) error {
	for attempt := 0; ; attempt++ {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		q.Set("action", action)
		q.Set("version", LegacyAPIVersion)
		u := *c.base
		u.Path += "/api/"
		var auth string
		if c.cfg.Legacy {
			u.RawQuery = SignLegacy(http.MethodGet, u.Host, u.Path, q, c.cfg.AccessKey, c.cfg.SecretKey, c.cfg.Now())
		} else {
			var err error
			if auth, err = c.bearer(ctx); err != nil {
				return err
			}
			u.RawQuery = q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return redactURLError(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		err = c.do(req, action, out)
		var api *APIError
		if attempt == 0 && !c.cfg.Legacy && errors.As(err, &api) && api.Status == http.StatusUnauthorized {
			c.mu.Lock()
			c.token = webinfra.Secret{}
			c.mu.Unlock()
			continue
		}
		return err
	}
}

func (c *Landscape) do(req *http.Request, op string, out any) error {
	c.log.Debug("request", "op", op)
	resp, err := c.hc.Do(req)
	if err != nil {
		err = redactURLError(err)
		if req.Context().Err() != nil {
			return fmt.Errorf("security: landscape %s: %w", op, req.Context().Err())
		}
		return fmt.Errorf("security: landscape %s: %w: %w", op, webinfra.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("security: landscape %s: %w: %w", op, webinfra.ErrUnavailable, err)
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode, Op: op}
		var eb struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &eb) == nil {
			e.Code, e.Message = eb.Error, eb.Message
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("security: landscape %s: decode reply: %w: %w", op, ErrUnexpectedOutput, err)
	}
	return nil
}

// page is the REST API's list envelope.
type page[T any] struct {
	Count   int     `json:"count"`
	Results []T     `json:"results"`
	Next    *string `json:"next"`
}

// DecodeComputers decodes a REST computers page or a legacy GetComputers list.
func DecodeComputers(data []byte) ([]Computer, error) {
	return decodeList[Computer](data)
}

// DecodeActivity decodes one activity.
func DecodeActivity(data []byte) (Activity, error) {
	var a Activity
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("security: landscape activity: %w: %w", ErrUnexpectedOutput, err)
	}
	return a, nil
}

func decodeList[T any](data []byte) ([]T, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var l []T
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("security: landscape list: %w: %w", ErrUnexpectedOutput, err)
		}
		return l, nil
	}
	var p page[T]
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("security: landscape page: %w: %w", ErrUnexpectedOutput, err)
	}
	return p.Results, nil
}

// Computers returns the computers matching a Landscape search query ("tag:web",
// "hostname:node-1", "" for all), following pages; sorted as the server sorts them.
func (c *Landscape) Computers(ctx context.Context, query string) ([]Computer, error) {
	const limit = 500
	var all []Computer
	for offset := 0; ; offset += limit {
		q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
		if query != "" {
			q.Set("query", query)
		}
		var raw json.RawMessage
		var err error
		if c.cfg.Legacy {
			err = c.legacy(ctx, "GetComputers", q, &raw)
		} else {
			err = c.rest(ctx, "/computers", q, &raw)
		}
		if err != nil {
			return nil, err
		}
		got, err := DecodeComputers(raw)
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
		if len(got) < limit {
			return all, nil
		}
	}
}

// ComputersByTag returns the computers carrying tag.
func (c *Landscape) ComputersByTag(ctx context.Context, tag string) ([]Computer, error) {
	return c.Computers(ctx, "tag:"+tag)
}

// ComputerByName returns the computer whose hostname is name. None gives an error matching
// [webinfra.ErrNotFound]; several, one matching [webinfra.ErrFailedPrecondition].
func (c *Landscape) ComputerByName(ctx context.Context, name string) (Computer, error) {
	list, err := c.Computers(ctx, "hostname:"+name)
	if err != nil {
		return Computer{}, err
	}
	var hits []Computer
	for _, cm := range list {
		if cm.Hostname == name {
			hits = append(hits, cm)
		}
	}
	switch len(hits) {
	case 0:
		return Computer{}, fmt.Errorf("security: landscape computer %q: %w", name, webinfra.ErrNotFound)
	case 1:
		return hits[0], nil
	}
	return Computer{}, fmt.Errorf("security: landscape has %d computers named %q: %w", len(hits), name, webinfra.ErrFailedPrecondition)
}

// PendingUpgrades lists the package upgrades pending on a computer; securityOnly keeps the
// security ones.
func (c *Landscape) PendingUpgrades(ctx context.Context, computerID int, securityOnly bool) ([]Package, error) {
	q := url.Values{"query": {"id:" + strconv.Itoa(computerID)}, "upgrade": {"true"}}
	if securityOnly {
		q.Set("security", "true")
	}
	var raw json.RawMessage
	var err error
	if c.cfg.Legacy {
		err = c.legacy(ctx, "GetPackages", q, &raw)
	} else {
		err = c.rest(ctx, "/packages", q, &raw)
	}
	if err != nil {
		return nil, err
	}
	return decodeList[Package](raw)
}

func idParams(ids []int) url.Values {
	q := url.Values{}
	for i, id := range ids {
		q.Set("computer_ids."+strconv.Itoa(i+1), strconv.Itoa(id))
	}
	return q
}

func queryIDs(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "id:" + strconv.Itoa(id)
	}
	return strings.Join(parts, " OR ")
}

// UpgradePackages starts an activity upgrading the computers' packages (only security
// upgrades with securityOnly) and returns it; wait for it with [Landscape.WaitActivity].
func (c *Landscape) UpgradePackages(ctx context.Context, computerIDs []int, securityOnly bool) (Activity, error) {
	if len(computerIDs) == 0 {
		return Activity{}, invalidf("upgrade packages: no computers")
	}
	q := url.Values{"query": {queryIDs(computerIDs)}}
	if securityOnly {
		q.Set("security_only", "true")
	}
	var a Activity
	err := c.legacy(ctx, "UpgradePackages", q, &a)
	return a, err
}

// Reboot starts an activity rebooting the computers and returns it.
func (c *Landscape) Reboot(ctx context.Context, computerIDs []int) (Activity, error) {
	if len(computerIDs) == 0 {
		return Activity{}, invalidf("reboot: no computers")
	}
	var a Activity
	err := c.legacy(ctx, "RebootComputers", idParams(computerIDs), &a)
	return a, err
}

// ExecuteScript runs a stored script (by ID) as username on the computers, with a time limit
// (0 means Landscape's default), and returns the activity.
func (c *Landscape) ExecuteScript(ctx context.Context, computerIDs []int, scriptID int, username string, timeLimit time.Duration) (Activity, error) {
	if len(computerIDs) == 0 || scriptID <= 0 {
		return Activity{}, invalidf("execute script: computers and a script ID are required")
	}
	q := url.Values{"query": {queryIDs(computerIDs)}, "script_id": {strconv.Itoa(scriptID)}}
	if username != "" {
		q.Set("username", username)
	}
	if timeLimit > 0 {
		q.Set("time_limit", strconv.Itoa(int(timeLimit/time.Second)))
	}
	var a Activity
	err := c.legacy(ctx, "ExecuteScript", q, &a)
	return a, err
}

// Activity reads one activity. An unknown ID gives an error matching [webinfra.ErrNotFound].
func (c *Landscape) Activity(ctx context.Context, id int) (Activity, error) {
	if !c.cfg.Legacy {
		var a Activity
		err := c.rest(ctx, "/activities/"+strconv.Itoa(id), nil, &a)
		return a, err
	}
	var raw json.RawMessage
	if err := c.legacy(ctx, "GetActivities", url.Values{"query": {"id:" + strconv.Itoa(id)}}, &raw); err != nil {
		return Activity{}, err
	}
	list, err := decodeList[Activity](raw)
	if err != nil {
		return Activity{}, err
	}
	if len(list) == 0 {
		return Activity{}, fmt.Errorf("security: landscape activity %d: %w", id, webinfra.ErrNotFound)
	}
	return list[0], nil
}

// WaitActivity polls the activity every PollInterval until it (and every child) is final. It
// returns the activity; one that failed or was canceled also gives an [*ActivityError].
// Cancelling ctx stops the wait (the activity goes on in Landscape).
func (c *Landscape) WaitActivity(ctx context.Context, id int) (Activity, error) {
	for {
		a, err := c.Activity(ctx, id)
		if err != nil {
			return a, err
		}
		if a.Done() {
			if !a.Succeeded() {
				return a, &ActivityError{Activity: a}
			}
			return a, nil
		}
		select {
		case <-ctx.Done():
			return a, fmt.Errorf("security: wait for landscape activity %d (%s): %w", id, a.Status, ctx.Err())
		case <-time.After(c.cfg.PollInterval):
		}
	}
}

// redactURLError keeps the signed query of a legacy call out of an error: net/http's *url.Error
// (from Client.Do, or url.Parse inside NewRequest) quotes the full request URL, which in legacy
// mode holds access_key_id and signature. It returns a copy whose URL keeps scheme, host and path
// but has its query replaced by [webinfra.Redacted] and any user info redacted, with the same Op
// and the same Err, so errors.Is (context.DeadlineExceeded), errors.As (*net.OpError) and
// net.Error's Timeout still see the cause. Any other error is returned unchanged.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) || ue != err {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}

// redactURL drops the query and fragment of raw, and the password of its user info. A string
// that does not parse gives [webinfra.Redacted] alone.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return webinfra.Redacted
	}
	hadQuery := u.RawQuery != "" || u.ForceQuery
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	s := u.Redacted()
	if hadQuery {
		s += "?" + webinfra.Redacted
	}
	return s
}
