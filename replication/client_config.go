package replication

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/webinfra/webinfra"
)

// FolderType is how a folder exchanges changes, Syncthing's folder "type".
type FolderType string

// The folder types Syncthing knows.
const (
	// SendReceive sends local changes and applies remote ones (Syncthing's default).
	SendReceive FolderType = "sendreceive"
	// SendOnly sends local changes and ignores remote ones; [Client.Override] pushes the local
	// state over remote changes.
	SendOnly FolderType = "sendonly"
	// ReceiveOnly applies remote changes and keeps local ones unsent; [Client.Revert] drops
	// them.
	ReceiveOnly FolderType = "receiveonly"
	// ReceiveEncrypted stores encrypted data for untrusted devices; [NodeState] does not manage
	// such folders.
	ReceiveEncrypted FolderType = "receiveencrypted"
)

// Device is one entry of /rest/config/devices: a device this instance knows, possibly itself.
// Fields the type does not name are kept in Other, so that Get, change, Put round-trips every
// setting Syncthing has.
type Device struct {
	// DeviceID is the device's ID, "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD".
	DeviceID string `json:"deviceID"`
	// Name is the device's display name.
	Name string `json:"name"`
	// Addresses are where to dial it: "tcp://10.88.1.21:22000", or "dynamic" for discovery.
	Addresses []string `json:"addresses"`
	// Compression is "metadata" (Syncthing's default), "always" or "never".
	Compression string `json:"compression"`
	// Introducer makes this device's devices ours too.
	Introducer bool `json:"introducer"`
	// Paused stops connections to the device.
	Paused bool `json:"paused"`
	// AutoAcceptFolders accepts folders the device offers.
	AutoAcceptFolders bool `json:"autoAcceptFolders"`
	// Untrusted marks a device that only gets encrypted data.
	Untrusted bool `json:"untrusted"`
	// Other holds every other field, as Syncthing sent it.
	Other map[string]json.RawMessage `json:"-"`
}

// MarshalJSON encodes the device in Syncthing's form, Other fields included.
func (d Device) MarshalJSON() ([]byte, error) {
	type plain Device
	return marshalWithOther(plain(d), d.Other)
}

// UnmarshalJSON decodes Syncthing's form, keeping unnamed fields in Other.
func (d *Device) UnmarshalJSON(b []byte) error {
	type plain Device
	var p plain
	other, err := unmarshalWithOther(b, &p)
	if err != nil {
		return err
	}
	*d = Device(p)
	d.Other = other
	return nil
}

// FolderDevice is one entry of a folder's device list.
type FolderDevice struct {
	// DeviceID is the device the folder is shared with; the instance's own device is always in
	// the list (Syncthing adds it).
	DeviceID string
	// IntroducedBy is the introducer that added the share; "" if none.
	IntroducedBy string
	// EncryptionPassword is the password of an untrusted device's encrypted copy; empty if none.
	EncryptionPassword webinfra.Secret
}

type folderDeviceWire struct {
	DeviceID           string `json:"deviceID"`
	IntroducedBy       string `json:"introducedBy"`
	EncryptionPassword string `json:"encryptionPassword"`
}

// MarshalJSON encodes Syncthing's wire form. It reveals EncryptionPassword, since Syncthing
// needs it; print a FolderDevice with fmt instead, which redacts it.
func (f FolderDevice) MarshalJSON() ([]byte, error) {
	return json.Marshal(folderDeviceWire{f.DeviceID, f.IntroducedBy, f.EncryptionPassword.Reveal()})
}

// UnmarshalJSON decodes Syncthing's wire form.
func (f *FolderDevice) UnmarshalJSON(b []byte) error {
	var w folderDeviceWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = FolderDevice{DeviceID: w.DeviceID, IntroducedBy: w.IntroducedBy}
	if w.EncryptionPassword != "" {
		f.EncryptionPassword = webinfra.NewSecret(w.EncryptionPassword)
	}
	return nil
}

