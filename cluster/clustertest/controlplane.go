// Package clustertest helps test code that uses package cluster: a real control plane
// (kube-apiserver and etcd from .testbin, started with controller-runtime's envtest), shared by a
// test package through TestMain.
package clustertest

import (
	"fmt"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/webinfra/webinfra/internal/testbin"
)

// ControlPlane is a kube-apiserver with its etcd. There is no scheduler, controller manager or
// kubelet: pods stay where their spec.nodeName puts them, and nothing reconciles.
type ControlPlane struct {
	env *envtest.Environment
	cfg *rest.Config
	err error
}

// StartControlPlane starts a control plane (about 3 s). It never fails outright: when the
// binaries are missing or the start fails, [ControlPlane.Config] reports it to each test, which
// then skips locally or fails under CI=true. Call it from TestMain and Stop it after m.Run.
func StartControlPlane() *ControlPlane {
	api, err := testbin.Find("kube-apiserver")
	if err != nil {
		return &ControlPlane{err: err}
	}
	dir := filepath.Dir(api)
	if _, err := testbin.Find("etcd"); err != nil {
		return &ControlPlane{err: err}
	}
	env := &envtest.Environment{BinaryAssetsDirectory: dir}
	cfg, err := env.Start()
	if err != nil {
		return &ControlPlane{err: fmt.Errorf("clustertest: start control plane: %w", err)}
	}
	return &ControlPlane{env: env, cfg: cfg}
}

// Config returns a REST config for the control plane, or stops the test when there is none.
func (cp *ControlPlane) Config(t testing.TB) *rest.Config {
	t.Helper()
	if cp == nil || cp.err != nil {
		reason := "clustertest: no control plane (StartControlPlane not called)"
		if cp != nil {
			reason = cp.err.Error()
		}
		testbin.Missing(t, reason)
	}
	return rest.CopyConfig(cp.cfg)
}

// Stop stops the control plane; it is safe on a control plane that did not start.
func (cp *ControlPlane) Stop() error {
	if cp == nil || cp.env == nil {
		return nil
	}
	return cp.env.Stop()
}
