package replication

import (
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/syncthing/syncthing/lib/protocol"

	"github.com/webinfra/webinfra"
)

// ManagedPrefix marks the Syncthing objects this package manages: it starts the label of every
// folder and the name of every device [ApplyNode] creates ("webinfra:web-data"). [PlanNode]
// deletes a folder or device missing from the desired state only when its label or name starts
// with ManagedPrefix; everything else on the instance is left alone. Renaming a managed object
// in Syncthing's GUI so that the prefix goes releases it from management.
const ManagedPrefix = "webinfra:"

// NodeState is the desired Syncthing configuration of one node: the devices it talks to and
// the folders it shares with them. It is plain data; [NodeState.Validate] checks it without
// I/O.
type NodeState struct {
	// DeviceID is the node's own device ID (its /rest/system/status myID); required.
	// [PlanNode] refuses to plan for an instance with another ID.
	DeviceID string `json:"deviceID"`
	// Devices are the other nodes this node connects to. The node's own device is implicit
	// and must not be listed.
	Devices []DeviceState `json:"devices,omitempty"`
	// Folders are the folders this node holds.
	Folders []FolderState `json:"folders,omitempty"`
}

// DeviceState is a remote device as the node should know it.
type DeviceState struct {
	// ID is the device ID, in Syncthing's canonical form (8 groups of 7 upper-case base32
	// characters joined by dashes); required.
	ID string `json:"id"`
	// Name is the display name, shown in Syncthing as ManagedPrefix+Name; "" means the first
	// group of ID.
	Name string `json:"name,omitempty"`
	// Addresses are where to dial the device: static addresses on the mesh such as
	// "tcp://10.88.1.21:22000" (schemes tcp, tcp4, tcp6, quic, quic4, quic6, with a port), or
	// "dynamic" for discovery. Empty means ["dynamic"], Syncthing's default.
	Addresses []string `json:"addresses,omitempty"`
}

// FolderState is a folder as the node should hold it. Managed folders replicate mode bits,
// ownership and extended attributes unless told otherwise, because that is what hosting
// services needs; ownership needs Syncthing to run as root on the receivers.
type FolderState struct {
	// ID is the folder ID, the same on every node sharing it: 1 to 64 characters of
	// A-Z a-z 0-9 . _ -; required.
	ID string `json:"id"`
	// Label is the display name, shown in Syncthing as ManagedPrefix+Label; "" means ID.
	Label string `json:"label,omitempty"`
	// Path is the folder's absolute, clean directory on the node; required.
	Path string `json:"path"`
	// Type is sendreceive, sendonly or receiveonly; "" means sendreceive.
	Type FolderType `json:"type,omitempty"`
	// Devices are the IDs of the devices the folder is shared with, each listed in
	// NodeState.Devices; the node's own device is implicit (listing it is allowed and changes
	// nothing).
	Devices []string `json:"devices,omitempty"`
	// DisableOwnership turns off syncOwnership and sendOwnership, which are on by default.
	// Set it on a node whose Syncthing does not run as root: there, syncOwnership fails every
	// item with lchown errors.
	DisableOwnership bool `json:"disableOwnership,omitempty"`
	// DisableXattrs turns off syncXattrs and sendXattrs, which are on by default.
	DisableXattrs bool `json:"disableXattrs,omitempty"`
	// DisableFSWatcher turns off file system notifications (fsWatcherEnabled), leaving only
	// periodic rescans.
	DisableFSWatcher bool `json:"disableFSWatcher,omitempty"`
	// FSWatcherDelay is how long changes are gathered before a scan (fsWatcherDelayS), in
	// whole or fractional seconds; 0 means 10s, Syncthing's default.
	FSWatcherDelay time.Duration `json:"fsWatcherDelay,omitempty"`
	// RescanInterval is the period of full rescans (rescanIntervalS), whole seconds; 0 means
	// 1h, Syncthing's default; negative disables periodic rescans.
	RescanInterval time.Duration `json:"rescanInterval,omitempty"`
}

var (
	folderIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	addressSchemes  = []string{"tcp", "tcp4", "tcp6", "quic", "quic4", "quic6"}
	folderTypes     = []string{string(SendReceive), string(SendOnly), string(ReceiveOnly)}
)

