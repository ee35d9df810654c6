package builder_test

import (
	"fmt"

	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// desiredSet is the small set most tests reconcile: a config, a secret and a
// Deployment consuming both.
func desiredSet(image string, replicas *int32, logLevel string) []client.Object {
	return []client.Object{
		configMap("config", map[string]string{"runtime.properties": "a=1\n", "log.level": logLevel, "unused": "x"}),
		secret(map[string]string{"PASSWORD": "s3cr3t-value"}),
		deployment(image, replicas),
	}
}

func resultFor(t *testing.T, res []builder.Result, name string) builder.Result {
	t.Helper()
	for _, r := range res {
		if r.Object != nil && r.Object.GetName() == name {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", name, res)
	return builder.Result{}
}

func TestHandEditsAreReverted(t *testing.T) {
	e := newEnv(t)
	e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...)

	// Someone edits the image and the replicas of the Deployment and a value
	// of the ConfigMap by hand.
	dep := &appsv1.Deployment{}
	dep.Name, dep.Namespace = "web", e.ns
	e.edit(dep, "kubectl-edit", func() {
		dep.Spec.Template.Spec.Containers[0].Image = "nginx:hacked"
		dep.Spec.Replicas = ptr.To[int32](7)
	})
	cm := &corev1.ConfigMap{}
	cm.Name, cm.Namespace = "config", e.ns
	e.edit(cm, "kubectl-edit", func() { cm.Data["log.level"] = "debug" })

	e.rec.Take()
	res := e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...)
	if op := resultFor(t, res, "web").Operation; op != builder.OperationUpdated {
		t.Errorf("deployment: %s, want Updated", op)
	}
	if op := resultFor(t, res, "config").Operation; op != builder.OperationUpdated {
		t.Errorf("configmap: %s, want Updated", op)
	}
	e.get(dep)
	if img := dep.Spec.Template.Spec.Containers[0].Image; img != "nginx:1.27" {
		t.Errorf("image %q not reverted", img)
	}
	if r := ptr.Deref(dep.Spec.Replicas, 0); r != 2 {
		t.Errorf("replicas %d not reverted", r)
	}
	e.get(cm)
	if v := cm.Data["log.level"]; v != "info" {
		t.Errorf("config value %q not reverted", v)
	}
	evs := e.rec.Take()
	if got := joined(reasons(evs, "web")); got != eventclient.ReasonUpdated {
		t.Errorf("events about the Deployment: %q, want Updated", got)
	}
	if got := joined(reasons(evs, "config")); got != eventclient.ReasonUpdated {
		t.Errorf("events about the ConfigMap: %q, want Updated", got)
	}
	e.expectNoWrites(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...)
}

func TestServerDefaultsNeverCauseWrites(t *testing.T) {
	e := newEnv(t)
	objs := append(podConfig(), deployment("nginx:1.27", nil), service("web", false), service("web-headless", true))
	e.reconcileAll(objs...)

	dep := &appsv1.Deployment{}
	dep.Name, dep.Namespace = "web", e.ns
	e.get(dep)
	ps := dep.Spec.Template.Spec
	if ps.DNSPolicy != corev1.DNSClusterFirst || ps.RestartPolicy != corev1.RestartPolicyAlways ||
		ps.SchedulerName == "" || ps.TerminationGracePeriodSeconds == nil || dep.Spec.Strategy.RollingUpdate == nil ||
		ps.Containers[0].TerminationMessagePath == "" || ps.Containers[0].ImagePullPolicy == "" {
		t.Fatalf("expected the API server to default the pod template, got %+v", ps)
	}
	svc := &corev1.Service{}
	svc.Name, svc.Namespace = "web", e.ns
	e.get(svc)
	if svc.Spec.ClusterIP == "" || svc.Spec.SessionAffinity != corev1.ServiceAffinityNone ||
		svc.Spec.Ports[0].Protocol != corev1.ProtocolTCP || svc.Spec.Ports[1].TargetPort.IntValue() != 9090 ||
		len(svc.Spec.IPFamilies) == 0 || svc.Spec.InternalTrafficPolicy == nil {
		t.Fatalf("expected the API server to default the Service, got %+v", svc.Spec)
	}
	e.expectNoWrites(objs...)
}

// scaleAsHPA sets a workload's replicas through the scale subresource, as
// the HorizontalPodAutoscaler controller does.
func scaleAsHPA(e *env, obj client.Object, replicas int32) {
	e.t.Helper()
	scale := &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: replicas}}
	if err := e.admin.SubResource("scale").Update(e.ctx, obj, client.WithSubResourceBody(scale), client.FieldOwner("horizontal-pod-autoscaler")); err != nil {
		e.t.Fatal(err)
	}
}

func TestOtherActorsFieldsArePreserved(t *testing.T) {
	e := newEnv(t)
	// Replicas nil: an HPA scales this Deployment.
	e.reconcileAll(desiredSet("nginx:1.27", nil, "info")...)
	dep := &appsv1.Deployment{}
	dep.Name, dep.Namespace = "web", e.ns
	e.get(dep)
	scaleAsHPA(e, dep, 4)

	// Someone labels and annotates the ConfigMap and the Deployment.
	for _, obj := range []client.Object{&corev1.ConfigMap{}, &appsv1.Deployment{}} {
		name := map[bool]string{true: "config", false: "web"}[isConfigMap(obj)]
		patch := []byte(`{"metadata":{"labels":{"team":"data"},"annotations":{"example.com/note":"keep me"}}}`)
		obj.SetName(name)
		obj.SetNamespace(e.ns)
		if err := e.admin.Patch(e.ctx, obj, client.RawPatch(types.MergePatchType, patch), client.FieldOwner("someone")); err != nil {
			t.Fatal(err)
		}
	}
	e.expectNoWrites(desiredSet("nginx:1.27", nil, "info")...)

	// A real change (a new image) still leaves the others' fields alone.
	res := e.reconcileAll(desiredSet("nginx:1.28", nil, "info")...)
	if op := resultFor(t, res, "web").Operation; op != builder.OperationUpdated {
		t.Fatalf("deployment: %s, want Updated", op)
	}
	e.get(dep)
	if r := ptr.Deref(dep.Spec.Replicas, 0); r != 4 {
		t.Errorf("HPA-managed replicas = %d, want 4", r)
	}
	if dep.Labels["team"] != "data" || dep.Annotations["example.com/note"] != "keep me" {
		t.Errorf("foreign metadata lost: %v %v", dep.Labels, dep.Annotations)
	}
	cm := &corev1.ConfigMap{}
	cm.Name, cm.Namespace = "config", e.ns
	e.get(cm)
	if cm.Labels["team"] != "data" || cm.Annotations["example.com/note"] != "keep me" {
		t.Errorf("foreign metadata lost on the ConfigMap: %v %v", cm.Labels, cm.Annotations)
	}
	e.expectNoWrites(desiredSet("nginx:1.28", nil, "info")...)
}

func isConfigMap(obj client.Object) bool {
	_, ok := obj.(*corev1.ConfigMap)
	return ok
}

// summary describes a result without dumping the object.
func summary(r builder.Result) string {
	return fmt.Sprintf("{Operation:%s RolloutTriggered:%t Requeue:%t Message:%q}", r.Operation, r.RolloutTriggered, r.Requeue, r.Message)
}
