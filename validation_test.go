package webinfra_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

func TestPathString(t *testing.T) {
	root := webinfra.NewPath("sites")
	tests := []struct {
		path webinfra.Path
		want string
	}{
		{webinfra.Path{}, ""},
		{root, "sites"},
		{root.Index(2), "sites[2]"},
		{root.Index(2).Child("hosts").Index(0), "sites[2].hosts[0]"},
		{webinfra.NewPath("nodes").Key("fw-1").Child("roles"), "nodes[fw-1].roles"},
		{webinfra.NewPath("mesh", "subnet"), "mesh.subnet"},
		{webinfra.Path{}.Child("a").Index(1).Index(2), "a[1][2]"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.path.String())
	}
}

func TestPathIsImmutable(t *testing.T) {
	parent := webinfra.NewPath("sites").Index(0)
	a := parent.Child("host")
	b := parent.Child("service")
	assert.Equal(t, "sites[0].host", a.String())
	assert.Equal(t, "sites[0].service", b.String())
	assert.Equal(t, "sites[0]", parent.String())
}

func TestValidationErrorSortsDedupsAndRenders(t *testing.T) {
	var v webinfra.ValidationError
	require.NoError(t, v.Err(), "no problems gives a nil error")

	sites := webinfra.NewPath("sites")
	v.Invalid(sites.Index(2).Child("host"), "exa mple.com", "not a hostname")
	v.Required(webinfra.NewPath("mesh", "subnet"))
	v.Invalid(sites.Index(2).Child("host"), "exa mple.com", "not a hostname")
	v.Duplicate(webinfra.NewPath("nodes").Index(3).Child("name"), "fw-1", webinfra.NewPath("nodes").Index(0).Child("name"))
	v.NotSupported(webinfra.NewPath("nodes").Index(1).Child("roles").Index(0), "router", []string{"firewall", "worker"})
	v.Addf(webinfra.NewPath("sites").Index(0).Child("replicas"), 5, "above the %d eligible nodes", 3)

	err := v.Err()
	require.Error(t, err)
	assert.Equal(t, `mesh.subnet: required
nodes[1].roles[0]: invalid value "router": supported values: "firewall", "worker"
nodes[3].name: invalid value "fw-1": duplicate of nodes[0].name
sites[0].replicas: invalid value "5": above the 3 eligible nodes
sites[2].host: invalid value "exa mple.com": not a hostname`, err.Error())
	assert.Equal(t, 5, v.Len())
}

func TestValidationErrorMerge(t *testing.T) {
	var inner webinfra.ValidationError
	inner.Invalid(webinfra.NewPath("port"), 70000, "out of range 1-65535")
	inner.Invalid(webinfra.Path{}.Index(0), "x", "bad")

	var outer webinfra.ValidationError
	outer.Merge(webinfra.NewPath("mesh"), inner.Err())
	outer.Merge(webinfra.NewPath("other"), errors.New("plain failure"))
	outer.Merge(webinfra.NewPath("none"), nil)

	assert.Equal(t, `mesh.port: invalid value "70000": out of range 1-65535
mesh[0]: invalid value "x": bad
other: plain failure`, outer.Err().Error())
}

func TestValidationValueRedactsSecrets(t *testing.T) {
	var v webinfra.ValidationError
	v.Invalid(webinfra.NewPath("token"), webinfra.NewSecret("abc"), "too short")
	assert.Equal(t, `token: invalid value "(sensitive)": too short`, v.Err().Error())
}

func TestValidationDistinguishesEmptyValueFromNone(t *testing.T) {
	var v webinfra.ValidationError
	v.Invalid(webinfra.NewPath("host"), "", "not a hostname")
	v.Required(webinfra.NewPath("host"))
	v.Add(webinfra.NewPath("host"), nil, "not a hostname")
	err := v.Err()
	assert.Equal(t, `host: not a hostname
host: invalid value "": not a hostname
host: required`, err.Error())
	require.Len(t, v.Errors, 3, "an empty value and no value are different problems")
	assert.Nil(t, v.Errors[0].Value)
	require.NotNil(t, v.Errors[1].Value)
	assert.Equal(t, "", *v.Errors[1].Value)
}
