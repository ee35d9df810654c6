package builder_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// replicaSets returns the ReplicaSets the Deployment web controls, once the
// deployment controller has seen its latest spec.
func (e *env) replicaSets() []appsv1.ReplicaSet {
	e.t.Helper()
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	var out []appsv1.ReplicaSet
	e.eventually("the deployment controller to observe the Deployment", func(ctx context.Context) (bool, error) {
		if err := e.admin.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return false, err
		}
		if dep.Status.ObservedGeneration != dep.Generation {
			return false, nil
		}
		var l appsv1.ReplicaSetList
		if err := e.admin.List(ctx, &l, client.InNamespace(e.ns)); err != nil {
			return false, err
		}
		out = out[:0]
		current := false
		for _, rs := range l.Items {
			if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == dep.UID {
				out = append(out, rs)
				// The controller has a ReplicaSet for the current template.
				if rs.Annotations["deployment.kubernetes.io/revision"] == dep.Annotations["deployment.kubernetes.io/revision"] {
					current = true
				}
			}
		}
		return current, nil
	})
	return out
}

// revisions returns the ControllerRevisions of the StatefulSet db, once the
// StatefulSet controller has seen its latest spec.
func (e *env) revisions() []appsv1.ControllerRevision {
	e.t.Helper()
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: e.ns}}
	var out []appsv1.ControllerRevision
	e.eventually("the statefulset controller to observe the StatefulSet", func(ctx context.Context) (bool, error) {
		if err := e.admin.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return false, err
		}
		if sts.Status.ObservedGeneration != sts.Generation || sts.Status.UpdateRevision == "" {
			return false, nil
		}
		var l appsv1.ControllerRevisionList
		if err := e.admin.List(ctx, &l, client.InNamespace(e.ns)); err != nil {
			return false, err
		}
		out = out[:0]
		current := false
		for _, r := range l.Items {
			if ref := metav1.GetControllerOf(&r); ref != nil && ref.UID == sts.UID {
				out = append(out, r)
				current = current || r.Name == sts.Status.UpdateRevision
			}
		}
		return current, nil
	})
	return out
}

func templateHash(t *testing.T, e *env, obj client.Object) string {
	t.Helper()
	e.get(obj)
	switch w := obj.(type) {
	case *appsv1.Deployment:
		return w.Spec.Template.Annotations[keys.AnnotationConfigHash]
	case *appsv1.StatefulSet:
		return w.Spec.Template.Annotations[keys.AnnotationConfigHash]
	}
	t.Fatalf("not a workload: %T", obj)
	return ""
}

func TestConfigChangeRollsDeploymentExactlyOnce(t *testing.T) {
	e := newEnv(t)
	e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](1), "info")...)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	h0 := templateHash(t, e, dep)
	if h0 == "" {
		t.Fatal("no config hash on the pod template")
	}
	if n := len(e.replicaSets()); n != 1 {
		t.Fatalf("%d ReplicaSets after create, want 1", n)
	}

	// A referenced value changes: exactly one new ReplicaSet.
	e.rec.Take()
	res := e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](1), "debug")...)
	if r := resultFor(t, res, "web"); !r.RolloutTriggered {
		t.Errorf("deployment result %s: want RolloutTriggered", summary(r))
	}
	if got := joined(reasons(e.rec.Take(), "web")); got != eventclient.ReasonRolloutTriggered {
		t.Errorf("events about the Deployment: %q, want RolloutTriggered", got)
	}
	if n := len(e.replicaSets()); n != 2 {
		t.Fatalf("%d ReplicaSets after a referenced config change, want 2", n)
	}
	e.expectNoWrites(desiredSet("nginx:1.27", ptr.To[int32](1), "debug")...)

	// An unreferenced key changes, and a ConfigMap nobody consumes appears:
	// the ConfigMap is updated, the Deployment is not.
	objs := append(desiredSet("nginx:1.27", ptr.To[int32](1), "debug"), configMap("unrelated", map[string]string{"k": "v"}))
	objs[0].(*corev1.ConfigMap).Data["unused"] = "changed"
	res = e.reconcileAll(objs...)
	if r := resultFor(t, res, "web"); r.Changed() || r.RolloutTriggered {
		t.Errorf("deployment result %s: want Unchanged", summary(r))
	}
	if templateHash(t, e, dep) == h0 {
		t.Error("the hash went back to the first one")
	}
	if n := len(e.replicaSets()); n != 2 {
		t.Fatalf("%d ReplicaSets after an unreferenced change, want 2", n)
	}

	// The Secret's value changes: one more.
	objs[1].(*corev1.Secret).StringData["PASSWORD"] = "rotated"
	res = e.reconcileAll(objs...)
	if r := resultFor(t, res, "web"); !r.RolloutTriggered {
		t.Errorf("deployment result %s: want RolloutTriggered", summary(r))
	}
	if n := len(e.replicaSets()); n != 3 {
		t.Fatalf("%d ReplicaSets after a secret change, want 3", n)
	}
	e.expectNoWrites(objs...)
}

