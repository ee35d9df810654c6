// Package testenv holds what the runtime's integration suites share: the
// scheme with the test CRD, one control plane per test binary started on
// first use, and a namespace per test.
package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// Scheme returns a new scheme with client-go's types and the test CRD's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(fmt.Sprintf("testenv: client-go scheme: %v", err))
	}
	if err := testv1.AddToScheme(s); err != nil {
		panic(fmt.Sprintf("testenv: test API scheme: %v", err))
	}
	return s
}

// Shared is one control plane for all integration tests of a test binary,
// started by the first test that asks for it, so unit tests in the same
// package run without the control-plane binaries.
type Shared struct {
	options func() ([]testcluster.Option, error)

	once    sync.Once
	cluster *testcluster.Cluster
	err     error
}

// NewShared returns a Shared whose control plane starts with the options
// that options returns (computed once, on first use).
func NewShared(options func() ([]testcluster.Option, error)) *Shared {
	return &Shared{options: options}
}

// Cluster returns the running control plane, starting it on first use. An
// integration test is skipped under -short, and fails if the control plane
// cannot start.
func (s *Shared) Cluster(t testing.TB) *testcluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the control-plane binaries")
	}
	s.once.Do(func() {
		var opts []testcluster.Option
		if opts, s.err = s.options(); s.err != nil {
			return
		}
		s.cluster, s.err = testcluster.Start(context.Background(), opts...)
	})
	if s.err != nil {
		t.Fatalf("starting the test cluster: %v", s.err)
	}
	return s.cluster
}

// Main runs the tests and then stops the control plane if one was started;
// call it from TestMain as os.Exit(shared.Main(m)).
func (s *Shared) Main(m *testing.M) int {
	code := m.Run()
	if s.cluster != nil {
		if err := s.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the test cluster:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Namespace creates a namespace named prefix plus a random suffix for one
// test and deletes it when the test ends.
func Namespace(t testing.TB, c client.Client, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prefix + rand.String(6)}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatalf("creating namespace %s: %v", ns.Name, err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), ns) })
	return ns.Name
}
