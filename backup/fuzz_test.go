package backup_test

import (
	"bytes"
	"testing"

	"github.com/webinfra/webinfra/backup"
)

// FuzzDecodeManifest holds the decoder to its contract on any input: no panic, and whatever it
// accepts has only safe, sorted, relative paths and re-encodes to a manifest that decodes equal.
func FuzzDecodeManifest(f *testing.F) {
	f.Add(encode(f, sampleManifest()))
	f.Add(gz(`{"version":1,"host":"h","set":"s","time":"2026-01-01T00:00:00Z","entries":[]}`))
	f.Add(gz(`{"version":1,"host":"h","set":"s","time":"2026-01-01T00:00:00Z","entries":[{"path":"../x","type":"dir","mode":0,"uid":0,"gid":0,"mtime":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := backup.DecodeManifest(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, e := range m.Entries {
			if e.Path == "" || e.Path[0] == '/' || e.Path == ".." || (len(e.Path) > 2 && e.Path[:3] == "../") {
				t.Fatalf("accepted unsafe path %q", e.Path)
			}
			if i > 0 && m.Entries[i-1].Path >= e.Path {
				t.Fatalf("accepted unsorted paths")
			}
		}
		var buf bytes.Buffer
		if err := backup.EncodeManifest(&buf, m); err != nil {
			t.Fatal(err)
		}
		again, err := backup.DecodeManifest(&buf)
		if err != nil {
			t.Fatalf("re-encoded manifest does not decode: %v", err)
		}
		if len(again.Entries) != len(m.Entries) {
			t.Fatal("round trip changed the entries")
		}
	})
}

// FuzzParseSchedule: no panic, and an accepted schedule has a Next that moves forward or is
// zero.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"@every 1h", "@daily", "30 2 * * *", "*/5 1-3 1,15 * 0-6/2", "0 0 31 2 *", "* * * * 7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := backup.ParseSchedule(s)
		if err != nil {
			return
		}
		now := sampleManifest().Time
		if next := sc.Next(now); !next.IsZero() && !next.After(now) {
			t.Fatalf("%q: next %v not after %v", s, next, now)
		}
	})
}
