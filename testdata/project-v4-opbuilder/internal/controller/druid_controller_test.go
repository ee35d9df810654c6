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
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/opbuilder/opbuilder/runtime/cachescope"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

// startDruidManager runs the Druid controller in a manager set up like
// cmd/main.go's, against the suite's control plane, until the returned function
// is called.
func startDruidManager() context.CancelFunc {
	cacheOptions, err := cachescope.Options(&datav1alpha1.Druid{}, cachescope.WithManagedBy(FieldOwner))
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme.Scheme,
		Cache:                  cacheOptions,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Every test container starts a manager of its own.
		Controller: config.Controller{SkipNameValidation: new(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect((&DruidReconciler{
		Client: mgr.GetClient(),
		Scheme: mgr.GetScheme(),
	}).SetupWithManager(mgr)).To(Succeed())

	mgrCtx, stop := context.WithCancel(ctx)
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	return stop
}

// newDruid returns a Druid named name in the default namespace, with
// one group of every node type.
func newDruid(name string) *datav1alpha1.Druid {
	return &datav1alpha1.Druid{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: datav1alpha1.DruidSpec{
			Image:          "apache/druid:34.0.0",
			Historicals:    []datav1alpha1.HistoricalSpec{{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}}},
			Middlemanagers: []datav1alpha1.MiddlemanagerSpec{{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}}},
			Brokers:        []datav1alpha1.BrokerSpec{{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}}},
			Coordinators:   []datav1alpha1.CoordinatorSpec{{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}}},
			Routers:        []datav1alpha1.RouterSpec{{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}}},
			// +opbuilder:scaffold:sample-nodetypes
		},
	}
}

// waitUntilDruidRolledOut waits until druid's current generation has
// rolled out: every node type runs it and is available, which is when
// status.observedGeneration catches up and Ready is True. It leaves the
// latest druid in druid.
func waitUntilDruidRolledOut(druid *datav1alpha1.Druid) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(druid), druid)).To(Succeed())
		g.Expect(druid.Status.ObservedGeneration).To(Equal(druid.Generation), "the rollout has not settled")
		g.Expect(meta.IsStatusConditionTrue(druid.Status.Conditions, "Ready")).To(BeTrue(), "the Druid is not Ready")
	}).WithTimeout(rolloutTimeout).Should(Succeed())
}

var _ = Describe("Druid Controller", Ordered, func() {
	var stop context.CancelFunc
	BeforeAll(func() { stop = startDruidManager() })
	AfterAll(func() { stop() })

	It("reports every node type of a new Druid in its status", func() {
		druid := newDruid("druid-controller-test")
		Expect(k8sClient.Create(ctx, druid)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, druid)).To(Succeed()) })

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(druid), druid)).To(Succeed())
			// Ready's observedGeneration says that a pass has seen this
			// generation, long before its pods are up.
			g.Expect(meta.FindStatusCondition(druid.Status.Conditions, "Ready")).To(
				HaveField("ObservedGeneration", druid.Generation))
			reported := make([]string, 0, len(druid.Status.NodeTypes))
			for _, nodeType := range druid.Status.NodeTypes {
				reported = append(reported, nodeType.Name)
			}
			g.Expect(reported).To(ConsistOf(druid.DeploymentOrder()))
		}).WithTimeout(reconcileTimeout).Should(Succeed())
	})

	It("makes the sample Druid Ready", func() {
		sample, err := os.Open(filepath.Join("..", "..", "config/samples/data_v1alpha1_druid.yaml"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(sample.Close)
		druid := &datav1alpha1.Druid{}
		Expect(yaml.NewYAMLOrJSONDecoder(sample, 4096).Decode(druid)).To(Succeed())
		druid.Namespace = "default"

		Expect(k8sClient.Create(ctx, druid)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, druid)).To(Succeed()) })
		waitUntilDruidRolledOut(druid)
	})
})