// Folder is one entry of /rest/config/folders. Fields the type does not name are kept in
// Other, so that Get, change, Put round-trips every setting.
type Folder struct {
	// ID is the folder ID, the same on every device sharing it.
	ID string `json:"id"`
	// Label is the display name.
	Label string `json:"label"`
	// Path is the folder's directory on this instance.
	Path string `json:"path"`
	// Type is how it exchanges changes.
	Type FolderType `json:"type"`
	// Devices are the devices it is shared with, sorted by ID, own device included.
	Devices []FolderDevice `json:"devices"`
	// RescanIntervalS is the full rescan period in seconds; 0 disables periodic rescans.
	RescanIntervalS int `json:"rescanIntervalS"`
	// FSWatcherEnabled turns on change notifications from the file system.
	FSWatcherEnabled bool `json:"fsWatcherEnabled"`
	// FSWatcherDelayS is how long changes are gathered before a scan, in seconds.
	FSWatcherDelayS float64 `json:"fsWatcherDelayS"`
	// IgnorePerms ignores permission bits.
	IgnorePerms bool `json:"ignorePerms"`
	// Paused stops the folder.
	Paused bool `json:"paused"`
	// SyncOwnership applies received uid/gid (needs root on the receiver).
	SyncOwnership bool `json:"syncOwnership"`
	// SendOwnership sends local uid/gid and owner names.
	SendOwnership bool `json:"sendOwnership"`
	// SyncXattrs applies received extended attributes.
	SyncXattrs bool `json:"syncXattrs"`
	// SendXattrs sends local extended attributes.
	SendXattrs bool `json:"sendXattrs"`
	// Other holds every other field, as Syncthing sent it.
	Other map[string]json.RawMessage `json:"-"`
}

// MarshalJSON encodes the folder in Syncthing's form, Other fields included.
func (f Folder) MarshalJSON() ([]byte, error) {
	type plain Folder
	return marshalWithOther(plain(f), f.Other)
}

// UnmarshalJSON decodes Syncthing's form, keeping unnamed fields in Other.
func (f *Folder) UnmarshalJSON(b []byte) error {
	type plain Folder
	var p plain
	other, err := unmarshalWithOther(b, &p)
	if err != nil {
		return err
	}
	*f = Folder(p)
	f.Other = other
	return nil
}

// ConfigOptions is /rest/config/options, the instance-wide settings. Fields the type does not
// name are kept in Other.
type ConfigOptions struct {
	// ListenAddresses are the sync protocol listeners, "tcp://127.0.0.1:22000" or "default".
	ListenAddresses []string `json:"listenAddresses"`
	// GlobalAnnounceEnabled announces to the global discovery servers.
	GlobalAnnounceEnabled bool `json:"globalAnnounceEnabled"`
	// LocalAnnounceEnabled announces by LAN broadcast.
	LocalAnnounceEnabled bool `json:"localAnnounceEnabled"`
	// RelaysEnabled allows relayed connections.
	RelaysEnabled bool `json:"relaysEnabled"`
	// NATEnabled tries UPnP/NAT-PMP port mappings.
	NATEnabled bool `json:"natEnabled"`
	// URAccepted is the usage reporting consent; -1 declines.
	URAccepted int `json:"urAccepted"`
	// CrashReportingEnabled sends crash reports.
	CrashReportingEnabled bool `json:"crashReportingEnabled"`
	// AutoUpgradeIntervalH is the upgrade check period in hours; 0 disables.
	AutoUpgradeIntervalH int `json:"autoUpgradeIntervalH"`
	// StartBrowser opens a browser on start.
	StartBrowser bool `json:"startBrowser"`
	// Other holds every other field, as Syncthing sent it.
	Other map[string]json.RawMessage `json:"-"`
}

// MarshalJSON encodes the options in Syncthing's form, Other fields included.
func (o ConfigOptions) MarshalJSON() ([]byte, error) {
	type plain ConfigOptions
	return marshalWithOther(plain(o), o.Other)
}

// UnmarshalJSON decodes Syncthing's form, keeping unnamed fields in Other.
func (o *ConfigOptions) UnmarshalJSON(b []byte) error {
	type plain ConfigOptions
	var p plain
	other, err := unmarshalWithOther(b, &p)
	if err != nil {
		return err
	}
	*o = ConfigOptions(p)
	o.Other = other
	return nil
}

var jsonKeyCache sync.Map // reflect.Type -> map[string]bool

// knownJSONKeys lists the JSON names of a struct type's fields.
func knownJSONKeys(t reflect.Type) map[string]bool {
	if v, ok := jsonKeyCache.Load(t); ok {
		return v.(map[string]bool)
	}
	keys := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	jsonKeyCache.Store(t, keys)
	return keys
}