func TestRestartAnnotationSurvivesConfigRollout(t *testing.T) {
	e := newEnv(t)
	e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](1), "info")...)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	e.replicaSets()

	// kubectl rollout restart.
	restartedAt := time.Now().Format(time.RFC3339)
	patch := []byte(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"` + restartedAt + `"}}}}}`)
	if err := e.admin.Patch(e.ctx, dep, client.RawPatch(types.StrategicMergePatchType, patch), client.FieldOwner("kubectl-rollout")); err != nil {
		t.Fatal(err)
	}
	if n := len(e.replicaSets()); n != 2 {
		t.Fatalf("%d ReplicaSets after the restart, want 2", n)
	}
	e.expectNoWrites(desiredSet("nginx:1.27", ptr.To[int32](1), "info")...)

	// A config change rolls forward to a third ReplicaSet that keeps the
	// restart annotation; it does not roll back to the first one.
	e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](1), "debug")...)
	rss := e.replicaSets()
	if len(rss) != 3 {
		t.Fatalf("%d ReplicaSets after the config change, want 3", len(rss))
	}
	e.get(dep)
	if got := dep.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"]; got != restartedAt {
		t.Errorf("restartedAt = %q, want %q", got, restartedAt)
	}
	for _, rs := range rss {
		if rs.Annotations["deployment.kubernetes.io/revision"] != dep.Annotations["deployment.kubernetes.io/revision"] {
			continue
		}
		if rs.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] != restartedAt ||
			rs.Spec.Template.Annotations[keys.AnnotationConfigHash] != dep.Spec.Template.Annotations[keys.AnnotationConfigHash] {
			t.Errorf("current ReplicaSet %s template annotations %v", rs.Name, rs.Spec.Template.Annotations)
		}
		if rs.Annotations["deployment.kubernetes.io/revision"] != "3" {
			t.Errorf("current ReplicaSet is revision %s, want 3", rs.Annotations["deployment.kubernetes.io/revision"])
		}
	}
}

func TestConfigChangeRollsStatefulSetExactlyOnce(t *testing.T) {
	e := newEnv(t)
	objs := func(level string) []client.Object {
		return []client.Object{
			configMap("config", map[string]string{"runtime.properties": "a=1\n", "log.level": level, "unused": "x"}),
			secret(map[string]string{"PASSWORD": "s3cr3t-value"}),
			statefulSet("1Gi"),
		}
	}
	e.reconcileAll(objs("info")...)
	if n := len(e.revisions()); n != 1 {
		t.Fatalf("%d ControllerRevisions after create, want 1", n)
	}
	res := e.reconcileAll(objs("debug")...)
	if r := resultFor(t, res, "db"); !r.RolloutTriggered {
		t.Errorf("statefulset result %s: want RolloutTriggered", summary(r))
	}
	if n := len(e.revisions()); n != 2 {
		t.Fatalf("%d ControllerRevisions after a referenced change, want 2", n)
	}
	changed := objs("debug")
	changed[0].(*corev1.ConfigMap).Data["unused"] = "changed"
	e.reconcileAll(changed...)
	if n := len(e.revisions()); n != 2 {
		t.Fatalf("%d ControllerRevisions after an unreferenced change, want 2", n)
	}
	e.expectNoWrites(changed...)
}

func TestExternalSecretChangeRollsTheWorkload(t *testing.T) {
	e := newEnv(t)
	// A TLS Secret the user supplies: not desired, not owned.
	tls := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "user-tls", Namespace: e.ns},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": []byte("cert-1"), "tls.key": []byte("key-1")},
	}
	if err := e.admin.Create(e.ctx, tls); err != nil {
		t.Fatal(err)
	}
	desired := func() []client.Object {
		objs := desiredSet("nginx:1.27", ptr.To[int32](1), "info")
		d := objs[2].(*appsv1.Deployment)
		d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{
			Name: "tls", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{Secret: &corev1.SecretProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: "user-tls"},
				}}},
			}},
		})
		return objs
	}
	e.reconcileAll(desired()...)
	if n := len(e.replicaSets()); n != 1 {
		t.Fatalf("%d ReplicaSets after create, want 1", n)
	}
	e.expectNoWrites(desired()...)

	e.edit(tls, "cert-manager", func() { tls.Data["tls.crt"] = []byte("cert-2") })
	res := e.reconcileAll(desired()...)
	if r := resultFor(t, res, "web"); !r.RolloutTriggered {
		t.Errorf("deployment result %s: want RolloutTriggered", summary(r))
	}
	if n := len(e.replicaSets()); n != 2 {
		t.Fatalf("%d ReplicaSets after the external Secret changed, want 2", n)
	}
	// The Secret stays the user's.
	e.get(tls)
	if metav1.GetControllerOf(tls) != nil || tls.Labels[keys.LabelOwnerUID] != "" {
		t.Errorf("the external Secret was taken over: %+v", tls.ObjectMeta)
	}
}
