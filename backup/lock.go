package backup

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/webinfra/webinfra"
)

// LockInfo is the content of a lock object.
type LockInfo struct {
	// ID is unique per acquisition.
	ID string `json:"id"`
	// Host and Set name the locked set.
	Host string `json:"host"`
	Set  string `json:"set"`
	// Owner says what holds it ("snapshot", "prune" or the caller's word).
	Owner string `json:"owner"`
	// Hostname and PID identify the process holding it.
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
	// Created is when it was first written; Expires when it goes stale unless refreshed.
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Lock is a held lock on a set, kept fresh in the background until [Lock.Release]. It is safe
// for concurrent use.
//
// Acquiring checks for a live lock, writes a lock object of its own with a unique name and then
// lists again, and holds the lock only if its own object is the only live one; otherwise it
// removes its object and fails. Each run lists after its own write, so of two racers the one
// listing second sees the other's object: at most one wins (both may lose, and retry later).
// This holds on remotes whose listings are read-after-write consistent (local, Google Cloud
// Storage, S3 since 2020). On an eventually consistent listing (Drive can lag) two racers that miss each
// other's objects could both proceed; the lock then only guards against runs that start
// further apart than the listing lag.
type Lock struct {
	c      *Client
	f      fs.Fs
	remote string
	mu     sync.Mutex
	info   LockInfo
	err    error
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	halt   sync.Once
}

// stopRefresh ends the background refresh and waits for it; idempotent.
func (l *Lock) stopRefresh() {
	l.halt.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// AcquireLock takes the lock of the client's host and set, failing with a [*LockedError] when a
// live lock of another run exists. Locks past their expiry are stale: they are removed and do
// not block. The lock is refreshed every third of [Config.LockTTL] until released.
func (c *Client) AcquireLock(ctx context.Context, set, owner string) (*Lock, error) {
	if !nameRE.MatchString(set) {
		return nil, fmt.Errorf("backup: lock: bad set name %q: %w", set, webinfra.ErrInvalidArgument)
	}
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	ctx = rcloneCtx(ctx)
	host := c.cfg.Host
	if live, err := c.liveLocks(ctx, f, host, set); err != nil {
		return nil, err
	} else if len(live) > 0 {
		return nil, &LockedError{Holder: live[0]}
	}
	hostname, _ := os.Hostname()
	idb := make([]byte, 8)
	_, _ = rand.Read(idb)
	now := c.now()
	info := LockInfo{ID: hex.EncodeToString(idb), Host: host, Set: set, Owner: owner, Hostname: hostname,
		PID: os.Getpid(), Created: now, Expires: now.Add(c.cfg.LockTTL)}
	l := &Lock{c: c, f: f, info: info, remote: lockDir(host, set) + "/" + info.ID + ".json", stop: make(chan struct{})}
	if err := l.write(ctx); err != nil {
		return nil, err
	}
	live, err := c.liveLocks(ctx, f, host, set)
	if err != nil {
		_ = removeObject(context.WithoutCancel(ctx), f, l.remote)
		return nil, err
	}
	for _, other := range live {
		if other.ID != info.ID {
			// Any other live lock makes us back off, whoever wrote first: a rule such as
			// "earliest wins" would let a slow writer with an early timestamp win after a
			// faster one had already seen itself alone and started.
			_ = removeObject(context.WithoutCancel(ctx), f, l.remote)
			return nil, &LockedError{Holder: other}
		}
	}
	c.log.Debug("backup: lock acquired", "host", host, "set", set, "id", info.ID)
	l.wg.Go(l.refresh)
	return l, nil
}

func (l *Lock) write(ctx context.Context) error {
	l.mu.Lock()
	data, _ := json.Marshal(l.info)
	l.mu.Unlock()
	_, err := putBytes(ctx, l.f, l.remote, data, l.info.Created)
	return err
}

func (l *Lock) refresh() {
	every := l.c.cfg.LockTTL / 3
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(rcloneCtx(context.Background()), every)
			err := l.renew(ctx)
			cancel()
			if err != nil {
				l.mu.Lock()
				if l.err == nil {
					l.err = err
				}
				lost := errors.Is(err, ErrLockLost)
				l.mu.Unlock()
				if lost {
					return // never write a lock back that another run may have taken
				}
			}
		}
	}
}

