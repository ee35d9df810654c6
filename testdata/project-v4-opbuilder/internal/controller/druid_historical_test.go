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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

// druidHistoricalTest tells the specs every node type of a Druid runs
// where the historical groups are and what objects each has.
func druidHistoricalTest() druidNodeTypeTest {
	return druidNodeTypeTest{
		name: druidHistoricalName,
		setGroups: func(druid *datav1alpha1.Druid, names ...string) {
			druid.Spec.Historicals = nil
			for _, name := range names {
				druid.Spec.Historicals = append(druid.Spec.Historicals,
					datav1alpha1.HistoricalSpec{GroupSpec: datav1alpha1.GroupSpec{Name: name}})
			}
		},
		setConfig: func(druid *datav1alpha1.Druid, i int, config map[string]string) {
			druid.Spec.Historicals[i].Config = config
		},
		groupObjects: druidHistoricalGroupObjects,
	}
}

// druidHistoricalGroupObjects returns the objects the controller makes for one
// historical group of druid, each holding only its name and namespace.
func druidHistoricalGroupObjects(druid *datav1alpha1.Druid, group string) []client.Object {
	name := druid.Name + "-historical-" + group
	key := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: druid.Namespace} }
	return []client.Object{
		&corev1.ConfigMap{ObjectMeta: key(name)},
		&appsv1.StatefulSet{ObjectMeta: key(name)},
		&corev1.Service{ObjectMeta: key(name + "-headless")},
		&corev1.Service{ObjectMeta: key(name)},
		&policyv1.PodDisruptionBudget{ObjectMeta: key(name)},
	}
}

var _ = Describe("Druid historical node type", Ordered, func() {
	var stop context.CancelFunc
	BeforeAll(func() { stop = startDruidManager() })
	AfterAll(func() { stop() })

	itDruidCreatesEveryGroup(druidHistoricalTest())
	itDruidRollsOneGroupAndPrunesAnother(druidHistoricalTest())

	// Specs of the historical node type alone, such as its hooks or
	// canary, go here.
})
