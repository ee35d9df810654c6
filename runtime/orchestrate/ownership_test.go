package orchestrate_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// TestNoTakeoverOfAUsersObject: a user's ConfigMap already has the name of
// node type b's ConfigMap. The operator's cache, scoped to what it labelled,
// does not hold it; the operator must still leave it alone, hold b's
// workload (whose pods would consume the user's data), say so on b and on
// Ready, and go on with the other node types. Removing b from the CR later
// must not prune the user's object.
func TestNoTakeoverOfAUsersObject(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	theirs := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: crName + "-b-config", Namespace: e.ns, Labels: map[string]string{"team": "data"}},
		Data:       map[string]string{"level": "users-own"},
	}
	if err := e.c.Create(e.ctx(), theirs); err != nil {
		t.Fatal(err)
	}
	rv := theirs.ResourceVersion
	untouched := func(when string) {
		t.Helper()
		var cm corev1.ConfigMap
		if err := e.c.Get(e.ctx(), client.ObjectKeyFromObject(theirs), &cm); err != nil {
			t.Fatalf("%s: the user's ConfigMap: %v", when, err)
		}
		if cm.ResourceVersion != rv || len(cm.OwnerReferences) != 0 || cm.Data["level"] != "users-own" || len(cm.Labels) != 1 {
			t.Errorf("%s: the user's ConfigMap was written: resourceVersion %s (was %s), owners %v, labels %v",
				when, cm.ResourceVersion, rv, cm.OwnerReferences, cm.Labels)
		}
	}

	e.createCluster(spec())
	cr := e.waitFor("b blocked by the name taken", func(cr *testv1.Cluster) bool {
		c := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == builder.ReasonNameTaken
	})
	blocked := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
	if !strings.Contains(blocked.Message, "ConfigMap "+e.ns+"/"+theirs.Name) || !strings.Contains(blocked.Message, "adopt") {
		t.Errorf("b's RolloutBlocked message does not name the object and the fix: %q", blocked.Message)
	}
	cr = e.waitFor("a rolled out while b is refused", func(cr *testv1.Cluster) bool {
		c := nodeTypeCondition(cr, "a", orchestrate.ConditionProgressing)
		return c != nil && c.Reason == orchestrate.ReasonRolloutComplete
	})
	if r := meta.FindStatusCondition(cr.GetClusterStatus().Conditions, orchestrate.ConditionReady); r == nil || r.Status != metav1.ConditionFalse || r.Reason != builder.ReasonNameTaken || !strings.Contains(r.Message, `node type "b"`) {
		t.Errorf("Ready: %+v, want False with %s naming node type b", r, builder.ReasonNameTaken)
	}
	// b's Deployment is held: it would consume the user's ConfigMap.
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: crName + "-b"}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Errorf("b's Deployment: %v, want NotFound (held while its ConfigMap's name is taken)", err)
	}
	untouched("refused")
	// What reached it was the create-only apply, which the API server
	// refused because the name is taken.
	conflicts := e.counter.Responses(http.StatusConflict)
	for _, w := range e.counter.WriteRequests() {
		if strings.Contains(w, "/configmaps/"+theirs.Name) && (!strings.HasPrefix(w, "PATCH ") || !slices.Contains(conflicts, w)) {
			t.Errorf("a write to the user's ConfigMap that the API server did not refuse: %s (409s: %v)", w, conflicts)
		}
	}

	// More passes record no further Warning and send nothing to it.
	e.counter.Reset()
	e.poke()
	e.poke()
	if n := e.events.Count(builder.ReasonNameTaken, ""); n != 1 {
		t.Errorf("%d %s events, want 1: %v", n, builder.ReasonNameTaken, e.events.Recorded())
	}
	for _, w := range e.counter.WriteRequests() {
		if strings.Contains(w, "/configmaps/"+theirs.Name) {
			t.Errorf("a write to the user's ConfigMap: %s", w)
		}
	}
	untouched("retried")

	// b is removed from the CR: the user's ConfigMap is not pruned.
	e.update(func(cr *testv1.Cluster) {
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testv1.NodeTypeSpec) bool { return nt.Name == "b" })
		cr.Spec.Order = []string{"a", "c"}
	})
	e.waitFor("Ready without b", ready)
	untouched("b removed")
}
