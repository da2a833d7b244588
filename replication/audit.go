package replication

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/webinfra/webinfra"
)

// Severity ranks a [Finding].
type Severity int

// Severities, from least to most serious.
const (
	// SeverityInfo is worth knowing, nothing is wrong.
	SeverityInfo Severity = iota
	// SeverityWarning is a divergence that [Repair] can usually fix or that will not spread.
	SeverityWarning
	// SeverityError is data at risk: a conflict copy, an item failing to sync.
	SeverityError
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Kinds of [Finding].
const (
	// FindingConflictCopy is a ".sync-conflict-" file: two nodes wrote the same file.
	FindingConflictCopy = "conflict-copy"
	// FindingPullError is an item the node failed to sync (/rest/folder/errors), such as an
	// lchown failure on a receiver that does not run as root.
	FindingPullError = "pull-error"
	// FindingFolderError is a folder stopped on an error (/rest/db/status error).
	FindingFolderError = "folder-error"
	// FindingLocalChange is a receive-only local change: a write behind Syncthing's back on a
	// replica that is not the writer (/rest/db/localchanged).
	FindingLocalChange = "local-change"
	// FindingMetadataDrift is a file whose mode, owner or extended attributes differ between
	// replicas (/rest/db/file local versions).
	FindingMetadataDrift = "metadata-drift"
	// FindingWriters is a folder with no writer or with several.
	FindingWriters = "writers"
)

// Repair actions of a [Finding].
const (
	// RepairRevert drops the node's receive-only local changes (/rest/db/revert).
	RepairRevert = "revert"
	// RepairRescan rescans the folder on the node (/rest/db/scan), which also retries the
	// pulls that failed.
	RepairRescan = "rescan"
)

// Finding is one problem [Audit] found.
type Finding struct {
	// Severity ranks it.
	Severity Severity `json:"severity"`
	// Kind is one of the Finding constants ([FindingConflictCopy], ...).
	Kind string `json:"kind"`
	// Node is the node it was found on.
	Node string `json:"node"`
	// Folder is the folder ID.
	Folder string `json:"folder"`
	// Path is the file inside the folder, slash-separated; "" for the folder itself.
	Path string `json:"path,omitempty"`
	// Detail says what differs or failed, readably.
	Detail string `json:"detail"`
	// Repair is the action [Repair] takes ([RepairRevert], [RepairRescan]); "" means it needs a
	// person (a conflict copy: decide which version wins, then delete the copy).
	Repair string `json:"repair,omitempty"`
}

// String renders `error conflict-copy node=b folder=web path="a.sync-conflict-...": detail`.
func (f Finding) String() string {
	s := fmt.Sprintf("%s %s node=%s folder=%s", f.Severity, f.Kind, f.Node, f.Folder)
	if f.Path != "" {
		s += fmt.Sprintf(" path=%q", f.Path)
	}
	s += ": " + f.Detail
	if f.Repair != "" {
		s += " (repair: " + f.Repair + ")"
	}
	return s
}

// AuditReport lists what [Audit] found.
type AuditReport struct {
	// Folders are the folders audited, sorted.
	Folders []string `json:"folders"`
	// Files counts the file entries compared, per folder.
	Files map[string]int `json:"files"`
	// Findings are sorted by folder, path, node and kind.
	Findings []Finding `json:"findings"`
}

// Clean reports whether the audit found nothing of severity warning or above.
func (r *AuditReport) Clean() bool {
	return !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity >= SeverityWarning })
}

