package replication

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// Change kinds of a [NodeChange].
const (
	// KindDevice is a change of /rest/config/devices.
	KindDevice = "syncthing_device"
	// KindFolder is a change of /rest/config/folders.
	KindFolder = "syncthing_folder"
)

// NodePlan is what [ApplyNode] must do to bring one Syncthing instance to its [NodeState].
// It is plain data, made by [PlanNode]; it is not safe for concurrent mutation.
type NodePlan struct {
	// Node is the instance's own device ID.
	Node string `json:"node"`
	// Changes are in the order ApplyNode performs them: device creates and updates, then
	// folder creates and updates, then folder deletes, then device deletes; each group sorted
	// by ID. So devices exist before the folders that use them, and go only after the folders
	// that used them.
	Changes []NodeChange `json:"changes"`
}

// NodeChange is one REST call of a plan.
type NodeChange struct {
	// Kind is [KindDevice] or [KindFolder].
	Kind string `json:"kind"`
	// ID is the device ID or folder ID.
	ID string `json:"id"`
	// Action is create (a PUT of the whole object), update (a PATCH of Body's fields only) or
	// delete (a DELETE).
	Action webinfra.Action `json:"action"`
	// Before and After hold the managed fields as they are and as they will be; Before is nil
	// for a create, After for a delete.
	Before webinfra.Fields `json:"before,omitempty"`
	After  webinfra.Fields `json:"after,omitempty"`
	// Body is the JSON body sent: the whole object for a create, the changed fields for an
	// update (a changed device list is sent whole, since PATCH replaces arrays), nil for a
	// delete.
	Body map[string]any `json:"body,omitempty"`
	// Restart is true for a folder update that makes Syncthing restart the folder: every
	// update except one changing only the label. A restart rescans the folder and briefly
	// stops its syncing; changing the type always restarts it. Creates and deletes start or
	// stop the folder.
	Restart bool `json:"restart,omitempty"`
}

// Empty reports whether the instance already matches its desired state.
func (p *NodePlan) Empty() bool { return p == nil || len(p.Changes) == 0 }

// Plan returns the changes as a printable [webinfra.Plan], one change per REST call, named
// "syncthing_folder <node>/<id>" where node is the first group of the node's device ID.
func (p *NodePlan) Plan() webinfra.Plan {
	var out webinfra.Plan
	if p == nil {
		return out
	}
	node, _, _ := strings.Cut(p.Node, "-")
	for _, c := range p.Changes {
		out.Add(webinfra.Change{Kind: c.Kind, ID: node + "/" + c.ID, Action: c.Action, Before: c.Before, After: c.After})
	}
	return out
}

