package cloudflare

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// wireRecord is a DNS record as Cloudflare's API sends and takes it. The batch body is built
// from it rather than from cloudflare-go's generated union types, which need one Go type per
// record type and operation for the same JSON.
type wireRecord struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Content  string          `json:"content,omitempty"`
	TTL      int             `json:"ttl"`
	Proxied  *bool           `json:"proxied,omitempty"`
	Priority *int            `json:"priority,omitempty"`
	Comment  string          `json:"comment"`
	Tags     []string        `json:"tags"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// toWire renders a record for a batch post or patch.
func toWire(r Record, id string) (wireRecord, error) {
	w := wireRecord{ID: id, Name: r.Name, Type: string(r.Type), TTL: r.TTL, Comment: r.Comment, Tags: r.Tags}
	if w.Tags == nil {
		w.Tags = []string{}
	}
	switch r.Type {
	case TypeA, TypeAAAA, TypeCNAME:
		proxied := r.Proxied
		w.Proxied = &proxied
		w.Content = r.Content
	case TypeMX:
		if r.Priority == nil {
			return w, fmt.Errorf("MX record %q without a priority", r.Name)
		}
		prio := int(*r.Priority)
		w.Priority = &prio
		w.Content = r.Content
	case TypeSRV:
		d, err := parseSRV(r.Content)
		if err != nil {
			return w, err
		}
		if r.Priority == nil {
			return w, fmt.Errorf("SRV record %q without a priority", r.Name)
		}
		w.Data, _ = json.Marshal(map[string]any{"priority": *r.Priority, "weight": d.Weight, "port": d.Port, "target": d.Target})
	case TypeCAA:
		d, err := parseCAA(r.Content)
		if err != nil {
			return w, err
		}
		w.Data, _ = json.Marshal(d)
	default:
		w.Content = r.Content
	}
	return w, nil
}

// fromWire reads a record Cloudflare returned. SRV and CAA content is rebuilt from data, the
// form Cloudflare keeps authoritative for them.
func fromWire(raw []byte) (wireRecord, Record, error) {
	var w wireRecord
	if err := json.Unmarshal(raw, &w); err != nil {
		return w, Record{}, fmt.Errorf("decode record: %w", err)
	}
	r := Record{Name: w.Name, Type: RecordType(strings.ToUpper(w.Type)), Content: w.Content, TTL: w.TTL, Comment: w.Comment, Tags: slices.Clone(w.Tags)}
	if w.Proxied != nil {
		r.Proxied = *w.Proxied
	}
	if w.Priority != nil && *w.Priority >= 0 && *w.Priority <= 65535 {
		r.Priority = new(uint16(*w.Priority))
	}
	switch r.Type {
	case TypeSRV:
		var d struct {
			Priority *int   `json:"priority"`
			Weight   int    `json:"weight"`
			Port     int    `json:"port"`
			Target   string `json:"target"`
		}
		if len(w.Data) > 0 && json.Unmarshal(w.Data, &d) == nil {
			if d.Priority != nil && *d.Priority >= 0 && *d.Priority <= 65535 {
				r.Priority = new(uint16(*d.Priority))
			}
			r.Content = srvData{Weight: d.Weight, Port: d.Port, Target: d.Target}.content()
		}
	case TypeCAA:
		var d caaData
		if len(w.Data) > 0 && json.Unmarshal(w.Data, &d) == nil {
			r.Content = d.content()
		}
	}
	return w, r, nil
}
