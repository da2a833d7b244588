package mail

import (
	"fmt"
	"strings"
)

// Record is one DNS record the domain needs, in the shape of the cloudflare package's desired
// records so that examples convert it field by field:
//
//	cloudflare.Record{Name: r.Name, Type: cloudflare.RecordType(r.Type), Content: r.Content,
//		Priority: r.Priority, TTL: r.TTL}
type Record struct {
	// Name is the fully qualified owner name, lower case, without the trailing dot:
	// "_dmarc.example.com".
	Name string `json:"name"`
	// Type is "MX" or "TXT".
	Type string `json:"type"`
	// Content is the record data in zone-file form without quoting: the exchange host for MX
	// (no trailing dot), the whole text for TXT (DNS servers split text over 255 characters
	// into several strings; [Record.RR] does).
	Content string `json:"content"`
	// Priority is the MX preference; 0 for other types.
	Priority int `json:"priority,omitempty"`
	// TTL is in seconds; 0 means the publisher's default (automatic on Cloudflare).
	TTL int `json:"ttl,omitempty"`
}

// String renders "name TYPE [priority] content", the record's identity in logs.
func (r Record) String() string {
	if r.Type == "MX" {
		return fmt.Sprintf("%s MX %d %s", r.Name, r.Priority, r.Content)
	}
	return fmt.Sprintf("%s %s %s", r.Name, r.Type, r.Content)
}

// RR renders the record as a zone-file line that github.com/miekg/dns parses (dns.NewRR),
// with TXT text split into quoted strings of at most 255 bytes. A TTL of 0 renders as 300.
func (r Record) RR() string {
	ttl := r.TTL
	if ttl == 0 {
		ttl = 300
	}
	switch r.Type {
	case "MX":
		return fmt.Sprintf("%s. %d IN MX %d %s.", r.Name, ttl, r.Priority, r.Content)
	case "TXT":
		return fmt.Sprintf("%s. %d IN TXT %s", r.Name, ttl, quoteTXT(r.Content))
	default:
		return fmt.Sprintf("%s. %d IN %s %s", r.Name, ttl, r.Type, r.Content)
	}
}

// quoteTXT splits text into 255-byte character-strings, quoted and escaped for a zone file.
func quoteTXT(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, s[:255])
		s = s[255:]
	}
	parts = append(parts, s)
	for i, p := range parts {
		p = strings.ReplaceAll(p, `\`, `\\`)
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `\"`) + `"`
	}
	return strings.Join(parts, " ")
}
