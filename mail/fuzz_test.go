package mail

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/emersion/go-msgauth/dmarc"
)

func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 include:_spf.google.com ~all",                         // Workspace's
		"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 -all",      // addresses and cidr
		"v=spf1 a:mail.example.com/24//64 mx:example.com//48 ?all",    // dual cidr
		"v=spf1 exists:%{i}.bl.example.com redirect=_spf.example.com", // macro, redirect
		"V=SPF1 +PTR -ALL exp=explain.%{d}",                           // case, deprecated ptr
		"v=spf1 foo=bar include:x.example",                            // unknown modifier
		"v=spf1 ip4:300.1.1.1 -all",                                   // bad address
		"v=spf1 ip4:192.0.2.0/033",                                    // leading zero
		"v=spf1 redirect=a.example redirect=b.example",                // twice
		"v=spf1 include:",                                             // missing spec
		"v=spf10",                                                     // wrong version
		"",                                                            // empty
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseSPF(s)
		if err != nil {
			return
		}
		again, err := ParseSPF(rec.String())
		if err != nil {
			t.Fatalf("formatted record %q does not parse: %v", rec.String(), err)
		}
		if !reflect.DeepEqual(rec, again) {
			t.Fatalf("round trip changed the record: %#v != %#v", rec, again)
		}
	})
}

func FuzzParseDKIMKey(f *testing.F) {
	for _, s := range []string{
		"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB", // RFC 6376 A.2
		"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", // RFC 8463 A.2
		"k=rsa; t=y:s; h=sha256; p=",                                         // revoked, flags
		"v=DKIM1; p=!!!",                                                     // not base64
		"p=abc; v=DKIM1",                                                     // v not first
		"v=DKIM1; k=dsa; p=AAAA",                                             // unknown type
		"v=DKIM1; v=DKIM1; p=",                                               // duplicate tag
		"v=DKIM1;; p=",                                                       // empty tag
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseDKIMKey(s)
		if err != nil && err != ErrKeyRevoked {
			return
		}
		again, err2 := ParseDKIMKey(rec.String())
		if err2 != err {
			t.Fatalf("formatted record %q: %v, want %v", rec.String(), err2, err)
		}
		if again.KeyType != rec.KeyType || again.Bits != rec.Bits || !reflect.DeepEqual(again.Flags, rec.Flags) {
			t.Fatalf("round trip changed the record: %q", rec.String())
		}
	})
}

func FuzzParseMTASTS(f *testing.F) {
	for _, s := range []string{"v=STSv1; id=20160831085700Z;", "v=STSv1;id=abc", "id=1; v=STSv1", "v=STSv1; id=toolongtoolongtoolongtoolongtoolong", "v=STSv1; id=a-b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseMTASTS(s)
		if err != nil {
			return
		}
		again, err := ParseMTASTS(rec.String())
		if err != nil || *again != *rec {
			t.Fatalf("round trip of %q: %v", rec.String(), err)
		}
	})
}

func FuzzParseMTASTSPolicy(f *testing.F) {
	for _, s := range []string{
		"version: STSv1\r\nmode: enforce\r\nmx: smtp.google.com\r\nmax_age: 604800\r\n",
		"version: STSv1\nmode: testing\nmx: *.aspmx.l.google.com\nmx: aspmx.l.google.com\nmax_age: 86400\n",
		"version: STSv1\nmode: none\nmax_age: 0\n",
		"version: STSv1\nmode: enforce\nmax_age: 1\n",           // no mx
		"version: STSv1\nmode: enforce\nmode: none\nmax_age: 1", // repeated key
		"version: STSv1\nmode: enforce\nmx: x.com\nmax_age: 99999999999",
		"garbage",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseMTASTSPolicy(s)
		if err != nil {
			return
		}
		again, err := ParseMTASTSPolicy(p.String())
		if err != nil || !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip of %q: %v", p.String(), err)
		}
	})
}

func FuzzParseTLSRPT(f *testing.F) {
	for _, s := range []string{"v=TLSRPTv1; rua=mailto:tls@example.com", "v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/x", "v=TLSRPTv1", "rua=mailto:a@b.com; v=TLSRPTv1", "v=TLSRPTv1; rua=ftp://x.example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseTLSRPT(s)
		if err != nil {
			return
		}
		again, err := ParseTLSRPT(rec.String())
		if err != nil || !reflect.DeepEqual(rec, again) {
			t.Fatalf("round trip of %q: %v", rec.String(), err)
		}
	})
}

// FuzzDomain decodes a desired state from JSON; whatever validates must render records that
// the parsers (ours, and go-msgauth's for DMARC) accept.
func FuzzDomain(f *testing.F) {
	for _, s := range []string{
		`{"domain":"example.com"}`,
		`{"domain":"example.com","mx":"legacy","spf":{"includes":["mailgun.org"],"ip4":["192.0.2.0/24"],"all":"-"},"dmarc":{"policy":"reject","rua":["mailto:d@example.com"],"pct":20},"mta_sts":{"mode":"enforce"},"tls_rpt":{"rua":["mailto:t@example.com"]}}`,
		`{"domain":"example.com","dkim":{"selector":"s1","txt":"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}}`,
		`{"domain":"x","spf":{"all":"+"}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Domain
		if json.Unmarshal([]byte(s), &d) != nil {
			return
		}
		recs, err := d.Records()
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.Type != "TXT" {
				continue
			}
			var perr error
			switch {
			case r.Name == d.name():
				_, perr = ParseSPF(r.Content)
			case r.Name == "_dmarc."+d.name():
				_, perr = dmarc.Parse(r.Content)
			case r.Name == "_mta-sts."+d.name():
				_, perr = ParseMTASTS(r.Content)
			case r.Name == "_smtp._tls."+d.name():
				_, perr = ParseTLSRPT(r.Content)
			default:
				_, perr = ParseDKIMKey(r.Content)
			}
			if perr != nil {
				t.Fatalf("record %s does not parse: %v", r, perr)
			}
		}
		if p, ok := d.MTASTSPolicy(); ok {
			if _, err := ParseMTASTSPolicy(p); err != nil {
				t.Fatalf("policy %q does not parse: %v", p, err)
			}
		}
	})
}
