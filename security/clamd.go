package security

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The clamd protocol is written here by hand: no well-kept Go library for it exists in the
// module proxy (the few clamd clients there are unmaintained and lack IDSESSION), and the
// protocol is small: NUL-terminated commands ("z" prefix), NUL-terminated replies, INSTREAM data
// as 4-byte big-endian length-prefixed chunks ending with a zero length, and IDSESSION, which
// keeps one connection open for many commands and prefixes each reply with "<id>: ". Reference:
// clamd(8), "COMMANDS" section, ClamAV 1.4.

// ClamdMode says who reads the files during a clamd scan.
type ClamdMode string

const (
	// ClamdStream makes this process read each file and send it with INSTREAM: clamd may run
	// elsewhere and needs no access to the files. The default.
	ClamdStream ClamdMode = "stream"
	// ClamdLocal sends the file's path with SCAN: clamd reads the file itself, so it must run on
	// the same host with permission to read it. Files clamd cannot read are reported as
	// [FileError]s ("Access denied").
	ClamdLocal ClamdMode = "local"
)

// ClamdConfig configures a [Clamd] client.
type ClamdConfig struct {
	// Network is "unix" (LocalSocket) or "tcp" (TCPSocket); "" means "unix".
	Network string
	// Address is the socket path or host:port; required.
	Address string
	// Streams is the number of connections (IDSESSION sessions) a scan uses in parallel; 0 means 4.
	// Keep it at or below clamd's MaxThreads (default 10).
	Streams int
	// Mode says who reads the files; "" means [ClamdStream].
	Mode ClamdMode
	// ChunkSize is the INSTREAM chunk size in bytes; 0 means 64 KiB.
	ChunkSize int
	// Timeout bounds each command (connect, send, reply); 0 means 2 minutes.
	Timeout time.Duration
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// Clamd scans through a clamd daemon's socket. It implements [Scanner] and is safe for
// concurrent use; it holds no connection between calls.
type Clamd struct {
	cfg ClamdConfig
	log *slog.Logger
}

var _ Scanner = (*Clamd)(nil)

// NewClamd checks cfg and fills defaults; it does no network I/O (use [Clamd.Ping]).
func NewClamd(cfg ClamdConfig) (*Clamd, error) {
	if cfg.Network == "" {
		cfg.Network = "unix"
	}
	if cfg.Network != "unix" && cfg.Network != "tcp" {
		return nil, fmt.Errorf("security: clamd network %q: want unix or tcp: %w", cfg.Network, errInvalid)
	}
	if cfg.Address == "" {
		return nil, fmt.Errorf("security: clamd address is required: %w", errInvalid)
	}
	if cfg.Streams == 0 {
		cfg.Streams = 4
	}
	if cfg.Streams < 0 {
		return nil, fmt.Errorf("security: clamd streams %d: must be positive: %w", cfg.Streams, errInvalid)
	}
	if cfg.Mode == "" {
		cfg.Mode = ClamdStream
	}
	if cfg.Mode != ClamdStream && cfg.Mode != ClamdLocal {
		return nil, fmt.Errorf("security: clamd mode %q: want stream or local: %w", cfg.Mode, errInvalid)
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = 64 << 10
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	return &Clamd{cfg: cfg, log: orDiscard(cfg.Logger).With("pkg", "security", "engine", "clamd")}, nil
}

// ClamdReply is one parsed clamd reply line.
type ClamdReply struct {
	// ID is the request number inside an IDSESSION; 0 outside one.
	ID int
	// Path is the scanned path, "stream" for INSTREAM, "" when the reply names none.
	Path string
	// Status is "OK", "FOUND", "ERROR", or "" for replies without one (PONG, VERSION).
	Status string
	// Detail is the threat name for FOUND, the reason for ERROR, the whole text otherwise.
	Detail string
}

// ParseClamdReply parses one reply (without its terminating NUL), e.g.
// "3: /srv/a: Eicar-Signature FOUND", "/srv/b: Access denied. ERROR", "PONG". It never fails on
// text clamd might send; an empty reply is an error.
func ParseClamdReply(s string) (ClamdReply, error) {
	s = strings.TrimRight(s, "\x00\n")
	if s == "" {
		return ClamdReply{}, errors.New("security: empty clamd reply")
	}
	var r ClamdReply
	if head, rest, ok := strings.Cut(s, ": "); ok {
		if n, err := strconv.Atoi(head); err == nil && n > 0 {
			r.ID, s = n, rest
		}
	}
	switch {
	case strings.HasSuffix(s, " FOUND"):
		r.Status = "FOUND"
		s = strings.TrimSuffix(s, " FOUND")
	case strings.HasSuffix(s, " ERROR"):
		r.Status = "ERROR"
		s = strings.TrimSuffix(s, " ERROR")
	case strings.HasSuffix(s, ": OK") || s == "OK":
		r.Status = "OK"
		s = strings.TrimSuffix(s, "OK")
		s = strings.TrimSuffix(s, ": ")
		r.Path = s
		return r, nil
	default:
		r.Detail = s
		return r, nil
	}
	// Threat names and reasons hold no ": ", paths may: split at the last one.
	if i := strings.LastIndex(s, ": "); i >= 0 {
		r.Path, r.Detail = s[:i], s[i+2:]
	} else {
		r.Detail = s
	}
	r.Detail = strings.TrimSuffix(r.Detail, ".")
	return r, nil
}

// session is one clamd connection in IDSESSION mode.
type session struct {
	c    *Clamd
	conn net.Conn
	rd   *bufio.Reader
	next int
	// broken is set when a stream was cut off mid-way: clamd still waits for chunks, so the
	// connection cannot carry another command.
	broken bool
}

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: c.cfg.Timeout}
	conn, err := d.DialContext(ctx, c.cfg.Network, c.cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("security: clamd %s: %w: %w", c.cfg.Address, ErrScannerFailed, err)
	}
	return conn, nil
}

