package replication

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// FolderStatus is the part of /rest/db/status this package reads.
type FolderStatus struct {
	// State is "idle", "scanning", "syncing", "scan-waiting", "sync-preparing", "error", ...
	State string `json:"state"`
	// StateChanged is when State last changed.
	StateChanged time.Time `json:"stateChanged"`
	// Error is the folder's error, "" if none.
	Error string `json:"error"`
	// Errors and PullErrors count items that failed to sync.
	Errors     int `json:"errors"`
	PullErrors int `json:"pullErrors"`
	// GlobalFiles, GlobalBytes: the cluster's newest version of the folder.
	GlobalFiles int   `json:"globalFiles"`
	GlobalBytes int64 `json:"globalBytes"`
	// LocalFiles, LocalBytes: what this instance has.
	LocalFiles int   `json:"localFiles"`
	LocalBytes int64 `json:"localBytes"`
	// NeedFiles, NeedBytes, NeedTotalItems: what this instance still has to fetch.
	NeedFiles      int   `json:"needFiles"`
	NeedBytes      int64 `json:"needBytes"`
	NeedTotalItems int   `json:"needTotalItems"`
	// ReceiveOnlyTotalItems counts local changes of a receive-only folder ([Client.Revert]).
	ReceiveOnlyTotalItems int `json:"receiveOnlyTotalItems"`
	// Sequence is the local change counter.
	Sequence int64 `json:"sequence"`
	// RemoteSequence is, per device ID, the highest sequence of that device's index this
	// instance has received: when it reaches the device's own Sequence, this instance knows
	// every change the device has scanned.
	RemoteSequence map[string]int64 `json:"remoteSequence"`
}

// Completion is /rest/db/completion: how far a device is in syncing a folder.
type Completion struct {
	// Completion is a percentage, 100 when in sync.
	Completion float64 `json:"completion"`
	// GlobalBytes and GlobalItems size the folder's newest version.
	GlobalBytes int64 `json:"globalBytes"`
	GlobalItems int   `json:"globalItems"`
	// NeedBytes, NeedItems and NeedDeletes are what the device still lacks.
	NeedBytes   int64 `json:"needBytes"`
	NeedItems   int   `json:"needItems"`
	NeedDeletes int   `json:"needDeletes"`
	// RemoteState is "valid", "paused", "notSharing" or "unknown" (for this instance itself,
	// or a device not connected).
	RemoteState string `json:"remoteState"`
	// Sequence is the index sequence the answer reflects.
	Sequence int64 `json:"sequence"`
}

// Unix is the POSIX ownership of a file, as Syncthing records it when the folder sends
// ownership.
type Unix struct {
	// OwnerName and GroupName are the names of the owner and group; a receiver that knows the
	// names applies them before the numeric IDs. Empty when the sender has no such names.
	OwnerName string `json:"OwnerName"`
	GroupName string `json:"GroupName"`
	// UID and GID are the numeric owner and group.
	UID int `json:"UID"`
	GID int `json:"GID"`
}

// Xattr is one extended attribute.
type Xattr struct {
	// Name is the attribute's name with its namespace, "user.webinfra".
	Name string `json:"Name"`
	// Value is the attribute's value (base64 on the wire).
	Value []byte `json:"Value"`
}

// XattrData lists a file's extended attributes on one platform.
type XattrData struct {
	// Xattrs are the attributes, as the folder's xattr filter lets them through.
	Xattrs []Xattr `json:"Xattrs"`
}

// PlatformData is the platform-specific metadata of a file; nil parts were not sent.
type PlatformData struct {
	// Unix is the ownership, sent when the folder has sendOwnership.
	Unix *Unix `json:"Unix"`
	// Linux holds the extended attributes, sent when the folder has sendXattrs.
	Linux *XattrData `json:"Linux"`
}

