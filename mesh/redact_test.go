package mesh

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/testutil"
)

// Every mesh value that holds a node's private keys prints none of their bytes under any verb,
// through slog or JSON, alone or inside other values.
func TestMeshKeysNeverPrint(t *testing.T) {
	rsaKey, err := GenerateRSAKey(2048)
	require.NoError(t, err)
	ed, err := GenerateEd25519Key(nil)
	require.NoError(t, err)
	rsaPEM := MarshalRSAPrivateKey(rsaKey)
	edPEM := ed.MarshalPrivate()
	forms := append(testutil.KeyForms(t, rsaKey), testutil.BytesForms(ed.m.private[:32])...)
	forms = append(forms, testutil.BytesForms(ed.m.private[32:])...)
	forms = append(forms, testutil.BytesForms(rsaPEM[40:80])...)
	forms = append(forms, testutil.BytesForms(edPEM[40:80])...)
	forms = append(forms, string(edPEM[40:80]), string(rsaPEM[40:80]))

	keyFile := File{Path: FileRSAKey, Data: rsaPEM, Mode: 0o600}
	edFile := File{Path: FileEd25519Key, Data: edPEM, Mode: 0o600}
	np := NodePlan{Node: "a", Put: []File{keyFile, edFile}, Action: ActionRestart,
		before: summarize(map[string]File{FileRSAKey: keyFile, FileEd25519Key: edFile})}
	keys := Keys{RSA: rsaKey, Ed25519: ed}

	for name, tc := range map[string]struct {
		v            any
		exportedOnly bool // holds key bytes in an exported field (File.Data, Keys.RSA)
	}{
		"*Ed25519Key":    {v: ed},
		"Ed25519Key":     {v: *ed},
		"Keys":           {v: keys},
		"*Keys":          {v: &keys},
		"map of Keys":    {v: map[string]Keys{"a": keys}},
		"File":           {v: keyFile, exportedOnly: true},
		"Ed25519 File":   {v: edFile, exportedOnly: true},
		"[]File":         {v: []File{keyFile, edFile}, exportedOnly: true},
		"NodePlan":       {v: np, exportedOnly: true},
		"*Rollout":       {v: &Rollout{Nodes: []NodePlan{np}}, exportedOnly: true},
		"Rollout.Plan()": {v: (&Rollout{Nodes: []NodePlan{np}}).Plan()},
	} {
		t.Run(name, func(t *testing.T) {
			testutil.AssertRedacted(t, tc.v, forms, &testutil.RedactOptions{ExportedFieldsOnly: tc.exportedOnly})
		})
	}
	assert.Equal(t, "mesh.Keys{RSA: "+webinfra.Redacted+", Ed25519: "+webinfra.Redacted+"}", (Keys{RSA: rsaKey, Ed25519: ed}).String())
}
