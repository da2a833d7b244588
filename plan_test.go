package webinfra_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

func samplePlan() webinfra.Plan {
	var p webinfra.Plan
	p.Add(
		webinfra.Change{
			Kind: "dns_record", ID: "www.example.com A", Action: webinfra.Create,
			After: webinfra.Fields{"content": "203.0.113.10", "ttl": 1, "proxied": true},
		},
		webinfra.Change{
			Kind: "dns_record", ID: "api.example.com CNAME", Action: webinfra.Update,
			Before: webinfra.Fields{"content": "old.example.com", "ttl": 300, "proxied": false},
			After:  webinfra.Fields{"content": "new.example.com", "ttl": 300, "proxied": true},
		},
		webinfra.Change{
			Kind: "smtp_relay", ID: "gmail", Action: webinfra.Update,
			Before:    webinfra.Fields{"password": "hunter2", "user": "a@example.com", "key": webinfra.NewSecret("k1")},
			After:     webinfra.Fields{"password": "hunter3", "user": "a@example.com", "key": webinfra.NewSecret("k2")},
			Sensitive: []string{"password"},
		},
		webinfra.Change{
			Kind: "dns_record", ID: "old.example.com TXT", Action: webinfra.Delete,
			Before: webinfra.Fields{"content": "v=spf1 -all", "tags": []string{"a", "b"}},
		},
	)
	return p
}

func TestPlanString(t *testing.T) {
	want := `+ dns_record www.example.com A
    content = "203.0.113.10"
    proxied = true
    ttl     = 1

~ dns_record api.example.com CNAME
    content = "old.example.com" -> "new.example.com"
    proxied = false -> true

~ smtp_relay gmail
    key      = (sensitive) -> (sensitive)
    password = (sensitive) -> (sensitive)

- dns_record old.example.com TXT
    content = "v=spf1 -all"
    tags    = ["a","b"]

Plan: 1 to create, 2 to update, 1 to delete.
`
	assert.Equal(t, want, samplePlan().String())
}

func TestChangeStringIsItsBlockOfThePlan(t *testing.T) {
	p := samplePlan()
	assert.Equal(t, "~ smtp_relay gmail\n    key      = (sensitive) -> (sensitive)\n    password = (sensitive) -> (sensitive)\n", p.Changes[2].String())
	var joined string
	for _, c := range p.Changes {
		joined += c.String() + "\n"
	}
	assert.Equal(t, p.String(), joined+p.Summary().String()+"\n")
}

func TestPlanStringNeverShowsSensitive(t *testing.T) {
	out := samplePlan().String()
	for _, leak := range []string{"hunter2", "hunter3", "k1", "k2"} {
		assert.NotContains(t, out, leak)
	}
}

func TestEmptyPlan(t *testing.T) {
	var p webinfra.Plan
	assert.True(t, p.Empty())
	assert.Equal(t, "No changes.\n", p.String())
	j, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"changes": [], "summary": {"create": 0, "update": 0, "delete": 0}}`, string(j))
}

func TestPlanJSON(t *testing.T) {
	p := samplePlan()
	j, err := json.Marshal(p)
	require.NoError(t, err)
	for _, leak := range []string{"hunter2", "hunter3", "k1", "k2"} {
		assert.NotContains(t, string(j), leak)
	}

	var got struct {
		Changes []struct {
			Kind      string          `json:"kind"`
			ID        string          `json:"id"`
			Action    webinfra.Action `json:"action"`
			Before    map[string]any  `json:"before"`
			After     map[string]any  `json:"after"`
			Sensitive []string        `json:"sensitive"`
		} `json:"changes"`
		Summary webinfra.Summary `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(j, &got))
	assert.Equal(t, webinfra.Summary{Create: 1, Update: 2, Delete: 1}, got.Summary)
	require.Len(t, got.Changes, 4)
	assert.Equal(t, webinfra.Create, got.Changes[0].Action)
	assert.Nil(t, got.Changes[0].Before)
	assert.Equal(t, "203.0.113.10", got.Changes[0].After["content"])
	assert.Equal(t, webinfra.Redacted, got.Changes[2].After["password"])
	assert.Equal(t, webinfra.Redacted, got.Changes[2].Before["key"])
	assert.Equal(t, "a@example.com", got.Changes[2].After["user"])
	assert.Equal(t, []string{"password"}, got.Changes[2].Sensitive)
	assert.Equal(t, webinfra.Delete, got.Changes[3].Action)

	// Redaction works on copies: the plan itself still holds the values Apply needs.
	assert.Equal(t, "hunter3", p.Changes[2].After["password"])
}

func TestPlanDecodesItsJSON(t *testing.T) {
	j, err := json.Marshal(samplePlan())
	require.NoError(t, err)
	var back webinfra.Plan
	require.NoError(t, json.Unmarshal(j, &back))
	assert.Equal(t, samplePlan().Summary(), back.Summary())
	assert.Equal(t, "www.example.com A", back.Changes[0].ID)
}

func TestActionText(t *testing.T) {
	for _, a := range []webinfra.Action{webinfra.Create, webinfra.Update, webinfra.Delete} {
		b, err := a.MarshalText()
		require.NoError(t, err)
		var back webinfra.Action
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, a, back)
	}
	_, err := webinfra.Action(0).MarshalText()
	assert.Error(t, err)
	var a webinfra.Action
	err = a.UnmarshalText([]byte("replace"))
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Equal(t, "Action(9)", webinfra.Action(9).String())
}

func TestChangeDiff(t *testing.T) {
	c := webinfra.Change{
		Action: webinfra.Update,
		Before: webinfra.Fields{"a": 1, "b": []string{"x"}, "gone": true},
		After:  webinfra.Fields{"a": 1, "b": []string{"y"}, "new": "v"},
	}
	assert.Equal(t, []string{"b", "gone", "new"}, c.Diff())
	assert.Equal(t, "k id", webinfra.Change{Kind: "k", ID: "id"}.Address())
}

func TestPlanAppend(t *testing.T) {
	var all webinfra.Plan
	all.Append(samplePlan(), webinfra.Plan{}, samplePlan())
	assert.Equal(t, webinfra.Summary{Create: 2, Update: 4, Delete: 2}, all.Summary())
}
