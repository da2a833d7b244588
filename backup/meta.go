package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"
)

// names caches uid/gid to name lookups (and back) for one run: a tree has few owners and many
// files, and os/user reads /etc/passwd on every call.
type names struct {
	mu     sync.Mutex
	users  map[uint32]string
	groups map[uint32]string
	uids   map[string]int
	gids   map[string]int
}

func newNames() *names {
	return &names{users: map[uint32]string{}, groups: map[uint32]string{}, uids: map[string]int{}, gids: map[string]int{}}
}

func (n *names) user(uid uint32) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	name, ok := n.users[uid]
	if !ok {
		if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
			name = u.Username
		}
		n.users[uid] = name
	}
	return name
}

func (n *names) group(gid uint32) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	name, ok := n.groups[gid]
	if !ok {
		if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
			name = g.Name
		}
		n.groups[gid] = name
	}
	return name
}

// uid resolves a user name on this host; -1 when it does not resolve.
func (n *names) uid(name string) int {
	if name == "" {
		return -1
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	id, ok := n.uids[name]
	if !ok {
		id = -1
		if u, err := user.Lookup(name); err == nil {
			id, _ = strconv.Atoi(u.Uid)
		}
		n.uids[name] = id
	}
	return id
}

func (n *names) gid(name string) int {
	if name == "" {
		return -1
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	id, ok := n.gids[name]
	if !ok {
		id = -1
		if g, err := user.LookupGroup(name); err == nil {
			id, _ = strconv.Atoi(g.Gid)
		}
		n.gids[name] = id
	}
	return id
}

// entryFromInfo fills an entry's metadata from an lstat result; ok is false for special files
// (devices, sockets, FIFOs), which snapshots leave out.
func entryFromInfo(abs, rel string, fi fs.FileInfo, nm *names) (Entry, bool, error) {
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st == nil {
		return Entry{}, false, fmt.Errorf("backup: %q: no stat data", abs)
	}
	e := Entry{
		Path: rel, Mode: uint32(st.Mode) & 0o7777, UID: st.Uid, GID: st.Gid,
		User: nm.user(st.Uid), Group: nm.group(st.Gid),
		MTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec).UTC(),
		CTime: st.Ctim.Sec*1e9 + st.Ctim.Nsec, Inode: st.Ino,
	}
	switch {
	case fi.Mode().IsRegular():
		e.Type, e.Size = TypeFile, fi.Size()
	case fi.IsDir():
		e.Type = TypeDir
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(abs)
		if err != nil {
			return Entry{}, false, fmt.Errorf("backup: read link %q: %w", abs, err)
		}
		e.Type, e.Target = TypeSymlink, target
	default:
		return Entry{}, false, nil
	}
	attrs, err := readXattrs(abs)
	if err != nil {
		return Entry{}, false, err
	}
	e.Xattrs = attrs
	return e, true, nil
}

func readXattrs(abs string) (map[string][]byte, error) {
	list, err := xattr.LList(abs)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: list xattrs of %q: %w", abs, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(list))
	for _, name := range list {
		v, err := xattr.LGet(abs, name)
		if err != nil {
			return nil, fmt.Errorf("backup: read xattr %q of %q: %w", name, abs, err)
		}
		out[name] = v
	}
	return out, nil
}

// metaPolicy is what a restore applies of the metadata a manifest records. A manifest is
// untrusted input (anyone who can write to the remote can change it) and restores commonly run
// as root, so by default the bits and attributes that grant privilege are left out, as tar does
// without --same-permissions and --xattrs-include.
type metaPolicy struct {
	nm      *names
	owner   bool     // apply ownership (root)
	numeric bool     // recorded ids win over names
	setID   bool     // keep setuid, and setgid on non-directories
	xattrs  []string // path.Match patterns of attribute names allowed beyond the defaults
	// stripped counts entries restored without some recorded bit or attribute.
	stripped atomic.Int64
}

// defaultXattrs are restored without opt-in: user attributes and POSIX ACLs, which grant no
// more than the file's owner could grant by hand. security.* (file capabilities, SELinux
// labels) and trusted.* are not.
var defaultXattrs = []string{"user.*", "system.posix_acl_access", "system.posix_acl_default"}

func (mp *metaPolicy) allowXattr(name string) bool {
	for _, pats := range [][]string{defaultXattrs, mp.xattrs} {
		for _, p := range pats {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
	}
	return false
}

// mode returns the permission bits to apply: without setID, setuid goes everywhere and
// setgid on everything but directories (where it only makes new files inherit the group).
func (mp *metaPolicy) mode(e *Entry) (mode uint32, stripped bool) {
	mode = e.Mode
	if mp.setID {
		return mode, false
	}
	drop := uint32(unix.S_ISUID)
	if e.Type != TypeDir {
		drop |= unix.S_ISGID
	}
	return mode &^ drop, mode&drop != 0
}

// applyMeta re-applies an entry's ownership, mode, extended attributes and modification time to
// the file at p, in that order: chown clears setuid/setgid bits, so the mode comes after it,
// and any write resets the times, so they come last. Ownership is applied only when mp.owner
// is set (root); names that resolve on this host win over the numeric ids unless mp.numeric.
func applyMeta(p string, e *Entry, mp *metaPolicy) error {
	stripped := false
	if mp.owner {
		uid, gid := int(e.UID), int(e.GID)
		if !mp.numeric {
			if id := mp.nm.uid(e.User); id >= 0 {
				uid = id
			}
			if id := mp.nm.gid(e.Group); id >= 0 {
				gid = id
			}
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return fmt.Errorf("backup: chown %q: %w", p, err)
		}
	}
	if e.Type != TypeSymlink {
		mode, s := mp.mode(e)
		stripped = stripped || s
		if err := unix.Fchmodat(unix.AT_FDCWD, p, mode, 0); err != nil {
			return fmt.Errorf("backup: chmod %q: %w", p, err)
		}
	}
	for name, v := range e.Xattrs {
		if !mp.allowXattr(name) {
			stripped = true
			continue
		}
		if err := xattr.LSet(p, name, v); err != nil {
			return fmt.Errorf("backup: set xattr %q of %q: %w", name, p, err)
		}
	}
	if stripped {
		mp.stripped.Add(1)
	}
	ts := unix.NsecToTimespec(e.MTime.UnixNano())
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("backup: set times of %q: %w", p, err)
	}
	return nil
}