func marshalWithOther(known any, other map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(known)
	if err != nil || len(other) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range other {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

func unmarshalWithOther(b []byte, known any) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(b, known); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	keys := knownJSONKeys(reflect.TypeOf(known).Elem())
	for k := range m {
		if keys[k] {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// checkPatchID refuses a patch whose own ID field names another object: Syncthing applies a
// PATCH to the object its body names, not to the one in the path (measured on v1.30.0).
func checkPatchID(kind, key, id string, fields map[string]any) error {
	if v, ok := fields[key]; ok && v != id {
		return fmt.Errorf("replication: patch %s %q: field %q is %v, not the patched %s: %w", kind, id, key, v, kind, webinfra.ErrInvalidArgument)
	}
	return nil
}

// Devices lists the configured devices, the instance's own included (GET
// /rest/config/devices). It is a read and is retried.
func (c *Client) Devices(ctx context.Context) ([]Device, error) {
	var out []Device
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config/devices", out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: list devices: %w", err)
	}
	return out, nil
}

// Device returns one device. An absent device gives an error matching [webinfra.ErrNotFound];
// a malformed ID one matching [webinfra.ErrInvalidArgument] (Syncthing answers 400).
func (c *Client) Device(ctx context.Context, id string) (*Device, error) {
	var d Device
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config/devices/" + pathSeg(id), out: &d, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: get device %q: %w", id, err)
	}
	return &d, nil
}

// PutDevice creates or replaces the device d.DeviceID with d (PUT
// /rest/config/devices/{id}); fields it leaves zero are set to zero, so start from
// [Client.Device] or [Client.DefaultDevice]. It is idempotent and retried. Syncthing stores the
// device its body names, so d.DeviceID is required.
func (c *Client) PutDevice(ctx context.Context, d Device) error {
	if d.DeviceID == "" {
		return fmt.Errorf("replication: put device: DeviceID is required: %w", webinfra.ErrInvalidArgument)
	}
	if err := c.do(ctx, call{method: http.MethodPut, path: "/rest/config/devices/" + pathSeg(d.DeviceID), body: d, idempotent: true}); err != nil {
		return fmt.Errorf("replication: put device %q: %w", d.DeviceID, err)
	}
	return nil
}

// PatchDevice sets the given JSON fields of device id and leaves the others (PATCH
// /rest/config/devices/{id}); an array value replaces the whole array. An absent device gives
// an error matching [webinfra.ErrNotFound]. It is idempotent and retried. A "deviceID" field
// naming another device is refused with [webinfra.ErrInvalidArgument].
func (c *Client) PatchDevice(ctx context.Context, id string, fields map[string]any) error {
	if err := checkPatchID("device", "deviceID", id, fields); err != nil {
		return err
	}
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/rest/config/devices/" + pathSeg(id), body: fields, idempotent: true}); err != nil {
		return fmt.Errorf("replication: patch device %q: %w", id, err)
	}
	return nil
}

// DeleteDevice removes device id. Syncthing answers 200 for an absent device too, so deleting
// twice succeeds. It is idempotent and retried. Folders shared with the device drop it.
func (c *Client) DeleteDevice(ctx context.Context, id string) error {
	if err := c.do(ctx, call{method: http.MethodDelete, path: "/rest/config/devices/" + pathSeg(id), idempotent: true}); err != nil {
		return fmt.Errorf("replication: delete device %q: %w", id, err)
	}
	return nil
}

// Folders lists the configured folders (GET /rest/config/folders). It is a read and is
// retried.
func (c *Client) Folders(ctx context.Context) ([]Folder, error) {
	var out []Folder
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config/folders", out: &out, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: list folders: %w", err)
	}
	return out, nil
}

// Folder returns one folder. An absent folder gives an error matching [webinfra.ErrNotFound].
func (c *Client) Folder(ctx context.Context, id string) (*Folder, error) {
	var f Folder
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config/folders/" + pathSeg(id), out: &f, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: get folder %q: %w", id, err)
	}
	return &f, nil
}

// PutFolder creates or replaces folder f.ID (PUT /rest/config/folders/{id}). Fields absent
// from the encoding take the instance's folder defaults; zero fields of f are sent as zero, so
// start from [Client.Folder] or [Client.DefaultFolder]. Syncthing adds its own device to
// Devices and silently drops devices it does not know, so create devices first. An empty ID or
// Path is refused by Syncthing with HTTP 500. It is idempotent and retried. Changing an existing
// folder restarts it (unless only the label changes).
func (c *Client) PutFolder(ctx context.Context, f Folder) error {
	if f.ID == "" {
		return fmt.Errorf("replication: put folder: ID is required: %w", webinfra.ErrInvalidArgument)
	}
	if err := c.do(ctx, call{method: http.MethodPut, path: "/rest/config/folders/" + pathSeg(f.ID), body: f, idempotent: true}); err != nil {
		return fmt.Errorf("replication: put folder %q: %w", f.ID, err)
	}
	return nil
}

