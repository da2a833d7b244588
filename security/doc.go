// Package security scans server file systems (ESET, or ClamAV where ESET is absent) and keeps the
// operating systems updated through Canonical Landscape, rolling updates through the cluster one
// node at a time.
//
// The content of this package arrives with its own issue; for now it states the scope.
package security