// Validate reports every problem of s at once: nil, or a *[webinfra.ValidationError] (matching
// [webinfra.ErrInvalidArgument]) whose entries name the field path, such as
// `folders[1].devices[0]: invalid value "X": not in devices`. It does no I/O.
func (s NodeState) Validate() error {
	var errs webinfra.ValidationError
	if s.DeviceID == "" {
		errs.Required(webinfra.NewPath("deviceID"))
	} else if msg := deviceIDProblem(s.DeviceID); msg != "" {
		errs.Invalid(webinfra.NewPath("deviceID"), s.DeviceID, msg)
	}
	devices := map[string]webinfra.Path{}
	for i, d := range s.Devices {
		p := webinfra.NewPath("devices").Index(i)
		switch {
		case d.ID == "":
			errs.Required(p.Child("id"))
		case deviceIDProblem(d.ID) != "":
			errs.Invalid(p.Child("id"), d.ID, deviceIDProblem(d.ID))
		case d.ID == s.DeviceID:
			errs.Invalid(p.Child("id"), d.ID, "is the node's own device, which is implicit")
		default:
			if first, dup := devices[d.ID]; dup {
				errs.Duplicate(p.Child("id"), d.ID, first)
			} else {
				devices[d.ID] = p.Child("id")
			}
		}
		if strings.ContainsAny(d.Name, "\x00\n\r") {
			errs.Invalid(p.Child("name"), d.Name, "contains a control character")
		}
		seen := map[string]bool{}
		for j, a := range d.Addresses {
			ap := p.Child("addresses").Index(j)
			if msg := addressProblem(a); msg != "" {
				errs.Invalid(ap, a, msg)
			}
			if seen[a] {
				errs.Invalid(ap, a, "listed twice")
			}
			seen[a] = true
		}
	}
	folders := map[string]webinfra.Path{}
	for i, f := range s.Folders {
		p := webinfra.NewPath("folders").Index(i)
		switch {
		case f.ID == "":
			errs.Required(p.Child("id"))
		case !folderIDPattern.MatchString(f.ID):
			errs.Invalid(p.Child("id"), f.ID, "want 1 to 64 characters of A-Z a-z 0-9 . _ -")
		default:
			if first, dup := folders[f.ID]; dup {
				errs.Duplicate(p.Child("id"), f.ID, first)
			} else {
				folders[f.ID] = p.Child("id")
			}
		}
		if strings.ContainsAny(f.Label, "\x00\n\r") {
			errs.Invalid(p.Child("label"), f.Label, "contains a control character")
		}
		switch {
		case f.Path == "":
			errs.Required(p.Child("path"))
		case !filepath.IsAbs(f.Path) || filepath.Clean(f.Path) != f.Path:
			errs.Invalid(p.Child("path"), f.Path, "not an absolute, clean path")
		}
		if f.Type != "" && f.Type != SendReceive && f.Type != SendOnly && f.Type != ReceiveOnly {
			errs.NotSupported(p.Child("type"), string(f.Type), folderTypes)
		}
		seen := map[string]bool{}
		for j, id := range f.Devices {
			dp := p.Child("devices").Index(j)
			switch {
			case seen[id]:
				errs.Invalid(dp, id, "listed twice")
			case id == s.DeviceID:
			case deviceIDProblem(id) != "":
				errs.Invalid(dp, id, deviceIDProblem(id))
			case devices[id] == (webinfra.Path{}):
				// Syncthing silently drops folder devices it does not know.
				errs.Invalid(dp, id, "not in devices")
			}
			seen[id] = true
		}
		if f.FSWatcherDelay < 0 {
			errs.Invalid(p.Child("fsWatcherDelay"), f.FSWatcherDelay, "negative")
		}
		if f.RescanInterval%time.Second != 0 {
			errs.Invalid(p.Child("rescanInterval"), f.RescanInterval, "not whole seconds")
		}
	}
	return errs.Err()
}

// deviceIDProblem returns why s is not a canonical Syncthing device ID, or "". Syncthing's own
// lib/protocol parses it; it also accepts lower case, missing dashes or check characters, which
// the canonical form rules out so that the same device always has the same spelling here.
func deviceIDProblem(s string) string {
	id, err := protocol.DeviceIDFromString(s)
	switch {
	case err != nil:
		return "not a device ID: " + err.Error()
	case id.String() != s:
		return "not a device ID in canonical form (want " + id.String() + ")"
	}
	return ""
}

func addressProblem(a string) string {
	if a == "dynamic" {
		return ""
	}
	u, err := url.Parse(a)
	if err != nil || u.Host == "" {
		return "want dynamic or scheme://host:port"
	}
	ok := false
	for _, s := range addressSchemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return "scheme not one of tcp, tcp4, tcp6, quic, quic4, quic6"
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return "want scheme://host:port"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "port not in 1-65535"
	}
	return ""
}
