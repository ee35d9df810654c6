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
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/opbuilder/opbuilder/runtime/orchestrate"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

const (
	// druidBrokerName is the name of the node type: the app.kubernetes.io/component
	// label of its objects and its name in the deployment order and the status.
	druidBrokerName = "broker"
	// druidBrokerConfigDir is where the broker pods find the files of
	// spec.brokers[].config.
	druidBrokerConfigDir = "/etc/druid/broker"
)

// druidBrokerNodeType registers the broker nodes of a Druid with the
// orchestrator.
func druidBrokerNodeType() orchestrate.NodeType[*datav1alpha1.Druid] {
	return orchestrate.NodeType[*datav1alpha1.Druid]{
		Name:  druidBrokerName,
		Build: buildDruidBrokers,
		// The application's say in the rollout: none yet, so pods roll
		// when Kubernetes says they are Ready. See the end of
		// druid_objects.go for a health gate to start from.
		Hooks: orchestrate.Hooks[*datav1alpha1.Druid]{},
		// A canary, such as &orchestrate.Canary{Pods: intstr.FromInt32(1)},
		// would stop each rollout once one pod of the first group runs the
		// new revision, until the Druid's opbuilder.io/approve-rollout.<node type>
		// annotation names it. Nil rolls without stopping.
		Canary: nil,
		// A change budget, such as &orchestrate.ChangeBudget{MaxUnavailable: intstr.FromInt32(2)},
		// would let the groups roll at the same time as long as at most two
		// broker pods, across all groups, are unavailable at once.
		// Nil rolls the groups one after another.
		ChangeBudget: nil,
	}
}

// buildDruidBrokers returns one group per entry of spec.brokers. The
// groups of a node type roll out one at a time, in the order listed (or
// side by side within a ChangeBudget).
func buildDruidBrokers(_ context.Context, druid *datav1alpha1.Druid) ([]orchestrate.Group, error) {
	groups := make([]orchestrate.Group, 0, len(druid.Spec.Brokers))
	for _, spec := range druid.Spec.Brokers {
		group, err := buildDruidBrokerGroup(druid, spec)
		if err != nil {
			return nil, fmt.Errorf("spec.brokers[%s]: %w", spec.Name, err)
		}
		groups = append(groups, group)
	}
	return groups, nil
}

// buildDruidBrokerGroup returns one broker group: the Deployment that runs
// it
// and the objects every group has (druidGroup.group). Settings of the broker
// container alone go on group.container before the pod template is built.
func buildDruidBrokerGroup(druid *datav1alpha1.Druid, spec datav1alpha1.BrokerSpec) (orchestrate.Group, error) {
	group := newDruidGroup(druid, druidBrokerName, spec.GroupSpec, spec.Port, druidBrokerConfigDir)
	template, err := group.podTemplate()
	if err != nil {
		return orchestrate.Group{}, err
	}

	deployment := &appsv1.Deployment{
		ObjectMeta: group.meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: group.replicas(spec.Replicas),
			Selector: group.labelSelector(),
			Template: template,
		},
	}
	return group.group(deployment)
}
