/*
Copyright 2026 The opbuilder Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opbuilder/opbuilder/runtime/testcluster"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
	// +kubebuilder:scaffold:imports
)

// The controllers are tested against a real control plane, started by the
// opbuilder runtime's testcluster package: etcd and kube-apiserver, plus
// kube-controller-manager (ReplicaSets, garbage collection, volume binding),
// kube-scheduler, and kwok, whose fake nodes take the pods and mark them
// Running and Ready. So rollouts, readiness and pruning happen as they do in
// a cluster, in seconds and without containers. `make test` builds the
// binaries once from the Go module proxy and sets KUBEBUILDER_ASSETS; to
// run the tests from an IDE, set it to the directory that
// `go run github.com/opbuilder/opbuilder/runtime/cmd/opbuilder-testbin` prints.

var (
	ctx       context.Context
	cancel    context.CancelFunc
	cluster   *testcluster.Cluster
	cfg       *rest.Config
	k8sClient client.Client
)

// The names the tests give the groups of a node type.
const (
	firstGroup  = "first"
	secondGroup = "second"
)

const (
	// reconcileTimeout bounds each wait for the controller. Gomega's
	// default of one second is too short for a manager that has just
	// started: its caches sync and its first pass creates every child,
	// which takes seconds on a busy CI machine.
	reconcileTimeout = 30 * time.Second
	// rolloutTimeout bounds each wait for a rollout: every node type in
	// turn creates or replaces its pods and waits for them to be Ready.
	rolloutTimeout = 2 * time.Minute
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)

	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))

	ctx, cancel = context.WithCancel(context.TODO())

	var err error
	err = datav1alpha1.AddToScheme(scheme.Scheme)
	Expect(err).NotTo(HaveOccurred())

	// +kubebuilder:scaffold:scheme

	By("starting a control plane with kwok nodes")
	cluster, err = testcluster.Start(ctx,
		testcluster.WithCRDs(filepath.Join("..", "..", "config", "crd", "bases")),
		testcluster.WithKwokNodes(3),
		// kwok nodes have no storage; this stands in for a provisioner, so
		// that pods with volume claims are scheduled.
		testcluster.WithVolumeProvisioner(),
	)
	Expect(err).NotTo(HaveOccurred())
	cfg = cluster.Config
	k8sClient = cluster.Client
})

var _ = AfterSuite(func() {
	By("stopping the control plane")
	cancel()
	if cluster != nil {
		Expect(cluster.Stop()).To(Succeed())
	}
})

// changedConfig returns a config file that no group has by default, so
// that setting it as one group's config is a change of that group alone.
func changedConfig() map[string]string {
	return map[string]string{"test.properties": "changed=true"}
}

// podUIDs returns the UID of every pod in namespace that matches labels and
// is not terminating, by pod name. A pod replaced by a rollout has a new UID
// even where, as in a StatefulSet, its name stays.
func podUIDs(namespace string, labels client.MatchingLabels) map[string]types.UID {
	var pods corev1.PodList
	Expect(k8sClient.List(ctx, &pods, client.InNamespace(namespace), labels)).To(Succeed())
	uids := make(map[string]types.UID, len(pods.Items))
	for _, pod := range pods.Items {
		if pod.DeletionTimestamp == nil {
			uids[pod.Name] = pod.UID
		}
	}
	return uids
}
