package security_test

import (
	"strings"
	"testing"

	"github.com/webinfra/webinfra/security"
)

func FuzzParseOdscan(f *testing.F) {
	f.Add([]byte(`name="/srv/a", threat="Eicar test file", action="cleaned by deleting", info=""` + "\n"))
	f.Add([]byte("Scan started\nname=\"/x\\\\y\", threat=\"\", action=\"\", info=\"Error opening file\"\n"))
	f.Add([]byte(`name="unterminated`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := security.ParseOdscan(data)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.Name == "" {
				t.Fatalf("record without a name from %q", data)
			}
			// A record re-quoted parses back to itself.
			line := "name=" + security.QuoteOdscan(r.Name) + ", threat=" + security.QuoteOdscan(r.Threat) + ", action=" + security.QuoteOdscan(r.Action) + ", info=" + security.QuoteOdscan(r.Info)
			if strings.ContainsAny(line, "\n\r") {
				continue
			}
			back, err := security.ParseOdscan([]byte(line))
			if err != nil || len(back) != 1 || back[0] != r {
				t.Fatalf("round trip of %+v: %v %+v", r, err, back)
			}
		}
	})
}

func FuzzParseClamdReply(f *testing.F) {
	for _, s := range []string{"PONG", "1: stream: OK", "/a b: Eicar FOUND", "2: /x: Access denied. ERROR", "INSTREAM size limit exceeded. ERROR", "ClamAV 1.4.6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := security.ParseClamdReply(s)
		if err != nil {
			return
		}
		switch r.Status {
		case "", "OK", "FOUND", "ERROR":
		default:
			t.Fatalf("status %q", r.Status)
		}
		if r.ID < 0 {
			t.Fatalf("negative id")
		}
	})
}

func FuzzDecodeLandscape(f *testing.F) {
	f.Add([]byte(`{"count":1,"results":[{"id":3,"hostname":"n1","tags":["web"],"reboot_required_flag":true}],"next":null}`))
	f.Add([]byte(`[{"id":1,"title":"t"}]`))
	f.Add([]byte(`{"id":71666950,"activity_status":"canceled","children":[{"id":2,"activity_status":"succeeded"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if cs, err := security.DecodeComputers(data); err == nil {
			for _, c := range cs {
				_ = c.Hostname
			}
		}
		if a, err := security.DecodeActivity(data); err == nil && a.Succeeded() && !a.Done() {
			t.Fatalf("succeeded but not done: %+v", a)
		}
	})
}

func TestParseClamdReply(t *testing.T) {
	cases := map[string]security.ClamdReply{
		"PONG":                                {Detail: "PONG"},
		"3: stream: OK":                       {ID: 3, Path: "stream", Status: "OK"},
		"/a: b: Eicar FOUND":                  {Path: "/a: b", Status: "FOUND", Detail: "Eicar"},
		"/x: Access denied. ERROR":            {Path: "/x", Status: "ERROR", Detail: "Access denied"},
		"INSTREAM size limit exceeded. ERROR": {Status: "ERROR", Detail: "INSTREAM size limit exceeded"},
	}
	for in, want := range cases {
		got, err := security.ParseClamdReply(in)
		if err != nil || got != want {
			t.Errorf("%q: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := security.ParseClamdReply(""); err == nil {
		t.Error("empty reply parsed")
	}
}