// PlanNode reads the instance's configuration and returns the changes that bring it to
// desired. It only reads, with exactly two calls: GET /rest/system/status (to check that
// desired.DeviceID is this instance's ID) and GET /rest/config (devices and folders in one
// answer).
//
// Objects in desired are created, or updated field by field; an existing object of the same ID
// that webinfra did not create is taken over by the update. Devices and folders missing from
// desired are deleted only when their name or label starts with [ManagedPrefix]; the
// instance's own device is never touched.
//
// Invalid input gives the *[webinfra.ValidationError] of [NodeState.Validate]; an instance with
// another device ID an error matching [webinfra.ErrFailedPrecondition]; read failures the
// client's errors.
func PlanNode(ctx context.Context, c *Client, desired NodeState) (*NodePlan, error) {
	if c == nil {
		return nil, fmt.Errorf("replication: plan: nil client: %w", webinfra.ErrInvalidArgument)
	}
	if err := desired.Validate(); err != nil {
		return nil, fmt.Errorf("replication: plan: %w", err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("replication: plan node %s: %w", desired.DeviceID, err)
	}
	if st.MyID != desired.DeviceID {
		return nil, fmt.Errorf("replication: plan node %s: the instance is %s: %w", desired.DeviceID, st.MyID, webinfra.ErrFailedPrecondition)
	}
	devices, folders, err := c.devicesAndFolders(ctx)
	if err != nil {
		return nil, fmt.Errorf("replication: plan node %s: %w", desired.DeviceID, err)
	}
	return diffNode(desired, devices, folders), nil
}

// diffNode computes the plan from desired and the instance's current lists.
func diffNode(desired NodeState, devices []Device, folders []Folder) *NodePlan {
	plan := &NodePlan{Node: desired.DeviceID}
	self := desired.DeviceID

	curDev := map[string]Device{}
	for _, d := range devices {
		curDev[d.DeviceID] = d
	}
	want := map[string]bool{}
	var devChanges, devDeletes []NodeChange
	for _, d := range desired.Devices {
		want[d.ID] = true
		after := desiredDeviceFields(d)
		cur, ok := curDev[d.ID]
		if !ok {
			body := map[string]any{"deviceID": d.ID}
			maps.Copy(body, after)
			devChanges = append(devChanges, NodeChange{Kind: KindDevice, ID: d.ID, Action: webinfra.Create, After: after, Body: body})
			continue
		}
		before := deviceFields(cur)
		if patch := changed(before, after); len(patch) > 0 {
			devChanges = append(devChanges, NodeChange{Kind: KindDevice, ID: d.ID, Action: webinfra.Update, Before: before, After: after, Body: patch})
		}
	}
	for _, d := range devices {
		if d.DeviceID != self && !want[d.DeviceID] && strings.HasPrefix(d.Name, ManagedPrefix) {
			devDeletes = append(devDeletes, NodeChange{Kind: KindDevice, ID: d.DeviceID, Action: webinfra.Delete, Before: deviceFields(d)})
		}
	}

	curFolder := map[string]Folder{}
	for _, f := range folders {
		curFolder[f.ID] = f
	}
	wantF := map[string]bool{}
	var folderChanges, folderDeletes []NodeChange
	for _, f := range desired.Folders {
		wantF[f.ID] = true
		after := desiredFolderFields(self, f)
		cur, ok := curFolder[f.ID]
		if !ok {
			body := map[string]any{"id": f.ID}
			maps.Copy(body, after)
			body["devices"] = wireDevices(nil, after["devices"].([]string))
			folderChanges = append(folderChanges, NodeChange{Kind: KindFolder, ID: f.ID, Action: webinfra.Create, After: after, Body: body})
			continue
		}
		before := folderFields(cur)
		patch := changed(before, after)
		if len(patch) == 0 {
			continue
		}
		if ids, ok := patch["devices"]; ok {
			patch["devices"] = wireDevices(cur.Devices, ids.([]string))
		}
		_, labelChanged := patch["label"]
		restart := len(patch) > 1 || !labelChanged
		folderChanges = append(folderChanges, NodeChange{Kind: KindFolder, ID: f.ID, Action: webinfra.Update, Before: before, After: after, Body: patch, Restart: restart})
	}
	for _, f := range folders {
		if !wantF[f.ID] && strings.HasPrefix(f.Label, ManagedPrefix) {
			folderDeletes = append(folderDeletes, NodeChange{Kind: KindFolder, ID: f.ID, Action: webinfra.Delete, Before: folderFields(f)})
		}
	}
	for _, g := range [][]NodeChange{devChanges, folderChanges, folderDeletes, devDeletes} {
		slices.SortFunc(g, func(a, b NodeChange) int { return strings.Compare(a.ID, b.ID) })
		plan.Changes = append(plan.Changes, g...)
	}
	return plan
}

// changed returns the fields of after that differ from before.
func changed(before, after webinfra.Fields) map[string]any {
	out := map[string]any{}
	for k, v := range after {
		if !reflect.DeepEqual(before[k], v) {
			out[k] = v
		}
	}
	return out
}

// wireDevices builds a folder's device list for ids, keeping the existing entries (their
// introducer and encryption password) of the devices that stay.
func wireDevices(cur []FolderDevice, ids []string) []FolderDevice {
	old := map[string]FolderDevice{}
	for _, d := range cur {
		old[d.DeviceID] = d
	}
	out := make([]FolderDevice, 0, len(ids))
	for _, id := range ids {
		if d, ok := old[id]; ok {
			out = append(out, d)
		} else {
			out = append(out, FolderDevice{DeviceID: id})
		}
	}
	return out
}

func deviceFields(d Device) webinfra.Fields {
	addrs := slices.Clone(d.Addresses)
	if addrs == nil {
		addrs = []string{}
	}
	return webinfra.Fields{"name": d.Name, "addresses": addrs}
}

func desiredDeviceFields(d DeviceState) webinfra.Fields {
	name := d.Name
	if name == "" {
		name, _, _ = strings.Cut(d.ID, "-")
	}
	addrs := slices.Clone(d.Addresses)
	if len(addrs) == 0 {
		addrs = []string{"dynamic"}
	}
	return webinfra.Fields{"name": ManagedPrefix + name, "addresses": addrs}
}

func folderFields(f Folder) webinfra.Fields {
	ids := make([]string, 0, len(f.Devices))
	for _, d := range f.Devices {
		ids = append(ids, d.DeviceID)
	}
	slices.Sort(ids)
	return webinfra.Fields{
		"label":            f.Label,
		"path":             f.Path,
		"type":             string(f.Type),
		"devices":          ids,
		"rescanIntervalS":  f.RescanIntervalS,
		"fsWatcherEnabled": f.FSWatcherEnabled,
		"fsWatcherDelayS":  f.FSWatcherDelayS,
		"syncOwnership":    f.SyncOwnership,
		"sendOwnership":    f.SendOwnership,
		"syncXattrs":       f.SyncXattrs,
		"sendXattrs":       f.SendXattrs,
	}
}

func desiredFolderFields(self string, f FolderState) webinfra.Fields {
	label := f.Label
	if label == "" {
		label = f.ID
	}
	typ := f.Type
	if typ == "" {
		typ = SendReceive
	}
	ids := append([]string{self}, f.Devices...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rescan := 3600
	switch {
	case f.RescanInterval < 0:
		rescan = 0
	case f.RescanInterval > 0:
		rescan = int(f.RescanInterval / time.Second)
	}
	delay := 10.0
	if f.FSWatcherDelay > 0 {
		delay = f.FSWatcherDelay.Seconds()
	}
	return webinfra.Fields{
		"label":            ManagedPrefix + label,
		"path":             f.Path,
		"type":             string(typ),
		"devices":          ids,
		"rescanIntervalS":  rescan,
		"fsWatcherEnabled": !f.DisableFSWatcher,
		"fsWatcherDelayS":  delay,
		"syncOwnership":    !f.DisableOwnership,
		"sendOwnership":    !f.DisableOwnership,
		"syncXattrs":       !f.DisableXattrs,
		"sendXattrs":       !f.DisableXattrs,
	}
}
