package replicationtest

import (
	"math"
	"strings"
)

// What Syncthing v1.30.0 (lib/config) does to a folder it is given by PUT, POST or PATCH of
// /rest/config/folders, copied here so the fake stores what the real server stores.

// folderTagDefaults are the FolderConfiguration fields with a `default:` struct tag.
// FolderConfiguration.UnmarshalJSON calls structutil.SetDefaults before decoding, so every
// decode, a PATCH over the existing folder included, first resets these fields: a PATCH that
// does not name one of them sets it back to this value.
var folderTagDefaults = map[string]any{
	"filesystemType":      "basic",
	"rescanIntervalS":     3600.0,
	"fsWatcherEnabled":    true,
	"fsWatcherDelayS":     10.0,
	"autoNormalize":       true,
	"minDiskFree":         object{"value": 1.0, "unit": "%"},
	"maxConflicts":        10.0,
	"maxConcurrentWrites": 2.0,
	"copyRangeMethod":     "standard",
}

// resetDefaults returns base with the tag-defaulted fields reset, as SetDefaults does.
func resetDefaults(base object) object {
	out := clone(base)
	if out == nil {
		out = object{}
	}
	for k, v := range folderTagDefaults {
		if o, ok := v.(object); ok {
			v = clone(o)
		}
		out[k] = v
	}
	return out
}

// Limits of FolderConfiguration.prepare.
const (
	maxRescanIntervalS       = 365 * 24 * 60 * 60
	maxConcurrentWritesLimit = 64
)

// folderTypes maps what FolderType.UnmarshalText accepts to the name Syncthing stores: the
// pre-1.0 names too; anything else is sendreceive.
var folderTypes = map[string]string{
	"readwrite": "sendreceive", "sendreceive": "sendreceive",
	"readonly": "sendonly", "sendonly": "sendonly",
	"receiveonly":      "receiveonly",
	"receiveencrypted": "receiveencrypted",
}

// pullOrders are what PullOrder.UnmarshalText accepts; anything else is random.
var pullOrders = map[string]bool{"random": true, "alphabetic": true, "smallestFirst": true,
	"largestFirst": true, "oldestFirst": true, "newestFirst": true}

// knownFolderFields are the JSON fields of FolderConfiguration; encoding/json drops the rest
// without an error, so they never come back from a GET.
var knownFolderFields = func() map[string]bool {
	m := map[string]bool{}
	for k := range mustObject(defaultFolderJSON) {
		m[k] = true
	}
	return m
}()

// normaliseFolder rewrites o as Syncthing's decoding and FolderConfiguration.prepare do:
// unknown fields dropped, enumerations mapped, intervals clamped, zero values defaulted. The
// path is kept as given (Syncthing does not clean it).
func normaliseFolder(o object) object {
	for k := range o {
		if !knownFolderFields[k] {
			delete(o, k)
		}
	}
	t, _ := o["type"].(string)
	if o["type"] = folderTypes[t]; o["type"] == "" {
		o["type"] = "sendreceive"
	}
	if ord, _ := o["order"].(string); !pullOrders[ord] {
		o["order"] = "random"
	}
	num := func(k string) float64 { f, _ := o[k].(float64); return f }
	o["rescanIntervalS"] = math.Min(math.Max(num("rescanIntervalS"), 0), maxRescanIntervalS)
	if d := num("fsWatcherDelayS"); d <= 0 {
		o["fsWatcherEnabled"] = false
		o["fsWatcherDelayS"] = 10.0
	} else if d < 0.01 {
		o["fsWatcherDelayS"] = 0.01
	}
	if v, ok := o["versioning"].(object); ok {
		c, _ := v["cleanupIntervalS"].(float64)
		v["cleanupIntervalS"] = math.Min(math.Max(c, 0), maxRescanIntervalS)
	}
	if num("weakHashThresholdPct") == 0 {
		o["weakHashThresholdPct"] = 25.0
	}
	if m, _ := o["markerName"].(string); m == "" {
		o["markerName"] = ".stfolder"
	}
	switch w := num("maxConcurrentWrites"); {
	case w <= 0:
		o["maxConcurrentWrites"] = 2.0
	case w > maxConcurrentWritesLimit:
		o["maxConcurrentWrites"] = float64(maxConcurrentWritesLimit)
	}
	if o["type"] == "receiveencrypted" {
		o["disableTempIndexes"] = true
		o["ignorePerms"] = true
	}
	return o
}

// canonicalFolderKeys renames body's keys to the folder field they decode into: encoding/json
// matches a key to a field case-insensitively when no field has exactly that name.
func canonicalFolderKeys(body object) object {
	out := object{}
	for k, v := range body {
		if !knownFolderFields[k] {
			for f := range knownFolderFields {
				if strings.EqualFold(f, k) {
					k = f
					break
				}
			}
		}
		out[k] = v
	}
	return out
}