// FileInfo is one version of a file as Syncthing's database holds it.
type FileInfo struct {
	// Name is the path inside the folder, with forward slashes.
	Name string `json:"name"`
	// Type is "FILE_INFO_TYPE_FILE", "FILE_INFO_TYPE_DIRECTORY" or "FILE_INFO_TYPE_SYMLINK".
	Type string `json:"type"`
	// Size is in bytes.
	Size int64 `json:"size"`
	// Permissions are the mode bits in octal, "0640"; see [FileInfo.Mode].
	Permissions string `json:"permissions"`
	// NoPermissions is set when the sender ignores permissions.
	NoPermissions bool `json:"noPermissions"`
	// Modified is the modification time; ModifiedBy the short ID of the device that made it.
	Modified   time.Time `json:"modified"`
	ModifiedBy string    `json:"modifiedBy"`
	// Deleted, Invalid and Ignored flag a deletion record, an unsyncable and an ignored item.
	Deleted bool `json:"deleted"`
	Invalid bool `json:"invalid"`
	Ignored bool `json:"ignored"`
	// Sequence is the item's place in the index.
	Sequence int64 `json:"sequence"`
	// Version is the version vector, "SHORTID:counter" entries.
	Version []string `json:"version"`
	// Platform holds ownership and extended attributes.
	Platform PlatformData `json:"platform"`
}

// Mode parses Permissions; a malformed value is an error.
func (f FileInfo) Mode() (fs.FileMode, error) {
	n, err := strconv.ParseUint(f.Permissions, 8, 32)
	if err != nil {
		return 0, fmt.Errorf("replication: file %q: permissions %q: %w", f.Name, f.Permissions, err)
	}
	return fs.FileMode(n), nil
}

// FileVersions is /rest/db/file: the cluster's newest version of a file and this instance's.
type FileVersions struct {
	// Global is the cluster's newest version.
	Global FileInfo `json:"global"`
	// Local is this instance's version.
	Local FileInfo `json:"local"`
	// Availability lists the devices that have the global version.
	Availability []struct {
		// ID is the device's ID.
		ID string `json:"id"`
	} `json:"availability"`
}

// Need is /rest/db/need: the files this instance still has to fetch.
type Need struct {
	// Progress are being fetched, Queued are next, Rest come after.
	Progress []FileInfo `json:"progress"`
	Queued   []FileInfo `json:"queued"`
	Rest     []FileInfo `json:"rest"`
}

// FolderError is one item a folder failed to sync.
type FolderError struct {
	// Path is the item's path inside the folder.
	Path string `json:"path"`
	// Error is Syncthing's message, "lchown ...: operation not permitted".
	Error string `json:"error"`
}

func folderQuery(folder string, kv ...string) url.Values {
	q := url.Values{"folder": {folder}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

// DBStatus returns a folder's sync status (GET /rest/db/status). An absent folder gives an
// error matching [webinfra.ErrNotFound].
func (c *Client) DBStatus(ctx context.Context, folder string) (*FolderStatus, error) {
	var s FolderStatus
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/db/status", query: folderQuery(folder), out: &s, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: status of folder %q: %w", folder, err)
	}
	return &s, nil
}

// Completion returns how complete device is for folder (GET /rest/db/completion). device ""
// means this instance as seen by the others combined; folder "" means every folder. An absent
// folder gives an error matching [webinfra.ErrNotFound]. A folder nobody needs anything of is
// at 100.
func (c *Client) Completion(ctx context.Context, folder, device string) (*Completion, error) {
	q := url.Values{}
	if folder != "" {
		q.Set("folder", folder)
	}
	if device != "" {
		q.Set("device", device)
	}
	var out Completion
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/db/completion", query: q, out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: completion of folder %q for device %q: %w", folder, device, err)
	}
	return &out, nil
}

// Need lists what this instance still has to fetch for folder (GET /rest/db/need, first page).
// An absent folder gives an error matching [webinfra.ErrNotFound].
func (c *Client) Need(ctx context.Context, folder string) (*Need, error) {
	var out Need
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/db/need", query: folderQuery(folder), out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: need of folder %q: %w", folder, err)
	}
	return &out, nil
}