func (c *Clamd) deadline(ctx context.Context, conn net.Conn) {
	dl := time.Now().Add(c.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = conn.SetDeadline(dl)
}

// command sends one command on a fresh connection and returns the reply.
func (c *Clamd) command(ctx context.Context, cmd string) (string, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.deadline(ctx, conn)
	if _, err := conn.Write([]byte("z" + cmd + "\x00")); err != nil {
		return "", c.ioErr(ctx, cmd, err)
	}
	reply, err := bufio.NewReader(conn).ReadString(0)
	if err != nil && !(errors.Is(err, io.EOF) && reply != "") {
		return "", c.ioErr(ctx, cmd, err)
	}
	return strings.TrimRight(reply, "\x00"), nil
}

func (c *Clamd) ioErr(ctx context.Context, cmd string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("security: clamd %s: %w", cmd, ctx.Err())
	}
	return fmt.Errorf("security: clamd %s: %w: %w", cmd, ErrScannerFailed, err)
}

// Ping checks that clamd answers (PING → PONG).
func (c *Clamd) Ping(ctx context.Context) error {
	r, err := c.command(ctx, "PING")
	if err != nil {
		return err
	}
	if r != "PONG" {
		return fmt.Errorf("security: clamd PING answered %q: %w", r, ErrScannerFailed)
	}
	return nil
}

// Version returns clamd's version line ("ClamAV 1.4.6" or "ClamAV 1.4.6/27000/...").
func (c *Clamd) Version(ctx context.Context) (string, error) { return c.command(ctx, "VERSION") }

func (c *Clamd) openSession(ctx context.Context) (*session, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.deadline(ctx, conn)
	if _, err := conn.Write([]byte("zIDSESSION\x00")); err != nil {
		conn.Close()
		return nil, c.ioErr(ctx, "IDSESSION", err)
	}
	return &session{c: c, conn: conn, rd: bufio.NewReader(conn)}, nil
}

func (s *session) close() {
	_, _ = s.conn.Write([]byte("zEND\x00"))
	_ = s.conn.Close()
}

// roundTrip sends a command (with an optional INSTREAM body) and reads its reply.
func (s *session) roundTrip(ctx context.Context, cmd string, body io.Reader) (ClamdReply, error) {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s.c.deadline(ctx, s.conn)
	s.next++
	w := bufio.NewWriterSize(s.conn, s.c.cfg.ChunkSize+4)
	if _, err := w.WriteString("z" + cmd + "\x00"); err != nil {
		return ClamdReply{}, s.c.ioErr(ctx, cmd, err)
	}
	if body != nil {
		if err := writeChunks(w, body, s.c.cfg.ChunkSize); err != nil {
			return ClamdReply{}, err
		}
	}
	if err := w.Flush(); err != nil {
		return ClamdReply{}, s.c.ioErr(ctx, cmd, err)
	}
	line, err := s.rd.ReadString(0)
	if err != nil {
		return ClamdReply{}, s.c.ioErr(ctx, cmd, err)
	}
	r, err := ParseClamdReply(line)
	if err != nil {
		return r, fmt.Errorf("%w: %w", ErrUnexpectedOutput, err)
	}
	if r.ID != s.next {
		return r, fmt.Errorf("security: clamd reply %q to request %d: %w", line, s.next, ErrUnexpectedOutput)
	}
	return r, nil
}

// fileReadError marks an error reading the file being streamed: the file's problem, not clamd's.
type fileReadError struct{ err error }

func (e *fileReadError) Error() string { return e.err.Error() }
func (e *fileReadError) Unwrap() error { return e.err }