// renew extends the lock, unless it is already lost: past its expiry (the process was paused,
// and another run may have taken the set since) or gone from the remote (another run removed
// it as stale). Writing it back then would claim a set someone else holds.
func (l *Lock) renew(ctx context.Context) error {
	l.mu.Lock()
	expired := !l.info.Expires.After(l.c.now())
	l.mu.Unlock()
	if expired {
		return fmt.Errorf("backup: lock %s: not refreshed before it expired: %w", l.info.ID, ErrLockLost)
	}
	if _, err := l.f.NewObject(ctx, l.remote); errors.Is(err, fs.ErrorObjectNotFound) {
		return fmt.Errorf("backup: lock %s: removed by another run: %w", l.info.ID, ErrLockLost)
	} else if err != nil {
		return fmt.Errorf("backup: refresh lock: %w", err)
	}
	l.mu.Lock()
	l.info.Expires = l.c.now().Add(l.c.cfg.LockTTL)
	l.mu.Unlock()
	if err := l.write(ctx); err != nil {
		return fmt.Errorf("backup: refresh lock: %w", err)
	}
	return nil
}

// Check reports whether the lock is still held, as a run must know before it commits: nil, or
// an error matching [ErrLockLost] when it expired unrefreshed, was removed, or another live lock
// exists (another run took the set while this one was paused), or the error of a failed
// refresh or listing. It reads the set's locks once.
func (l *Lock) Check(ctx context.Context) error {
	if err := l.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	info := l.info
	l.mu.Unlock()
	if !info.Expires.After(l.c.now()) {
		return fmt.Errorf("backup: lock %s: expired at %s: %w", info.ID, info.Expires.Format(time.RFC3339Nano), ErrLockLost)
	}
	live, err := l.c.liveLocks(rcloneCtx(ctx), l.f, info.Host, info.Set)
	if err != nil {
		return err
	}
	mine := false
	for _, o := range live {
		if o.ID != info.ID {
			return fmt.Errorf("backup: lock %s: %s (pid %d on %s) holds the set: %w", info.ID, o.Owner, o.PID, o.Hostname, ErrLockLost)
		}
		mine = true
	}
	if !mine {
		return fmt.Errorf("backup: lock %s: removed by another run: %w", info.ID, ErrLockLost)
	}
	return nil
}

// Err returns the error of a failed refresh, after which the lock may have expired and another
// run may hold the set; a run checks it before it commits anything.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Info returns the lock's current content.
func (l *Lock) Info() LockInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.info
}

// Release stops the refresh and removes the lock object. It is idempotent and works even when
// ctx is already cancelled (a cancelled snapshot still releases its lock).
func (l *Lock) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		l.stopRefresh()
		err = removeObject(rcloneCtx(context.WithoutCancel(ctx)), l.f, l.remote)
	})
	return err
}

// Locks lists the live (unexpired) locks of a set, winner first. host "" means the client's.
func (c *Client) Locks(ctx context.Context, host, set string) ([]LockInfo, error) {
	if host == "" {
		host = c.cfg.Host
	}
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	return c.liveLocks(rcloneCtx(ctx), f, host, set)
}

// liveLocks reads the set's lock objects, removes stale ones and returns the live ones in
// winner order. An object that does not decode (a lock being written) counts as live until
// its modification time is one TTL old.
func (c *Client) liveLocks(ctx context.Context, f fs.Fs, host, set string) ([]LockInfo, error) {
	objs, err := listObjects(ctx, f, lockDir(host, set))
	if err != nil {
		return nil, err
	}
	now := c.now()
	var live []LockInfo
	for remote, o := range objs {
		if !strings.HasSuffix(remote, ".json") {
			continue
		}
		data, err := readObject(ctx, f, remote, 1<<16)
		if err != nil {
			// Released between the listing and the read; backends do not all map that 404
			// to ErrorObjectNotFound on Open, so ask again.
			if _, err2 := f.NewObject(ctx, remote); errors.Is(err2, fs.ErrorObjectNotFound) {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		var info LockInfo
		if json.Unmarshal(data, &info) != nil {
			mt := o.ModTime(ctx)
			info = LockInfo{ID: strings.TrimSuffix(remote[strings.LastIndex(remote, "/")+1:], ".json"),
				Host: host, Set: set, Owner: "unknown (unreadable lock)", Created: mt, Expires: mt.Add(c.cfg.LockTTL)}
		}
		if !info.Expires.After(now) {
			c.log.Info("backup: removing stale lock", "host", host, "set", set, "id", info.ID, "expired", info.Expires)
			if err := removeObject(ctx, f, remote); err != nil {
				return nil, err
			}
			continue
		}
		live = append(live, info)
	}
	slices.SortFunc(live, func(a, b LockInfo) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	return live, nil
}
