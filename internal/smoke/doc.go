// Package smoke holds one smoke test per real component the SDK's tests drive (syncthing,
// traefik, kube-apiserver with etcd, tincd, clamscan): each starts the real program on loopback,
// or inside a namespace the test owns, and checks that it answers. When a component breaks, these
// say which one before the larger suites fail in confusing ways.
//
// The binaries come from scripts/testbin.sh; a missing one skips the test locally and fails it
// under CI=true.
package smoke