// writeChunks writes body as INSTREAM chunks and the terminating zero-length chunk.
func writeChunks(w io.Writer, body io.Reader, size int) error {
	buf := make([]byte, 4+size)
	for {
		n, err := io.ReadFull(body, buf[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf[:4], uint32(n))
			if _, werr := w.Write(buf[:4+n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return &fileReadError{err}
		}
	}
	_, err := w.Write([]byte{0, 0, 0, 0})
	return err
}

// ScanStream scans the bytes of r with one INSTREAM command and returns clamd's verdict.
func (c *Clamd) ScanStream(ctx context.Context, r io.Reader) (ClamdReply, error) {
	s, err := c.openSession(ctx)
	if err != nil {
		return ClamdReply{}, err
	}
	defer s.close()
	return s.roundTrip(ctx, "INSTREAM", r)
}

// Scan implements [Scanner]: it walks the paths itself (skipping symbolic links and excluded
// paths) and scans each regular file over a bounded pool of cfg.Streams sessions. A file this
// process cannot open (stream mode) or clamd cannot read (local mode) is a [FileError]; a session
// that breaks is re-opened once, and a second failure ends the scan with [ErrScannerFailed].
func (c *Clamd) Scan(ctx context.Context, paths []string, opts *ScanOptions) (*Report, error) {
	if opts == nil {
		opts = &ScanOptions{}
	}
	rep := &Report{Engine: "clamd", Paths: slices.Clone(paths), Started: time.Now()}
	var mu sync.Mutex
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	files := make(chan string)
	var wg sync.WaitGroup
	for range c.cfg.Streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s *session
			defer func() {
				if s != nil {
					s.close()
				}
			}()
			for p := range files {
				var f *Finding
				var fe *FileError
				var err error
				for attempt := 0; attempt < 2; attempt++ {
					if s == nil {
						if s, err = c.openSession(ctx); err != nil {
							continue
						}
					}
					f, fe, err = c.scanOne(ctx, s, p)
					if err == nil {
						if s.broken {
							s.conn.Close()
							s = nil
						}
						break
					}
					s.conn.Close()
					s = nil
				}
				mu.Lock()
				switch {
				case err != nil:
					cancel(err)
				case f != nil:
					rep.Findings = append(rep.Findings, *f)
				case fe != nil:
					rep.Errors = append(rep.Errors, *fe)
				}
				rep.Scanned++
				mu.Unlock()
			}
		}()
	}
	walkErr := walkFiles(ctx, paths, opts.Exclude, func(p string) error {
		select {
		case files <- p:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}, func(p string, err error) {
		mu.Lock()
		rep.Errors = append(rep.Errors, FileError{Path: p, Msg: err.Error()})
		mu.Unlock()
	})
	close(files)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if walkErr != nil {
		return nil, walkErr
	}
	rep.Finished = time.Now()
	sortReport(rep)
	c.log.Debug("scan done", "files", rep.Scanned, "findings", len(rep.Findings), "errors", len(rep.Errors))
	return rep, nil
}

// scanOne scans one file on a session; err is a session failure (to retry), fe the file's.
func (c *Clamd) scanOne(ctx context.Context, s *session, p string) (*Finding, *FileError, error) {
	var r ClamdReply
	var err error
	if c.cfg.Mode == ClamdLocal {
		r, err = s.roundTrip(ctx, "SCAN "+p, nil)
	} else {
		f, oerr := os.Open(p)
		if oerr != nil {
			return nil, &FileError{Path: p, Msg: oerr.Error()}, nil
		}
		r, err = s.roundTrip(ctx, "INSTREAM", f)
		f.Close()
		var rerr *fileReadError
		if errors.As(err, &rerr) {
			s.broken = true
			return nil, &FileError{Path: p, Msg: rerr.Error()}, nil
		}
	}
	if err != nil {
		return nil, nil, err
	}
	switch r.Status {
	case "OK":
		return nil, nil, nil
	case "FOUND":
		return &Finding{Path: p, Threat: r.Detail, Engine: "clamd"}, nil, nil
	case "ERROR":
		return nil, &FileError{Path: p, Msg: r.Detail}, nil
	}
	return nil, nil, fmt.Errorf("security: clamd reply %q for %s: %w", r.Detail, p, ErrUnexpectedOutput)
}

func sortReport(r *Report) {
	slices.SortFunc(r.Findings, func(a, b Finding) int { return strings.Compare(a.Path+"\x00"+a.Threat, b.Path+"\x00"+b.Threat) })
	slices.SortFunc(r.Errors, func(a, b FileError) int { return strings.Compare(a.Path+"\x00"+a.Msg, b.Path+"\x00"+b.Msg) })
}
