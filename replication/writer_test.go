package replication_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
)

func TestFolderTypes(t *testing.T) {
	p := replication.Placement{"web": {"b", "a", "c"}}
	got, err := replication.FolderTypes(p, "web", "a")
	require.NoError(t, err)
	assert.Equal(t, map[string]replication.FolderType{"a": replication.SendReceive, "b": replication.ReceiveOnly, "c": replication.ReceiveOnly}, got)

	got, err = replication.FolderTypes(p, "web", "")
	require.NoError(t, err)
	assert.Equal(t, map[string]replication.FolderType{"a": replication.ReceiveOnly, "b": replication.ReceiveOnly, "c": replication.ReceiveOnly}, got)

	_, err = replication.FolderTypes(p, "mail", "a")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = replication.FolderTypes(p, "web", "z")
	assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), `active host "z" holds no replica`)
}

func TestResolveFolderTypes(t *testing.T) {
	p := replication.Placement{"web": {"b", "a"}}
	got, err := replication.ResolveFolderTypes(t.Context(), p, replication.PrimaryHost(p), "web")
	require.NoError(t, err)
	assert.Equal(t, replication.WriterType, got["b"])
	assert.Equal(t, replication.ReceiveOnly, got["a"])

	_, err = replication.PrimaryHost(p).ActiveHost(t.Context(), "mail")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)

	lease := replication.ActiveHostFunc(func(ctx context.Context, folder string) (string, error) { return "a", ctx.Err() })
	got, err = replication.ResolveFolderTypes(t.Context(), p, lease, "web")
	require.NoError(t, err)
	assert.Equal(t, replication.WriterType, got["a"])

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = replication.ResolveFolderTypes(ctx, p, lease, "web")
	assert.ErrorIs(t, err, context.Canceled)
}