// File returns the global and local versions of one file (GET /rest/db/file), with
// permissions, ownership and xattrs when the folder sends them. A file absent from the index
// gives an error matching [webinfra.ErrNotFound].
func (c *Client) File(ctx context.Context, folder, name string) (*FileVersions, error) {
	var out FileVersions
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/db/file", query: folderQuery(folder, "file", name), out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: file %q of folder %q: %w", name, folder, err)
	}
	return &out, nil
}

// FolderErrors lists the items folder failed to sync (GET /rest/folder/errors, first page).
// An absent folder gives an error matching [webinfra.ErrNotFound].
func (c *Client) FolderErrors(ctx context.Context, folder string) ([]FolderError, error) {
	var out struct {
		Errors []FolderError `json:"errors"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/folder/errors", query: folderQuery(folder), out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: errors of folder %q: %w", folder, err)
	}
	return out.Errors, nil
}

// Scan asks for a rescan of folder, or of the path sub inside it when sub is not "" (POST
// /rest/db/scan). It is never retried. An absent folder gives an error matching
// [webinfra.ErrUnavailable] (Syncthing answers 500 "no such folder").
func (c *Client) Scan(ctx context.Context, folder, sub string) error {
	if err := c.do(ctx, call{method: http.MethodPost, path: "/rest/db/scan", query: folderQuery(folder, "sub", sub)}); err != nil {
		return fmt.Errorf("replication: scan folder %q: %w", folder, err)
	}
	return nil
}

// Revert drops the local changes of a receive-only folder (POST /rest/db/revert). Syncthing
// answers 200 for other folder types and for absent folders, doing nothing. It is never
// retried.
func (c *Client) Revert(ctx context.Context, folder string) error {
	if err := c.do(ctx, call{method: http.MethodPost, path: "/rest/db/revert", query: folderQuery(folder)}); err != nil {
		return fmt.Errorf("replication: revert folder %q: %w", folder, err)
	}
	return nil
}

// Override pushes the local state of a send-only folder over remote changes (POST
// /rest/db/override). Syncthing answers 200 for other folder types, doing nothing. It is never
// retried.
func (c *Client) Override(ctx context.Context, folder string) error {
	if err := c.do(ctx, call{method: http.MethodPost, path: "/rest/db/override", query: folderQuery(folder)}); err != nil {
		return fmt.Errorf("replication: override folder %q: %w", folder, err)
	}
	return nil
}

// browseEntry is one node of /rest/db/browse, as Syncthing v1.30 answers it.
type browseEntry struct {
	Name     string        `json:"name"`
	Type     string        `json:"type"`
	Children []browseEntry `json:"children"`
}

// Browse lists every entry of a folder's global tree as slash-separated paths, parents before
// their children (GET /rest/db/browse without a level limit). An absent folder gives an error
// matching [webinfra.ErrNotFound]. The answer grows with the folder: for very large folders
// prefer [Client.Need] or [Client.File] on known paths.
func (c *Client) Browse(ctx context.Context, folder string) ([]string, error) {
	var tree []browseEntry
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/db/browse", query: folderQuery(folder), out: &tree, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: browse folder %q: %w", folder, err)
	}
	var out []string
	var walk func(prefix string, es []browseEntry)
	walk = func(prefix string, es []browseEntry) {
		for _, e := range es {
			out = append(out, prefix+e.Name)
			walk(prefix+e.Name+"/", e.Children)
		}
	}
	walk("", tree)
	return out, nil
}

// LocalChanged lists the local changes of a receive-only folder: files changed on this node
// that the rest of the cluster does not have (GET /rest/db/localchanged, first page of 100).
// [Client.Revert] undoes them. An absent folder gives an error matching [webinfra.ErrNotFound].
func (c *Client) LocalChanged(ctx context.Context, folder string) ([]FileInfo, error) {
	var out struct {
		Files []FileInfo `json:"files"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/db/localchanged", query: folderQuery(folder), out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: local changes of folder %q: %w", folder, err)
	}
	return out.Files, nil
}
