package security

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// SignLegacy returns the signed query string of a legacy Landscape API call: params plus
// access_key_id, signature_method=HmacSHA256, signature_version=2 and timestamp (UTC, ISO 8601),
// and signature = base64(HMAC-SHA256(secret, "METHOD\nhost\npath\ncanonical-query")), where the
// canonical query is the parameters sorted by name, RFC 3986-escaped, joined with "&" — the
// scheme of AWS signature version 2 that the legacy API uses ("How to use the legacy API via
// HTTPS requests"). The host is lower-cased.
func SignLegacy(method, host, path string, params url.Values, accessKey string, secret webinfra.Secret, now time.Time) string {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("access_key_id", accessKey)
	q.Set("signature_method", "HmacSHA256")
	q.Set("signature_version", "2")
	q.Set("timestamp", now.UTC().Format("2006-01-02T15:04:05Z"))
	canon := CanonicalQuery(q)
	mac := hmac.New(sha256.New, []byte(secret.Reveal()))
	mac.Write([]byte(strings.ToUpper(method) + "\n" + strings.ToLower(host) + "\n" + path + "\n" + canon))
	return canon + "&signature=" + escape3986(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

// CanonicalQuery sorts the parameters by name (then value) and escapes them per RFC 3986
// (unreserved characters A-Z a-z 0-9 - _ . ~ kept, everything else %XX upper-case).
func CanonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, escape3986(k)+"="+escape3986(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func escape3986(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// VerifyLegacy checks a signed legacy query as a server would: the signature over the other
// parameters with the given secret. It returns the access key and whether the signature holds.
func VerifyLegacy(method, host, path string, q url.Values, secret webinfra.Secret) (string, bool) {
	sig := q.Get("signature")
	rest := url.Values{}
	for k, v := range q {
		if k != "signature" {
			rest[k] = v
		}
	}
	mac := hmac.New(sha256.New, []byte(secret.Reveal()))
	mac.Write([]byte(strings.ToUpper(method) + "\n" + strings.ToLower(host) + "\n" + path + "\n" + CanonicalQuery(rest)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return q.Get("access_key_id"), hmac.Equal([]byte(sig), []byte(want))
}
