package replication

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Event is one entry of Syncthing's event log (/rest/events).
type Event struct {
	// ID orders the events of one subscription; pass the last one seen as since. Syncthing
	// keeps one subscription per distinct Types filter, each with its own ID sequence.
	ID int64 `json:"id"`
	// GlobalID orders events across every subscription.
	GlobalID int64 `json:"globalID"`
	// Type is "StateChanged", "ConfigSaved", "FolderCompletion", "ItemFinished", ...
	Type string `json:"type"`
	// Time is when the event happened.
	Time time.Time `json:"time"`
	// Data is the event's payload, undecoded. ConfigSaved carries the whole configuration,
	// GUI API key included: never log it.
	Data json.RawMessage `json:"data"`
}

// EventsOptions refine [Client.Events]; nil means the zero value.
type EventsOptions struct {
	// Timeout is how long Syncthing holds the request when no event is newer than since, in
	// whole seconds; 0 means Syncthing's default of 60s. Keep it below the HTTP client's
	// timeout.
	Timeout time.Duration
	// Types filters by event type ("StateChanged", "FolderCompletion"); nil means Syncthing's
	// default set. Syncthing creates the subscription of a new filter on its first use, so
	// that first call sees only events from then on.
	Types []string
	// Limit, if > 0, keeps only the newest Limit events of the answer.
	Limit int
}

// Events long-polls the event log (GET /rest/events) for events with an ID above since. It
// returns as soon as there are some, or an empty slice after the timeout. It is a read and is
// retried; ctx cancellation ends the poll.
func (c *Client) Events(ctx context.Context, since int64, opts *EventsOptions) ([]Event, error) {
	if opts == nil {
		opts = &EventsOptions{}
	}
	q := url.Values{"since": {strconv.FormatInt(since, 10)}}
	if opts.Timeout > 0 {
		q.Set("timeout", strconv.Itoa(int((opts.Timeout+time.Second-1)/time.Second)))
	}
	if len(opts.Types) > 0 {
		q.Set("events", strings.Join(opts.Types, ","))
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	var out []Event
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/events", query: q, out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: events since %d: %w", since, err)
	}
	if out == nil {
		out = []Event{}
	}
	return out, nil
}

// PendingDevice is a device that tried to connect without being configured.
type PendingDevice struct {
	// Time is when it last tried.
	Time time.Time `json:"time"`
	// Name is the name it announced.
	Name string `json:"name"`
	// Address is where it connected from.
	Address string `json:"address"`
}

// PendingFolderOffer is one device's offer of a folder this instance does not share with it.
type PendingFolderOffer struct {
	// Time is when the offer was last made.
	Time time.Time `json:"time"`
	// Label is the folder's label on the offering device.
	Label string `json:"label"`
	// ReceiveEncrypted and RemoteEncrypted say which side would hold encrypted data.
	ReceiveEncrypted bool `json:"receiveEncrypted"`
	RemoteEncrypted  bool `json:"remoteEncrypted"`
}

// PendingFolder lists the offers of one folder, by offering device ID.
type PendingFolder struct {
	// OfferedBy maps offering device IDs to their offers.
	OfferedBy map[string]PendingFolderOffer `json:"offeredBy"`
}

// PendingDevices returns the devices that tried to connect unconfigured, by device ID (GET
// /rest/cluster/pending/devices). None gives an empty map.
func (c *Client) PendingDevices(ctx context.Context) (map[string]PendingDevice, error) {
	out := map[string]PendingDevice{}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/cluster/pending/devices", out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: pending devices: %w", err)
	}
	return out, nil
}

// PendingFolders returns the folders offered to this instance and not accepted, by folder ID
// (GET /rest/cluster/pending/folders); device "" means offers from every device. None gives an
// empty map.
func (c *Client) PendingFolders(ctx context.Context, device string) (map[string]PendingFolder, error) {
	var q url.Values
	if device != "" {
		q = url.Values{"device": {device}}
	}
	out := map[string]PendingFolder{}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/cluster/pending/folders", query: q, out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: pending folders: %w", err)
	}
	return out, nil
}
