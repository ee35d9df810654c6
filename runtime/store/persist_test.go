package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opbuilder/opbuilder/runtime/store"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

func TestInventoryWrittenOnlyWhenChanged(t *testing.T) {
	e := newEnv(t)
	tc := cluster(t)
	counter := testcluster.NewRequestCounter()
	counted, err := client.New(counter.Wrap(tc.Config), client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	ec := e.eventClient(counted)
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")
	historical := e.nodeType(cr, "historical")
	e.create(broker...)
	e.create(historical...)
	all := append(slices.Clone(broker), historical...)
	statusPath := "/apis/test.opbuilder.io/v1/namespaces/" + e.ns + "/clusters/druid/status"

	counter.Reset()
	e.mustPass(cr, ec, all, managedKinds())
	if got := counter.Snapshot()["PATCH "+statusPath]; got != 1 || counter.Writes() != 1 {
		t.Fatalf("first pass: %d status patches, writes %v; want exactly one status patch", got, counter.WriteRequests())
	}

	counter.Reset()
	for range 3 {
		e.mustPass(e.reread(cr), ec, all, managedKinds())
	}
	if counter.Writes() != 0 {
		t.Fatalf("steady-state passes wrote: %v", counter.WriteRequests())
	}

	// Another writer updates the status after the operator read the owner:
	// the operator's copy is stale. The inventory patch must neither fail
	// with a conflict nor drop the other writer's condition.
	stale := e.reread(cr)
	fresh := e.reread(cr)
	meta.SetStatusCondition(&fresh.Status.Conditions, metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Rolling", Message: "x"})
	if err := e.c.Status().Update(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}

	counter.Reset()
	e.mustPass(stale, ec, broker, managedKinds())
	if got := counter.Snapshot()["PATCH "+statusPath]; got != 1 {
		t.Errorf("pass that pruned: %d status patches, want 1 (writes %v)", got, counter.WriteRequests())
	}
	if got := counter.Count("DELETE"); got != len(historical) {
		t.Errorf("pass that pruned: %d deletes, want %d", got, len(historical))
	}
	after := e.reread(cr)
	if got, want := after.Status.Inventory, e.ids(broker...); !slices.Equal(got, want) {
		t.Errorf("inventory\n got %q\nwant %q", got, want)
	}
	if c := meta.FindStatusCondition(after.Status.Conditions, "Ready"); c == nil || c.Reason != "Rolling" {
		t.Errorf("the inventory patch clobbered another writer's condition: %+v", after.Status.Conditions)
	}
	if len(stale.Status.Conditions) != 0 {
		t.Errorf("the owner in memory was overwritten by the patch response: %+v", stale.Status.Conditions)
	}
}

// Prune without Reconcile is what a caller that writes the status itself
// uses: the inventory changes in memory and nothing is written to the owner.
func TestPruneUpdatesInventoryInMemoryOnly(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")
	e.create(broker...)
	st, err := store.New(cr, e.eventClient(e.c))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range broker {
		if err := st.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Prune(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := e.ids(broker...)
	if got := cr.Status.Inventory; !slices.Equal(got, want) {
		t.Errorf("in-memory inventory\n got %q\nwant %q", got, want)
	}
	if res := st.Result(); !res.InventoryChanged || !slices.Equal(res.Inventory, want) {
		t.Errorf("Result = %+v", res)
	}
	if got := e.reread(cr).Status.Inventory; len(got) != 0 {
		t.Errorf("Prune wrote the status: %q", got)
	}
	if err := st.PersistInventory(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := e.reread(cr).Status.Inventory; !slices.Equal(got, want) {
		t.Errorf("persisted inventory\n got %q\nwant %q", got, want)
	}
}

// A delete the operator is not allowed to make fails: the child stays in the
// inventory, a PruneFailed Warning is recorded, the error is returned, and
// the next pass (once permitted) completes the prune.
func TestFailedDeleteIsRetriedAndWarned(t *testing.T) {
	e := newEnv(t)
	tc := cluster(t)
	ctx := t.Context()
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")
	historical := e.nodeType(cr, "historical")
	e.create(broker...)
	e.create(historical...)
	e.mustPass(cr, e.eventClient(e.c), append(slices.Clone(broker), historical...), managedKinds())

	// The operator runs as a user that may read everything but not delete
	// ConfigMaps.
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pruner", Namespace: e.ns},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{"", "apps", "policy"}, Resources: []string{"services", "deployments", "poddisruptionbudgets", "serviceaccounts"}, Verbs: []string{"get", "list", "watch", "delete"}},
			{APIGroups: []string{"test.opbuilder.io"}, Resources: []string{"clusters", "clusters/status"}, Verbs: []string{"get", "patch"}},
		},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "pruner", Namespace: e.ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pruner"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "pruner"}},
	}
	e.create(role, binding)
	cfg := rest.CopyConfig(tc.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "pruner"}
	limited, err := client.New(cfg, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	ec := e.eventClient(limited)
	cm := historical[0]

	// RBAC caches settle within moments; wait until the role is in effect.
	var res store.Result
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		res, err = e.pass(e.reread(cr), ec, broker, managedKinds())
		return err != nil && len(res.Failed) == 1, nil
	})
	if err != nil {
		t.Fatalf("the forbidden delete never failed as expected: last result %+v", res)
	}
	if got, want := idStrings(res.Failed), e.ids(cm); !slices.Equal(got, want) {
		t.Errorf("Result.Failed\n got %q\nwant %q", got, want)
	}
	e.requireExists(cm)
	e.requireGone(historical[1:]...)
	if got, want := e.reread(cr).Status.Inventory, e.ids(append(slices.Clone(broker), cm)...); !slices.Equal(got, want) {
		t.Errorf("a failed delete must stay in the inventory\n got %q\nwant %q", got, want)
	}
	ev := e.waitEvent(cr, "PruneFailed", cm.GetName())
	if ev.Type != corev1.EventTypeWarning {
		t.Errorf("PruneFailed event has type %q, want Warning", ev.Type)
	}

	// The operator is granted the delete; the next reconcile, starting from
	// the persisted inventory alone, finishes the job.
	role.Rules[0].Verbs = append(role.Rules[0].Verbs, "delete")
	if err := e.c.Update(ctx, role); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		res, err = e.pass(e.reread(cr), ec, broker) // no WithKinds: only the inventory names the ConfigMap
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("the retried prune kept failing: %+v", res)
	}
	e.requireGone(cm)
	if got, want := idStrings(res.Pruned), e.ids(cm); !slices.Equal(got, want) {
		t.Errorf("retry: Result.Pruned\n got %q\nwant %q", got, want)
	}
	if got, want := e.reread(cr).Status.Inventory, e.ids(broker...); !slices.Equal(got, want) {
		t.Errorf("inventory after the retry\n got %q\nwant %q", got, want)
	}
}

// The object the store lists is not always the object it deletes: here the
// ConfigMap is deleted and re-created under the same name right after the
// store listed it. The UID precondition makes the delete miss the newcomer.
func TestDeleteCarriesUIDPrecondition(t *testing.T) {
	e := newEnv(t)
	tc := cluster(t)
	cr := e.owner("druid")
	cm := e.nodeType(cr, "historical")[0].(*corev1.ConfigMap)
	e.create(cm)
	ec := e.eventClient(e.c)
	e.mustPass(cr, ec, []client.Object{cm})

	base, err := client.NewWithWatch(tc.Config, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	var replacement *corev1.ConfigMap
	racing := interceptor.NewClient(base, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := c.List(ctx, list, opts...); err != nil {
				return err
			}
			if _, ok := list.(*corev1.ConfigMapList); ok && replacement == nil {
				if err := c.Delete(ctx, cm); err != nil {
					return err
				}
				replacement = e.nodeType(cr, "historical")[0].(*corev1.ConfigMap)
				return c.Create(ctx, replacement)
			}
			return nil
		},
	})

	res := e.mustPass(e.reread(cr), ec, nil, store.WithReader(racing))
	if replacement == nil {
		t.Fatal("the store never listed ConfigMaps")
	}
	var live corev1.ConfigMap
	if err := e.c.Get(t.Context(), client.ObjectKeyFromObject(cm), &live); err != nil {
		t.Fatalf("the re-created ConfigMap was deleted: %v", err)
	}
	if live.UID != replacement.UID || live.DeletionTimestamp != nil {
		t.Fatalf("live ConfigMap %s (deleting=%v), want the replacement %s", live.UID, live.DeletionTimestamp != nil, replacement.UID)
	}
	if len(res.Pruned) != 0 {
		t.Errorf("Result.Pruned = %v; the delete was refused", res.Pruned)
	}
	if got, want := e.reread(cr).Status.Inventory, e.ids(cm); !slices.Equal(got, want) {
		t.Errorf("the name stays in the inventory for the next pass to judge\n got %q\nwant %q", got, want)
	}

	// The next pass judges the newcomer on its own: it is owned and not
	// desired, so it goes.
	e.mustPass(e.reread(cr), ec, nil)
	e.requireGone(cm)
	for _, r := range e.eventReasons(cr) {
		if strings.HasPrefix(r, "PruneFailed") {
			t.Errorf("a refused precondition must not be reported as a failure: %s", r)
		}
	}
}