// PatchFolder sets the given JSON fields of folder id and leaves the others (PATCH
// /rest/config/folders/{id}). An array value replaces the whole array: patching "devices"
// must list every device the folder keeps. An absent folder gives an error matching
// [webinfra.ErrNotFound]. It is idempotent and retried. Any change but the label restarts
// the folder. An "id" field naming another folder is refused with [webinfra.ErrInvalidArgument].
func (c *Client) PatchFolder(ctx context.Context, id string, fields map[string]any) error {
	if err := checkPatchID("folder", "id", id, fields); err != nil {
		return err
	}
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/rest/config/folders/" + pathSeg(id), body: fields, idempotent: true}); err != nil {
		return fmt.Errorf("replication: patch folder %q: %w", id, err)
	}
	return nil
}

// DeleteFolder removes folder id from the configuration; the files on disk stay. Syncthing
// answers 200 for an absent folder too, so deleting twice succeeds. It is idempotent and
// retried.
func (c *Client) DeleteFolder(ctx context.Context, id string) error {
	if err := c.do(ctx, call{method: http.MethodDelete, path: "/rest/config/folders/" + pathSeg(id), idempotent: true}); err != nil {
		return fmt.Errorf("replication: delete folder %q: %w", id, err)
	}
	return nil
}

// Options returns the instance-wide options (GET /rest/config/options).
func (c *Client) Options(ctx context.Context) (*ConfigOptions, error) {
	var o ConfigOptions
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config/options", out: &o, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: get options: %w", err)
	}
	return &o, nil
}

// PatchOptions sets the given JSON fields of the options (PATCH /rest/config/options); arrays
// are replaced whole. It is idempotent and retried.
func (c *Client) PatchOptions(ctx context.Context, fields map[string]any) error {
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/rest/config/options", body: fields, idempotent: true}); err != nil {
		return fmt.Errorf("replication: patch options: %w", err)
	}
	return nil
}

// DefaultFolder returns the template new folders start from (GET /rest/config/defaults/folder):
// empty ID and path, the instance's own device in Devices.
func (c *Client) DefaultFolder(ctx context.Context) (*Folder, error) {
	var f Folder
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config/defaults/folder", out: &f, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: get folder defaults: %w", err)
	}
	return &f, nil
}

// PutDefaultFolder replaces the folder template (PUT /rest/config/defaults/folder). It is
// idempotent and retried.
func (c *Client) PutDefaultFolder(ctx context.Context, f Folder) error {
	if err := c.do(ctx, call{method: http.MethodPut, path: "/rest/config/defaults/folder", body: f, idempotent: true}); err != nil {
		return fmt.Errorf("replication: put folder defaults: %w", err)
	}
	return nil
}

// DefaultDevice returns the template new devices start from (GET /rest/config/defaults/device).
func (c *Client) DefaultDevice(ctx context.Context) (*Device, error) {
	var d Device
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config/defaults/device", out: &d, idempotent: true}); err != nil {
		return nil, fmt.Errorf("replication: get device defaults: %w", err)
	}
	return &d, nil
}

// PutDefaultDevice replaces the device template (PUT /rest/config/defaults/device). It is
// idempotent and retried.
func (c *Client) PutDefaultDevice(ctx context.Context, d Device) error {
	if err := c.do(ctx, call{method: http.MethodPut, path: "/rest/config/defaults/device", body: d, idempotent: true}); err != nil {
		return fmt.Errorf("replication: put device defaults: %w", err)
	}
	return nil
}

// devicesAndFolders reads both lists in one call (GET /rest/config). The rest of the answer,
// which holds the GUI settings and the API key, is discarded undecoded.
func (c *Client) devicesAndFolders(ctx context.Context) ([]Device, []Folder, error) {
	var cfg struct {
		Devices []Device `json:"devices"`
		Folders []Folder `json:"folders"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/rest/config", out: &cfg, idempotent: true}); err != nil {
		return nil, nil, fmt.Errorf("replication: get config: %w", err)
	}
	return cfg.Devices, cfg.Folders, nil
}
