// Package backuptest has what tests of the backup package and its users need: remotes to back
// up to (a local directory, an in-process fake Google Cloud Storage), trees with owners, modes,
// times, symlinks and extended attributes to back up, a tree comparison, and RunConformance,
// the suite every supported remote must pass.
package backuptest

import (
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// LocalRemote returns a fresh local remote (an absolute directory under t.TempDir()).
func LocalRemote(t testing.TB) string {
	t.Helper()
	return t.TempDir()
}

// GCS is an in-process fake Google Cloud Storage (fake-gcs-server) on a loopback port, holding
// one bucket. It keeps objects in memory and, like the real service, stores no file mode or
// ownership. Close stops it; it is safe for concurrent use.
type GCS struct {
	// Server is the fake, for inspecting or changing objects behind the client's back.
	Server *fakestorage.Server
	// Bucket is the bucket created at start.
	Bucket string
	once   sync.Once
	http   *httptest.Server
	url    string
}

// NewGCS starts a fake with an empty bucket. Use it where no testing.TB is at hand (examples,
// benchmarks' setup); tests use [StartGCS].
func NewGCS(bucket string) (*GCS, error) {
	// The fake writes its own address into each object's download link (mediaLink), which
	// rclone follows; with Port 0 it would not know that address, so the listener comes first
	// and the fake is told its URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("backuptest: listen for fake GCS: %w", err)
	}
	base := "http://" + ln.Addr().String()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", NoListener: true, ExternalURL: base, PublicHost: ln.Addr().String(), Writer: io.Discard,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("backuptest: start fake GCS: %w", err)
	}
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	hs := httptest.NewUnstartedServer(srv.HTTPHandler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	return &GCS{Server: srv, Bucket: bucket, http: hs, url: base}, nil
}

// StartGCS starts a fake GCS with bucket "backups", stopped by t.Cleanup.
func StartGCS(t testing.TB) *GCS {
	t.Helper()
	g, err := NewGCS("backups")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// Remote returns the rclone connection string of prefix inside the bucket, for rclone's
// googlecloudstorage backend talking anonymously to the fake.
func (g *GCS) Remote(prefix string) string {
	endpoint := g.url + "/storage/v1/"
	return fmt.Sprintf(`:googlecloudstorage,anonymous=true,bucket_policy_only=true,no_check_bucket=true,endpoint="%s":%s/%s`,
		endpoint, g.Bucket, strings.Trim(prefix, "/"))
}

// Close stops the server. It is idempotent.
func (g *GCS) Close() {
	g.once.Do(func() { g.http.Close(); g.Server.Stop() })
}

// URL returns the fake's base URL ("http://127.0.0.1:port").
func (g *GCS) URL() string { return g.url }