// Of returns the findings of one kind.
func (r *AuditReport) Of(kind string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// String renders one finding per line, or "clean" with the counts.
func (r *AuditReport) String() string {
	var b strings.Builder
	n := 0
	for _, id := range r.Folders {
		n += r.Files[id]
	}
	fmt.Fprintf(&b, "audit of %d folder(s), %d file(s): %d finding(s)\n", len(r.Folders), n, len(r.Findings))
	for _, f := range r.Findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Audit checks folders on every node of nodes holding them (a node lacking a folder is
// skipped) and returns what diverges:
//
//   - conflict copies: names holding ".sync-conflict-" in the folder's global tree
//     (/rest/db/browse), reported on each node that has the file locally ([SeverityError], no
//     automatic repair). Copies created and not yet scanned are not seen;
//   - folder errors and pull errors (/rest/db/status error, /rest/folder/errors, first page)
//     ([SeverityError], repaired by a rescan);
//   - receive-only local changes (/rest/db/localchanged, first page) ([SeverityWarning],
//     repaired by a revert);
//   - metadata drift: for every file of the global tree present on several replicas, its
//     mode bits, uid/gid and owner names (when sent) and extended attributes in each node's
//     local version (/rest/db/file), against the writer's, or the first holder's by name when
//     the folder has no single writer ([SeverityWarning]; repaired by a revert on a
//     receive-only node, else by a rescan);
//   - a folder with no writer or several ([SeverityWarning], no automatic repair).
//
// It only reads: per folder and node, the folder's configuration, status, errors and
// (when it has local changes) local changes, the global tree from one node, and one
// /rest/db/file per file and node, so its cost grows with files × replicas. No folder means
// every folder of every node. A failing read stops the audit with an error naming node and
// folder; ctx cancellation stops it with ctx's error. Safe for concurrent use.
func Audit(ctx context.Context, nodes map[string]*Client, folders ...string) (*AuditReport, error) {
	names := sortedNodes(nodes)
	if len(names) == 0 {
		return nil, fmt.Errorf("replication: audit: no nodes: %w", webinfra.ErrInvalidArgument)
	}
	if len(folders) == 0 {
		seen := map[string]bool{}
		for _, n := range names {
			fs, err := nodes[n].Folders(ctx)
			if err != nil {
				return nil, fmt.Errorf("replication: audit: node %q: %w", n, err)
			}
			for _, f := range fs {
				seen[f.ID] = true
			}
		}
		for id := range seen {
			folders = append(folders, id)
		}
	}
	folders = slices.Clone(folders)
	slices.Sort(folders)
	folders = slices.Compact(folders)
	rep := &AuditReport{Folders: folders, Files: map[string]int{}}
	for _, id := range folders {
		if err := auditFolder(ctx, nodes, names, id, rep); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		return cmpStrings(a.Folder, b.Folder, a.Path, b.Path, a.Node, b.Node, a.Kind, b.Kind)
	})
	return rep, nil
}

func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

func auditFolder(ctx context.Context, nodes map[string]*Client, names []string, id string, rep *AuditReport) error {
	add := func(f Finding) { f.Folder = id; rep.Findings = append(rep.Findings, f) }
	var holders, writers []string
	types := map[string]FolderType{}
	for _, n := range names {
		c := nodes[n]
		fo, err := c.Folder(ctx, id)
		if errors.Is(err, webinfra.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("replication: audit folder %q on node %q: %w", id, n, err)
		}
		holders = append(holders, n)
		types[n] = fo.Type
		if isWriter(fo.Type) {
			writers = append(writers, n)
		}
		st, err := c.DBStatus(ctx, id)
		if err != nil {
			return fmt.Errorf("replication: audit folder %q on node %q: %w", id, n, err)
		}
		if st.Error != "" {
			add(Finding{Severity: SeverityError, Kind: FindingFolderError, Node: n, Detail: st.Error, Repair: RepairRescan})
		}
		errs, err := c.FolderErrors(ctx, id)
		if err != nil {
			return fmt.Errorf("replication: audit folder %q on node %q: %w", id, n, err)
		}
		for _, e := range errs {
			add(Finding{Severity: SeverityError, Kind: FindingPullError, Node: n, Path: e.Path, Detail: e.Error, Repair: RepairRescan})
		}
		if st.ReceiveOnlyTotalItems > 0 {
			changed, err := c.LocalChanged(ctx, id)
			if err != nil {
				return fmt.Errorf("replication: audit folder %q on node %q: %w", id, n, err)
			}
			for _, f := range changed {
				what := "changed"
				if f.Deleted {
					what = "deleted"
				}
				add(Finding{Severity: SeverityWarning, Kind: FindingLocalChange, Node: n, Path: f.Name,
					Detail: fmt.Sprintf("%s locally on a receive-only replica (%s, mode %s); not sent to the others", what, shortType(f.Type), f.Permissions),
					Repair: RepairRevert})
			}
			if len(changed) == 0 {
				add(Finding{Severity: SeverityWarning, Kind: FindingLocalChange, Node: n,
					Detail: fmt.Sprintf("%d receive-only local change(s)", st.ReceiveOnlyTotalItems), Repair: RepairRevert})
			}
		}
	}
	if len(holders) == 0 {
		return nil
	}
	switch {
	case len(writers) == 0:
		add(Finding{Severity: SeverityWarning, Kind: FindingWriters, Node: holders[0], Detail: "no writer: every replica is receive-only"})
	case len(writers) > 1:
		for _, w := range writers {
			add(Finding{Severity: SeverityWarning, Kind: FindingWriters, Node: w,
				Detail: fmt.Sprintf("one of %d writers %v (type %s): concurrent writes make conflict copies", len(writers), writers, types[w])})
		}
	}
	ref := holders[0]
	if len(writers) == 1 {
		ref = writers[0]
	}
	tree, err := nodes[ref].Browse(ctx, id)
	if err != nil {
		return fmt.Errorf("replication: audit folder %q on node %q: %w", id, ref, err)
	}
	rep.Files[id] = len(tree)
	for _, name := range tree {
		locals := map[string]*FileInfo{}
		for _, n := range holders {
			fv, err := nodes[n].File(ctx, id, name)
			if errors.Is(err, webinfra.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("replication: audit folder %q on node %q: %w", id, n, err)
			}
			if fv.Local.Deleted || fv.Local.Name == "" {
				continue
			}
			locals[n] = &fv.Local
		}
		if strings.Contains(name, ".sync-conflict-") {
			for _, n := range holders {
				if locals[n] != nil {
					add(Finding{Severity: SeverityError, Kind: FindingConflictCopy, Node: n, Path: name,
						Detail: "conflict copy: two nodes wrote this file; keep one version and delete the copy"})
				}
			}
			continue
		}
		base := locals[ref]
		if base == nil || len(locals) < 2 {
			continue
		}
		for _, n := range holders {
			l := locals[n]
			if n == ref || l == nil {
				continue
			}
			if d := metadataDiff(base, l); d != "" {
				r := RepairRescan
				if types[n] == ReceiveOnly {
					r = RepairRevert
				}
				add(Finding{Severity: SeverityWarning, Kind: FindingMetadataDrift, Node: n, Path: name,
					Detail: d + fmt.Sprintf(" (reference node %s)", ref), Repair: r})
			}
		}
	}
	return nil
}

func shortType(t string) string {
	return strings.ToLower(strings.TrimPrefix(t, "FILE_INFO_TYPE_"))
}

// metadataDiff describes how l's mode, ownership and xattrs differ from base's; "" if not.
func metadataDiff(base, l *FileInfo) string {
	var d []string
	if !base.NoPermissions && !l.NoPermissions && base.Type != "FILE_INFO_TYPE_SYMLINK" && base.Permissions != l.Permissions {
		d = append(d, fmt.Sprintf("mode %s, want %s", l.Permissions, base.Permissions))
	}
	if bu, lu := base.Platform.Unix, l.Platform.Unix; bu != nil && lu != nil {
		if bu.UID != lu.UID || bu.GID != lu.GID {
			d = append(d, fmt.Sprintf("uid:gid %d:%d, want %d:%d", lu.UID, lu.GID, bu.UID, bu.GID))
		}
		if bu.OwnerName != lu.OwnerName || bu.GroupName != lu.GroupName {
			d = append(d, fmt.Sprintf("owner %s:%s, want %s:%s", lu.OwnerName, lu.GroupName, bu.OwnerName, bu.GroupName))
		}
	} else if (bu == nil) != (lu == nil) {
		d = append(d, fmt.Sprintf("ownership recorded on %s only", map[bool]string{true: "the reference", false: "this node"}[bu != nil]))
	}
	if bx, lx := xattrs(base), xattrs(l); !slices.EqualFunc(bx, lx, func(a, b Xattr) bool { return a.Name == b.Name && bytes.Equal(a.Value, b.Value) }) {
		d = append(d, fmt.Sprintf("xattrs %s, want %s", xattrNames(lx), xattrNames(bx)))
	}
	return strings.Join(d, "; ")
}

func xattrs(f *FileInfo) []Xattr {
	if f.Platform.Linux == nil {
		return nil
	}
	x := slices.Clone(f.Platform.Linux.Xattrs)
	slices.SortFunc(x, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) })
	return x
}

