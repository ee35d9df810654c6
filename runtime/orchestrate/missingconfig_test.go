package orchestrate_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// requiringSecret is nodeTypes with b's reference to externalSecret made
// required: without the Secret, b's pods cannot start.
func requiringSecret() []orchestrate.NodeType[*testv1.Cluster] {
	nts := nodeTypes()
	build := nts[1].Build
	nts[1].Build = func(ctx context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
		groups, err := build(ctx, cr)
		for _, g := range groups {
			for _, obj := range g.Objects {
				if d, ok := obj.(*appsv1.Deployment); ok {
					d.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.SecretKeyRef.Optional = ptr.To(false)
				}
			}
		}
		return groups, err
	}
	return nts
}

// TestMissingSecretHoldsItsConsumer deletes a Secret that b's pods need. b's
// Deployment must keep its spec and config hash (a new spec would restart its
// pods into CreateContainerConfigError), b and Ready must say why, and the
// other node types are left alone. The Secret created again, without the
// watch label, with the content the pods last read rolls nothing; with new
// content it rolls b once.
func TestMissingSecretHoldsItsConsumer(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, requiringSecret())
	newSecret := func(cert string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: externalSecret, Namespace: e.ns},
			Data:       map[string][]byte{"cert": []byte(cert)},
		}
	}
	if err := e.c.Create(e.ctx(), newSecret("v1")); err != nil {
		t.Fatal(err)
	}
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)

	b := client.ObjectKey{Namespace: e.ns, Name: crName + "-b"}
	var before appsv1.Deployment
	if err := e.c.Get(e.ctx(), b, &before); err != nil {
		t.Fatal(err)
	}
	revisions := e.revisionCounts()
	heldAsBefore := func(when string) {
		t.Helper()
		var d appsv1.Deployment
		if err := e.c.Get(e.ctx(), b, &d); err != nil {
			t.Fatal(err)
		}
		if d.Generation != before.Generation || d.Spec.Template.Annotations[keys.AnnotationConfigHash] != before.Spec.Template.Annotations[keys.AnnotationConfigHash] {
			t.Errorf("%s: b's Deployment was written: generation %d (was %d), config hash %s (was %s)", when,
				d.Generation, before.Generation, d.Spec.Template.Annotations[keys.AnnotationConfigHash], before.Spec.Template.Annotations[keys.AnnotationConfigHash])
		}
		if after := e.revisionCounts(); !maps.Equal(after, revisions) {
			t.Errorf("%s: revisions %v, were %v: want no rollout", when, after, revisions)
		}
	}

	if err := e.c.Delete(e.ctx(), newSecret("")); err != nil {
		t.Fatal(err)
	}
	cr := e.waitFor("b held for the missing Secret", func(cr *testv1.Cluster) bool {
		c := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == builder.ReasonConfigMissing
	})
	if c := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked); !strings.Contains(c.Message, "Secret "+e.ns+"/"+externalSecret) {
		t.Errorf("b's RolloutBlocked message does not name the Secret: %q", c.Message)
	}
	if r := meta.FindStatusCondition(cr.GetClusterStatus().Conditions, orchestrate.ConditionReady); r == nil || r.Status != metav1.ConditionFalse || r.Reason != builder.ReasonConfigMissing {
		t.Errorf("Ready: %+v, want False with %s", r, builder.ReasonConfigMissing)
	}
	for _, other := range []string{"a", "c"} {
		if c := nodeTypeCondition(cr, other, orchestrate.ConditionRolloutBlocked); c == nil || c.Status != metav1.ConditionFalse {
			t.Errorf("node type %s: RolloutBlocked %+v, want False", other, c)
		}
	}
	heldAsBefore("Secret deleted")
	// Holding is a steady state: more passes write nothing and record no
	// second Warning.
	e.requireSteady()
	if n := e.events.Count(builder.ReasonConfigMissing, ""); n != 1 {
		t.Errorf("%d %s events, want 1: %v", n, builder.ReasonConfigMissing, e.events.Recorded())
	}

	// Back with the content b's pods hashed: nothing rolls.
	if err := e.c.Create(e.ctx(), newSecret("v1")); err != nil {
		t.Fatal(err)
	}
	e.waitFor("ready again with the Secret back", ready)
	heldAsBefore("Secret back, same content")
	var back corev1.Secret
	if err := e.c.Get(e.ctx(), client.ObjectKeyFromObject(newSecret("")), &back); err != nil {
		t.Fatal(err)
	}
	if back.Labels[keys.LabelWatch] != keys.ValueTrue {
		t.Errorf("the Secret created again has labels %v, want the watch label", back.Labels)
	}

	// Gone again, and back with new content: b rolls once.
	if err := e.c.Delete(e.ctx(), newSecret("")); err != nil {
		t.Fatal(err)
	}
	e.waitFor("b held again", func(cr *testv1.Cluster) bool {
		c := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
		return c != nil && c.Reason == builder.ReasonConfigMissing
	})
	heldAsBefore("Secret deleted again")
	if err := e.c.Create(e.ctx(), newSecret("v2")); err != nil {
		t.Fatal(err)
	}
	e.waitFor("ready with the new Secret", func(cr *testv1.Cluster) bool {
		var d appsv1.Deployment
		return ready(cr) && e.c.Get(e.ctx(), b, &d) == nil && d.Generation > before.Generation
	})
	after := e.revisionCounts()
	for _, name := range workloadNames() {
		want := revisions[name]
		if name == b.Name {
			want++
		}
		if after[name] != want {
			t.Errorf("%s: %d revisions after the Secret came back changed, want %d", name, after[name], want)
		}
	}
	e.requireSteady()
}
