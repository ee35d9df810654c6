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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/keys"

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

// druidNodeTypeTest tells the specs that every node type of a Druid runs
// (itDruid...) what they cannot know by themselves: the node type's
// field in the spec and the objects of one of its groups. Each node type's
// test file fills one in.
type druidNodeTypeTest struct {
	// name is the node type's name, the component label of its objects.
	name string
	// setGroups replaces the node type's groups in druid with groups of
	// these names.
	setGroups func(druid *datav1alpha1.Druid, names ...string)
	// setConfig replaces the config files of the node type's i-th group.
	setConfig func(druid *datav1alpha1.Druid, i int, config map[string]string)
	// groupObjects returns the objects the controller makes for one group,
	// each holding only its name and namespace.
	groupObjects func(druid *datav1alpha1.Druid, group string) []client.Object
}

// newDruidWith returns a Druid named name whose node type nt has two
// groups, firstGroup and secondGroup.
func newDruidWith(name string, nt druidNodeTypeTest) *datav1alpha1.Druid {
	druid := newDruid(name)
	nt.setGroups(druid, firstGroup, secondGroup)
	return druid
}

// itDruidCreatesEveryGroup: the objects of each group of nt exist,
// controlled by the Druid and labelled with the node type and group.
func itDruidCreatesEveryGroup(nt druidNodeTypeTest) {
	It("creates the objects of every "+nt.name+" group, owned by the Druid", func() {
		druid := newDruidWith("druid-"+nt.name+"-test", nt)
		Expect(k8sClient.Create(ctx, druid)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, druid)).To(Succeed()) })

		for _, group := range []string{firstGroup, secondGroup} {
			for _, object := range nt.groupObjects(druid, group) {
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)).To(Succeed())
					g.Expect(metav1.IsControlledBy(object, druid)).To(BeTrue(),
						"%T %s is not controlled by the Druid", object, object.GetName())
					g.Expect(object.GetLabels()).To(And(
						HaveKeyWithValue(keys.LabelComponent, nt.name),
						HaveKeyWithValue(keys.LabelGroup, group),
					))
				}).WithTimeout(reconcileTimeout).Should(Succeed())
			}
		}
	})
}

// itDruidRollsOneGroupAndPrunesAnother: a config change of nt's first
// group replaces that group's pods and no other pod of the Druid, and
// removing its second group prunes that group's objects without restarting
// the first.
func itDruidRollsOneGroupAndPrunesAnother(nt druidNodeTypeTest) {
	It("rolls only the "+nt.name+" group whose config changed, and prunes a removed group", func() {
		druid := newDruidWith("druid-"+nt.name+"-rollout", nt)
		Expect(k8sClient.Create(ctx, druid)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, druid)).To(Succeed()) })
		waitUntilDruidRolledOut(druid)

		all := client.MatchingLabels{keys.LabelInstance: druid.Name}
		first := client.MatchingLabels{keys.LabelInstance: druid.Name, keys.LabelComponent: nt.name, keys.LabelGroup: firstGroup}
		before, firstBefore := podUIDs(druid.Namespace, all), podUIDs(druid.Namespace, first)
		Expect(firstBefore).NotTo(BeEmpty())

		By("changing a config file of the first " + nt.name + " group")
		patch := client.MergeFrom(druid.DeepCopy())
		nt.setConfig(druid, 0, changedConfig())
		Expect(k8sClient.Patch(ctx, druid, patch)).To(Succeed())
		waitUntilDruidRolledOut(druid)

		after := podUIDs(druid.Namespace, all)
		for name, uid := range before {
			if _, changed := firstBefore[name]; changed {
				Expect(after[name]).NotTo(Equal(uid), "pod %s of the changed group was not replaced", name)
			} else {
				Expect(after).To(HaveKeyWithValue(name, uid), "pod %s of a group that did not change was replaced", name)
			}
		}

		By("removing the second " + nt.name + " group")
		firstAfter := podUIDs(druid.Namespace, first)
		patch = client.MergeFrom(druid.DeepCopy())
		// setGroups makes the groups anew: the first keeps its changed config.
		nt.setGroups(druid, firstGroup)
		nt.setConfig(druid, 0, changedConfig())
		Expect(k8sClient.Patch(ctx, druid, patch)).To(Succeed())
		for _, object := range nt.groupObjects(druid, secondGroup) {
			Eventually(func() error {
				return k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)
			}).WithTimeout(rolloutTimeout).Should(Satisfy(apierrors.IsNotFound),
				"%T %s of the removed group was not pruned", object, object.GetName())
		}
		waitUntilDruidRolledOut(druid)
		Expect(podUIDs(druid.Namespace, first)).To(Equal(firstAfter), "removing a group restarted the first one")
	})
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
