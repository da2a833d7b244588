package backup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/webinfra/webinfra"
)

// Config configures a [Client].
type Config struct {
	// Remote is where snapshots live: an rclone connection string, a local absolute path, or
	// "name:path" of a remote defined in RcloneConfig (see [Policy.Remote]). Required.
	Remote string
	// RcloneConfig is the path of an rclone.conf for a named Remote; "" means none.
	RcloneConfig string
	// Encryption is [EncryptionCrypt] (what "" means) or [EncryptionNone]. With crypt, Key is
	// required and every object (contents, names, manifests, locks) goes through rclone's crypt
	// backend over Remote; none must be named explicitly and takes no Key.
	Encryption string
	// Key is the passphrase the snapshots are encrypted with. Losing it loses the backups; a
	// different key finds no snapshots. It never appears in errors or logs.
	Key webinfra.Secret
	// Host is the host name snapshots are filed under; "" means os.Hostname, lower-cased.
	Host string
	// Transfers is how many files are hashed, uploaded or downloaded at once; 0 means 4.
	Transfers int
	// LockTTL is how long a lock stays valid without a refresh; it is refreshed every third of
	// it while a run goes on. 0 means 5 minutes.
	LockTTL time.Duration
	// Clock returns the current time; nil means time.Now. Snapshot IDs and lock expiry use it.
	Clock func() time.Time
	// Progress, if set, receives progress reports every ProgressInterval and once at the end
	// of each phase. It is called from one goroutine at a time and must not block for long.
	Progress func(Progress)
	// ProgressInterval is the reporting period; 0 means 500ms.
	ProgressInterval time.Duration
	// TempDir holds hook outputs while a snapshot runs; "" means os.TempDir.
	TempDir string
	// Logger receives the package's logs; nil discards them. rclone itself logs through its own
	// global logger, which this package quiets to errors for its own calls.
	Logger *slog.Logger
}

// Client makes, lists, verifies, restores and prunes the snapshots on one remote. It is safe
// for concurrent use; runs on the same set exclude each other through the remote lock.
type Client struct {
	cfg    Config
	conn   string
	log    *slog.Logger
	mu     sync.Mutex
	remote fs.Fs
	// beforeRead, set only by tests, runs before a snapshot reads a file (to hash it, then to
	// upload it), so that a test can change or remove it at exactly that point.
	beforeRead func(src string)
	// beforeCommit, set only by tests, runs when a snapshot has uploaded everything and is
	// about to check its lock and write its manifest.
	beforeCommit func(*Lock)
}

// New validates cfg and fills defaults. It does no I/O: the remote is opened on first use (or
// by [Client.Check]). A named remote's rclone.conf is read at that point, not here.
func New(cfg Config) (*Client, error) {
	var errs webinfra.ValidationError
	validateRemote(webinfra.NewPath("remote"), cfg.Remote, cfg.RcloneConfig, &errs)
	if cfg.RcloneConfig != "" && !path.IsAbs(cfg.RcloneConfig) {
		errs.Invalid(webinfra.NewPath("rcloneConfig"), cfg.RcloneConfig, "not an absolute path")
	}
	validateEncryption(webinfra.Path{}, cfg.Encryption, cfg.Key, &errs)
	if cfg.Host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("backup: host name: %w", err)
		}
		cfg.Host = hostLabel(h)
	}
	if !nameRE.MatchString(cfg.Host) {
		errs.Invalid(webinfra.NewPath("host"), cfg.Host, "want 1-63 of [a-z0-9._-], starting with a letter or digit")
	}
	if cfg.Transfers < 0 {
		errs.Invalid(webinfra.NewPath("transfers"), cfg.Transfers, "negative")
	}
	if cfg.LockTTL < 0 {
		errs.Invalid(webinfra.NewPath("lockTTL"), cfg.LockTTL, "negative")
	}
	if cfg.ProgressInterval < 0 {
		errs.Invalid(webinfra.NewPath("progressInterval"), cfg.ProgressInterval, "negative")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if cfg.Transfers == 0 {
		cfg.Transfers = 4
	}
	if cfg.LockTTL == 0 {
		cfg.LockTTL = 5 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.ProgressInterval == 0 {
		cfg.ProgressInterval = 500 * time.Millisecond
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Client{cfg: cfg, log: log}, nil
}

// Host returns the host name the client files snapshots under.
func (c *Client) Host() string { return c.cfg.Host }

// Check opens the remote and lists its root, so a wrong connection string or credentials show
// up before a run. Errors wrap rclone's.
func (c *Client) Check(ctx context.Context) error {
	f, err := c.fs(ctx)
	if err != nil {
		return err
	}
	if _, err := f.List(ctx, ""); err != nil && err != fs.ErrorDirNotFound {
		return fmt.Errorf("backup: list remote %q: %w", RedactRemote(c.cfg.Remote), err)
	}
	return nil
}

// fs opens the remote once; later calls reuse it.
func (c *Client) fs(ctx context.Context) (fs.Fs, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remote != nil {
		return c.remote, nil
	}
	conn, err := ConnectionString(c.cfg.Remote, c.cfg.RcloneConfig)
	if err != nil {
		return nil, err
	}
	if c.encrypted() {
		if conn, err = CryptConnectionString(conn, c.cfg.Key); err != nil {
			return nil, err
		}
	}
	f, err := fs.NewFs(rcloneCtx(ctx), conn)
	if err == fs.ErrorIsFile {
		return nil, fmt.Errorf("backup: remote %q is a file: %w", RedactRemote(c.cfg.Remote), webinfra.ErrInvalidArgument)
	}
	if err != nil {
		return nil, fmt.Errorf("backup: open remote %q: %w", RedactRemote(c.cfg.Remote), err)
	}
	c.conn, c.remote = conn, f
	return f, nil
}

// rcloneCtx gives rclone a per-call configuration: quiet logs, no global flags leaking in.
func rcloneCtx(ctx context.Context) context.Context {
	ctx, ci := fs.AddConfig(ctx)
	ci.LogLevel = fs.LogLevelError
	return ctx
}

// encrypted reports whether the client's objects go through rclone's crypt backend.
func (c *Client) encrypted() bool { return c.cfg.Encryption != EncryptionNone }

// Encrypted reports whether the client encrypts what it stores ([Config.Encryption]).
func (c *Client) Encrypted() bool { return c.encrypted() }

func (c *Client) now() time.Time { return c.cfg.Clock().UTC() }

// hostLabel turns a host name into a set-name-like label: its first DNS label, lower-cased.
func hostLabel(h string) string {
	for i, r := range h {
		if r == '.' {
			h = h[:i]
			break
		}
	}
	b := []byte(h)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}
