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

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/orchestrate"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

// druidApp is the application name: the app.kubernetes.io/name label of
// every object the operator creates for a Druid.
const druidApp = "druid"

// DruidReconciler reconciles a Druid. The opbuilder runtime does the
// work: it builds the objects of every node type listed in druidNodeTypes,
// applies what changed, rolls changes out one node type at a time in the
// Druid's deployment order, prunes what is no longer wanted, and keeps the
// status up to date.
type DruidReconciler struct {
	client.Client
	Scheme *runtime.Scheme

	orchestrator *orchestrate.Orchestrator[*datav1alpha1.Druid]
}

// The runtime touches exactly these, with exactly these verbs: the Druid, and its
// status, which it patches; the kinds of children it owns, which it applies
// (server-side apply is a patch, and a create when the child is new), watches
// and prunes; the ConfigMaps and Secrets a pod template references, which it
// reads and labels (a patch of one label) so they are watched; and
// events.k8s.io events. The finalizers subresource lets its owner references
// block the Druid's deletion until the children are gone. It never
// updates a whole object, and never sets the replicas of an autoscaled
// group. Secrets get no create or delete: no node type builds
// one; grant them in a node type's file if yours does. Opting in to
// orchestrate.Config.StuckPodRecovery needs pods (get;list;delete) as well.
// +kubebuilder:rbac:groups=data.example.com,resources=druids,verbs=get;list;watch
// +kubebuilder:rbac:groups=data.example.com,resources=druids/status,verbs=get;patch
// +kubebuilder:rbac:groups=data.example.com,resources=druids/finalizers,verbs=update
// +kubebuilder:rbac:groups=core,resources=configmaps;services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile hands the Druid to the orchestrator. It is called whenever the
// Druid or one of its objects changes.
func (r *DruidReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var druid datav1alpha1.Druid
	if err := r.Get(ctx, req.NamespacedName, &druid); err != nil {
		// A deleted Druid's objects are garbage-collected through their owner
		// references.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return r.orchestrator.Reconcile(ctx, &druid)
}

// druidNodeTypes lists the node types of a Druid, in the order they were
// added. Each builds its objects in internal/controller/druid_<node type>.go.
func druidNodeTypes() []orchestrate.NodeType[*datav1alpha1.Druid] {
	return []orchestrate.NodeType[*datav1alpha1.Druid]{
		druidHistoricalNodeType(),
		druidMiddlemanagerNodeType(),
		druidBrokerNodeType(),
		druidCoordinatorNodeType(),
		druidRouterNodeType(),
		// +opbuilder:scaffold:nodetypes
	}
}

// SetupWithManager registers the node types with an orchestrator and the
// controller with the Manager. The controller watches the Druid and every
// object the runtime creates for it.
func (r *DruidReconciler) SetupWithManager(mgr ctrl.Manager) error {
	o, err := orchestrate.New(mgr, orchestrate.Config{
		App:        druidApp,
		FieldOwner: FieldOwner,
		// Events about the Druid and its objects go through the
		// events.k8s.io/v1 API.
		EventRecorder: mgr.GetEventRecorder(FieldOwner),
		// Groups that set autoscaling get a HorizontalPodAutoscaler.
		OwnedKinds: []client.Object{&autoscalingv2.HorizontalPodAutoscaler{}},
	}, druidNodeTypes()...)
	if err != nil {
		return fmt.Errorf("setting up the Druid orchestrator: %w", err)
	}
	o.SetShared(buildDruidShared)
	r.orchestrator = o
	return o.SetupWithManager(mgr, r)
}

// buildDruidShared returns the objects of a Druid that belong to no node
// type: the ConfigMap of spec.config, which every pod mounts. It exists
// even while spec.config is empty, so that adding a file is a change of its
// content, which rolls each node type in the deployment order.
func buildDruidShared(_ context.Context, druid *datav1alpha1.Druid) ([]client.Object, error) {
	return []client.Object{&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: druidSharedConfigName(druid), Namespace: druid.Namespace},
		Data:       druid.Spec.Config,
	}}, nil
}

// druidSharedConfigName returns the name of the ConfigMap of druid.Spec.Config.
// Group objects are named "<druid>-<node type>-<group>", so it cannot clash
// with one of them.
func druidSharedConfigName(druid *datav1alpha1.Druid) string {
	return druid.Name + "-shared"
}
