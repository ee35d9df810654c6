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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

var _ = Describe("Druid router node type", Ordered, func() {
	var stop context.CancelFunc
	BeforeAll(func() { stop = startDruidManager() })
	AfterAll(func() { stop() })

	It("creates the objects of every router group, owned by the Druid", func() {
		druid := newDruid("druid-router-test")
		druid.Spec.Routers = []datav1alpha1.RouterSpec{
			{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}},
			{GroupSpec: datav1alpha1.GroupSpec{Name: secondGroup}},
		}
		Expect(k8sClient.Create(ctx, druid)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, druid)).To(Succeed()) })

		for _, group := range druid.Spec.Routers {
			name := druid.Name + "-router-" + group.Name
			wanted := []struct {
				name   string
				object client.Object
			}{
				{name, &corev1.ConfigMap{}},
				{name, &appsv1.Deployment{}},
				{name, &corev1.Service{}},
				{name, &policyv1.PodDisruptionBudget{}},
			}
			for _, want := range wanted {
				key := client.ObjectKey{Namespace: druid.Namespace, Name: want.name}
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, key, want.object)).To(Succeed())
					g.Expect(metav1.IsControlledBy(want.object, druid)).To(BeTrue(),
						"%T %s is not controlled by the Druid", want.object, want.name)
					g.Expect(want.object.GetLabels()).To(And(
						HaveKeyWithValue(keys.LabelComponent, druidRouterName),
						HaveKeyWithValue(keys.LabelGroup, group.Name),
					))
				}).WithTimeout(reconcileTimeout).Should(Succeed())
			}
		}
	})
})
