//go:build tools

// Package tools pins the syncthing command so that go mod tidy keeps its dependencies.
package tools

import _ "github.com/syncthing/syncthing/cmd/syncthing"
