package testcluster_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// eventually polls cond for up to two minutes; control-plane controllers on a
// shared machine take seconds, not milliseconds.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 2*time.Minute, true, cond)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// start starts a cluster with opts for t and stops it when t ends.
func start(t *testing.T, opts ...testcluster.Option) *testcluster.Cluster {
	t.Helper()
	c, err := testcluster.Start(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// TestClusterRunsWorkloadsAndCollectsGarbage proves what the later suites rely
// on: a Deployment gets a ReplicaSet, its pods become Ready on a kwok node,
// and deleting an owner garbage-collects what it owns.
func TestClusterRunsWorkloadsAndCollectsGarbage(t *testing.T) {
	ctx := t.Context()
	c := start(t, testcluster.WithKwokNodes(1))
	cl := c.Client

	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if err := cl.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}

	eventually(t, "a ReplicaSet owned by the Deployment", func(ctx context.Context) (bool, error) {
		var rss appsv1.ReplicaSetList
		if err := cl.List(ctx, &rss, client.InNamespace("default")); err != nil {
			return false, err
		}
		for _, rs := range rss.Items {
			if metav1.IsControlledBy(&rs, dep) {
				return true, nil
			}
		}
		return false, nil
	})

	eventually(t, "2 Ready pods on kwok nodes", func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := cl.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels(labels)); err != nil {
			return false, err
		}
		ready := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning {
				continue
			}
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == 2, nil
	})

	eventually(t, "the Deployment to report 2 ready replicas", func(ctx context.Context) (bool, error) {
		var got appsv1.Deployment
		if err := cl.Get(ctx, client.ObjectKeyFromObject(dep), &got); err != nil {
			return false, err
		}
		return got.Status.ReadyReplicas == 2, nil
	})

	owned := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-config", Namespace: "default"}}
	if err := controllerutil.SetControllerReference(dep, owned, cl.Scheme()); err != nil {
		t.Fatal(err)
	}
	if err := cl.Create(ctx, owned); err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(ctx, dep); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the owned ConfigMap to be garbage-collected", func(ctx context.Context) (bool, error) {
		err := cl.Get(ctx, client.ObjectKeyFromObject(owned), &corev1.ConfigMap{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

// TestRequestCounterCountsWrites checks the counter that other suites use to
// prove "zero writes".
func TestRequestCounterCountsWrites(t *testing.T) {
	ctx := t.Context()
	c := start(t)

	counter := testcluster.NewRequestCounter()
	cl, err := client.New(counter.Wrap(c.Config), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"}}
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := cl.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
		t.Fatal(err)
	}
	if got := counter.Writes(); got != 1 {
		t.Fatalf("writes = %d, want 1: %v", got, counter.WriteRequests())
	}
	if got := counter.Count("GET"); got < 1 {
		t.Fatalf("GETs = %d, want at least 1", got)
	}
	if got := counter.Responses(http.StatusConflict); len(got) != 0 {
		t.Fatalf("409 responses = %v, want none", got)
	}
	// A second create of the same name is answered 409 AlreadyExists.
	if err := cl.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"}}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	want := []string{"POST /api/v1/namespaces/default/configmaps x1"}
	if got := counter.Responses(http.StatusConflict); !slices.Equal(got, want) {
		t.Fatalf("409 responses = %v, want %v", got, want)
	}
	// The client still read the Status body (above), and the counter its reason.
	conflict := testcluster.Request{Verb: "CREATE", Resource: "configmaps", Namespace: "default", Code: http.StatusConflict, Reason: "AlreadyExists"}
	if got := counter.Requests()[conflict]; got != 1 {
		t.Fatalf("Requests()[%+v] = %d, want 1: %v", conflict, got, counter.Requests())
	}
	counter.Reset()
	if got := counter.Writes(); got != 0 {
		t.Fatalf("writes after Reset = %d, want 0", got)
	}
	if got := counter.Responses(http.StatusConflict); len(got) != 0 {
		t.Fatalf("409 responses after Reset = %v, want none", got)
	}
	if got := counter.Requests(); len(got) != 0 {
		t.Fatalf("requests after Reset = %v, want none", got)
	}
}
