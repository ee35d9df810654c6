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

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

// druidMiddlemanagerGroupObjects returns the objects the controller makes for one
// middlemanager group of druid, each holding only its name and namespace.
func druidMiddlemanagerGroupObjects(druid *datav1alpha1.Druid, group string) []client.Object {
	name := druid.Name + "-middlemanager-" + group
	key := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: druid.Namespace} }
	return []client.Object{
		&corev1.ConfigMap{ObjectMeta: key(name)},
		&appsv1.StatefulSet{ObjectMeta: key(name)},
		&corev1.Service{ObjectMeta: key(name + "-headless")},
		&corev1.Service{ObjectMeta: key(name)},
		&policyv1.PodDisruptionBudget{ObjectMeta: key(name)},
	}
}

var _ = Describe("Druid middlemanager node type", Ordered, func() {
	var stop context.CancelFunc
	BeforeAll(func() { stop = startDruidManager() })
	AfterAll(func() { stop() })

	// newDruidWith returns a Druid with two middlemanager groups.
	newDruidWith := func(name string) *datav1alpha1.Druid {
		druid := newDruid(name)
		druid.Spec.Middlemanagers = []datav1alpha1.MiddlemanagerSpec{
			{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}},
			{GroupSpec: datav1alpha1.GroupSpec{Name: secondGroup}},
		}
		return druid
	}

	It("creates the objects of every middlemanager group, owned by the Druid", func() {
		druid := newDruidWith("druid-middlemanager-test")
		Expect(k8sClient.Create(ctx, druid)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, druid)).To(Succeed()) })

		for _, group := range druid.Spec.Middlemanagers {
			for _, object := range druidMiddlemanagerGroupObjects(druid, group.Name) {
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)).To(Succeed())
					g.Expect(metav1.IsControlledBy(object, druid)).To(BeTrue(),
						"%T %s is not controlled by the Druid", object, object.GetName())
					g.Expect(object.GetLabels()).To(And(
						HaveKeyWithValue(keys.LabelComponent, druidMiddlemanagerName),
						HaveKeyWithValue(keys.LabelGroup, group.Name),
					))
				}).WithTimeout(reconcileTimeout).Should(Succeed())
			}
		}
	})

	It("rolls only the middlemanager group whose config changed, and prunes a removed group", func() {
		druid := newDruidWith("druid-middlemanager-rollout")
		Expect(k8sClient.Create(ctx, druid)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, druid)).To(Succeed()) })
		waitUntilDruidRolledOut(druid)

		all := client.MatchingLabels{keys.LabelInstance: druid.Name}
		first := client.MatchingLabels{keys.LabelInstance: druid.Name,
			keys.LabelComponent: druidMiddlemanagerName, keys.LabelGroup: firstGroup}
		before, firstBefore := podUIDs(druid.Namespace, all), podUIDs(druid.Namespace, first)
		Expect(firstBefore).NotTo(BeEmpty())

		By("changing a config file of the first middlemanager group")
		patch := client.MergeFrom(druid.DeepCopy())
		druid.Spec.Middlemanagers[0].Config = changedConfig()
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

		By("removing the second middlemanager group")
		firstAfter := podUIDs(druid.Namespace, first)
		patch = client.MergeFrom(druid.DeepCopy())
		druid.Spec.Middlemanagers = druid.Spec.Middlemanagers[:1]
		Expect(k8sClient.Patch(ctx, druid, patch)).To(Succeed())
		for _, object := range druidMiddlemanagerGroupObjects(druid, secondGroup) {
			Eventually(func() error {
				return k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)
			}).WithTimeout(rolloutTimeout).Should(Satisfy(apierrors.IsNotFound),
				"%T %s of the removed group was not pruned", object, object.GetName())
		}
		waitUntilDruidRolledOut(druid)
		Expect(podUIDs(druid.Namespace, first)).To(Equal(firstAfter), "removing a group restarted the first one")
	})
})