func xattrNames(x []Xattr) string {
	var n []string
	for _, a := range x {
		n = append(n, fmt.Sprintf("%s=%q", a.Name, a.Value))
	}
	return "[" + strings.Join(n, " ") + "]"
}

// RepairAction is one call [Repair] made.
type RepairAction struct {
	// Node and Folder say where.
	Node   string `json:"node"`
	Folder string `json:"folder"`
	// Action is [RepairRevert] or [RepairRescan].
	Action string `json:"action"`
	// Findings is how many findings the action addresses.
	Findings int `json:"findings"`
	// Err is the action's error, "" on success.
	Err string `json:"err,omitempty"`
}

// RepairReport lists what [Repair] did.
type RepairReport struct {
	// Actions are in the order performed: by folder, node, then revert before rescan.
	Actions []RepairAction `json:"actions"`
	// Skipped are the findings no automatic action repairs (conflict copies, writers).
	Skipped []Finding `json:"skipped"`
}

// Repair performs the repair of every repairable finding of report, once per node, folder
// and action: [RepairRevert] (POST /rest/db/revert, which also rescans) for receive-only local
// changes and drift on receive-only replicas, [RepairRescan] (POST /rest/db/scan) for pull
// and folder errors and drift on writers; a node both reverted and rescanned is reverted
// first. Findings without a repair are listed in [RepairReport.Skipped]. A node named by a
// finding but missing from nodes gives an error matching [webinfra.ErrInvalidArgument] before
// any call. A failing action does not stop the others: the error joins every failure, each
// naming node, folder and action, and the report marks them. Repairs are asynchronous in
// Syncthing: audit again (polling) to see their effect. Repeating Repair is harmless.
func Repair(ctx context.Context, nodes map[string]*Client, report *AuditReport) (*RepairReport, error) {
	out := &RepairReport{}
	if report == nil {
		return out, nil
	}
	type key struct{ folder, node, action string }
	count := map[key]int{}
	var keys []key
	for _, f := range report.Findings {
		if f.Repair == "" {
			out.Skipped = append(out.Skipped, f)
			continue
		}
		if nodes[f.Node] == nil {
			return nil, fmt.Errorf("replication: repair: node %q of finding %s has no client: %w", f.Node, f, webinfra.ErrInvalidArgument)
		}
		k := key{f.Folder, f.Node, f.Repair}
		if count[k] == 0 {
			keys = append(keys, k)
		}
		count[k]++
	}
	slices.SortFunc(keys, func(a, b key) int {
		// "revert" sorts before "rescan"
		return cmpStrings(a.folder, b.folder, a.node, b.node, b.action, a.action)
	})
	var errs []error
	for _, k := range keys {
		c := nodes[k.node]
		var err error
		switch k.action {
		case RepairRevert:
			err = c.Revert(ctx, k.folder)
		case RepairRescan:
			err = c.Scan(ctx, k.folder, "")
		default:
			err = fmt.Errorf("unknown repair %q: %w", k.action, webinfra.ErrInvalidArgument)
		}
		a := RepairAction{Node: k.node, Folder: k.folder, Action: k.action, Findings: count[k]}
		if err != nil {
			a.Err = err.Error()
			errs = append(errs, fmt.Errorf("replication: repair %s of folder %q on node %q: %w", k.action, k.folder, k.node, err))
		}
		out.Actions = append(out.Actions, a)
		if ctx.Err() != nil {
			break
		}
	}
	return out, errors.Join(errs...)
}
