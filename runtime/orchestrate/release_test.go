package orchestrate_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/confighash"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// tlsConfigKey is the key of a node type's config that names a Secret its
// pods mount, as a CR's `tls.secretName` field would.
const tlsConfigKey = "tlsSecret"

// operatorName is the field owner newEnv gives the operator.
const operatorName = "test-operator"

// userTLS is the external Secret of the release tests.
const userTLS = "shared-tls"

// mountingSecret wraps a node type's build: its workloads also mount the
// Secret its config names under tlsConfigKey, if any.
func mountingSecret(name string, build orchestrate.BuildFunc[*testv1.Cluster]) orchestrate.BuildFunc[*testv1.Cluster] {
	return func(ctx context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
		groups, err := build(ctx, cr)
		if err != nil {
			return nil, err
		}
		secret := ""
		for _, nt := range cr.Spec.NodeTypes {
			if nt.Name == name {
				secret = nt.Config[tlsConfigKey]
			}
		}
		if secret == "" {
			return groups, nil
		}
		for _, g := range groups {
			for _, obj := range g.Objects {
				tmpl := confighash.PodTemplateOf(obj)
				if tmpl == nil {
					continue
				}
				tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{
					Name:         "tls",
					VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}},
				})
				tmpl.Spec.Containers[0].VolumeMounts = append(tmpl.Spec.Containers[0].VolumeMounts,
					corev1.VolumeMount{Name: "tls", MountPath: "/etc/tls", ReadOnly: true})
			}
		}
		return groups, nil
	}
}

// releaseNodeTypes are p, then q: one StatefulSet each, mounting the Secret
// their config names.
func releaseNodeTypes() []orchestrate.NodeType[*testv1.Cluster] {
	return []orchestrate.NodeType[*testv1.Cluster]{
		{Name: "p", Build: mountingSecret("p", buildNodeType("p", statefulSet))},
		{Name: "q", Build: mountingSecret("q", buildNodeType("q", statefulSet))},
	}
}

// releaseSpec has node types p and q with one replica each; those named in
// mounting mount userTLS.
func releaseSpec(mounting ...string) testv1.ClusterSpec {
	s := testv1.ClusterSpec{Image: image1, Order: []string{"p", "q"}}
	for _, name := range []string{"p", "q"} {
		nt := testv1.NodeTypeSpec{Name: name, Replicas: 1, Config: map[string]string{"level": "1"}}
		if slices.Contains(mounting, name) {
			nt.Config[tlsConfigKey] = userTLS
		}
		s.NodeTypes = append(s.NodeTypes, nt)
	}
	return s
}

// stopMounting removes the Secret from node type name's config.
func stopMounting(name string) func(*testv1.Cluster) {
	return func(cr *testv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			if cr.Spec.NodeTypes[i].Name == name {
				delete(cr.Spec.NodeTypes[i].Config, tlsConfigKey)
			}
		}
	}
}

// createUserSecret creates userTLS as a user would: content, a label and an
// annotation of its own, and an owner that is not the operator (a
// ConfigMap standing in for a certificate issuer). It returns the Secret as
// created, which is what it must look like once the operator let go of it.
func (e *env) createUserSecret() *corev1.Secret {
	e.t.Helper()
	issuer := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "issuer", Namespace: e.ns}}
	if err := e.c.Create(e.ctx(), issuer); err != nil {
		e.t.Fatal(err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: userTLS, Namespace: e.ns,
			Labels:          map[string]string{"team": "platform"},
			Annotations:     map[string]string{"note": "user's"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: issuer.Name, UID: issuer.UID}},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"tls.crt": []byte("crt"), "tls.key": []byte("key")},
	}
	if err := e.c.Create(e.ctx(), s); err != nil {
		e.t.Fatal(err)
	}
	return s.DeepCopy()
}

// watchLabel returns the watch label of userTLS now.
func (e *env) watchLabel() string {
	e.t.Helper()
	var s corev1.Secret
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: userTLS}, &s); err != nil {
		e.t.Fatal(err)
	}
	return s.Labels[keys.LabelWatch]
}

// requireUserSecretUntouched asserts that userTLS is as created: no watch
// label, the same content, labels, annotations and owners, and no field left
// to the operator's watch manager.
func (e *env) requireUserSecretUntouched(want *corev1.Secret) {
	e.t.Helper()
	var got corev1.Secret
	if err := e.c.Get(e.ctx(), client.ObjectKeyFromObject(want), &got); err != nil {
		e.t.Fatal(err)
	}
	if !maps.Equal(got.Labels, want.Labels) {
		e.t.Errorf("the released Secret has labels %v, want %v", got.Labels, want.Labels)
	}
	if !maps.Equal(got.Annotations, want.Annotations) || got.Type != want.Type ||
		!maps.EqualFunc(got.Data, want.Data, slices.Equal) || !slices.Equal(got.OwnerReferences, want.OwnerReferences) {
		e.t.Errorf("the operator changed the user's Secret beyond its label: %+v", got.ObjectMeta)
	}
	for _, mf := range got.ManagedFields {
		if mf.Manager == operatorName || mf.Manager == operatorName+cachescope.WatchFieldOwnerSuffix {
			e.t.Errorf("the operator's manager %s still owns fields of the Secret: %s", mf.Manager, mf.FieldsV1.GetRawString())
		}
	}
}

// labelHistory records the watch label of userTLS at every change of the
// Secret, from a watch started before the operator touches it.
type labelHistory struct {
	mu     sync.Mutex
	states []string
}

func (e *env) watchUserSecret() *labelHistory {
	e.t.Helper()
	h := &labelHistory{}
	e.watchEvents(&corev1.SecretList{}, func(ev watch.Event) {
		if s, isSecret := ev.Object.(*corev1.Secret); isSecret && (ev.Type == watch.Added || ev.Type == watch.Modified) {
			h.mu.Lock()
			h.states = append(h.states, s.Labels[keys.LabelWatch])
			h.mu.Unlock()
		}
	}, client.MatchingFields{"metadata.name": userTLS})
	return h
}

// changes returns the watch label's values, one per change of the Secret
// (the first is its creation).
func (h *labelHistory) changes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.states)
}

// eventuallyLabel waits until userTLS's watch label is want.
func (e *env) eventuallyLabel(what, want string) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(e.ctx(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		var s corev1.Secret
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: userTLS}, &s); err != nil {
			return false, err
		}
		return s.Labels[keys.LabelWatch] == want, nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// mounts reports whether workload name's pod template mounts userTLS.
func (e *env) mounts(name string) bool {
	e.t.Helper()
	tmpl, err := e.podTemplate(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.ContainsFunc(confighash.References(&tmpl.Spec), func(r confighash.Ref) bool {
		return r.Kind == confighash.KindSecret && r.Name == userTLS
	})
}

// TestExternalLabelReleasedAfterRollout: node types p and q both mount a
// user's Secret. When p stops mounting it, q still does and the label stays.
// When q stops mounting it while rollouts are paused, q's workload is held
// and still mounts it, and the label stays. Once q's workload is written
// without it, the label goes, in one write, and the Secret is otherwise as
// the user created it. Every state in between is steady: no write request.
func TestExternalLabelReleasedAfterRollout(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, releaseNodeTypes())
	history := e.watchUserSecret()
	created := e.createUserSecret()
	e.createCluster(releaseSpec("p", "q"))
	e.waitFor("the first install to be ready", ready)
	if got := e.watchLabel(); got != keys.ValueTrue {
		t.Fatalf("the Secret p and q mount has watch label %q, want %q", got, keys.ValueTrue)
	}
	e.requireSteady()

	// Two consumers: p lets go, q still mounts the Secret.
	e.update(stopMounting("p"))
	e.waitFor("p to roll out without the Secret", func(cr *testv1.Cluster) bool {
		return ready(cr) && !e.mounts(crName+"-p")
	})
	e.requireSteady()
	if got := e.watchLabel(); got != keys.ValueTrue {
		t.Errorf("the label went while q still mounts the Secret: %q", got)
	}

	// The last consumer lets go while rollouts are paused: its workload is
	// held and still mounts the Secret.
	e.update(func(cr *testv1.Cluster) {
		stopMounting("q")(cr)
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		cr.Annotations[keys.AnnotationPauseRollout] = keys.ValueTrue
	})
	e.waitFor("the change to q to be held by the pause", func(cr *testv1.Cluster) bool {
		return seen(cr) && conditionIs(cr.Status.Conditions, orchestrate.ConditionRolloutPaused, metav1.ConditionTrue)
	})
	if !e.mounts(crName + "-q") {
		t.Fatal("q's workload was written while rollouts are paused")
	}
	e.requireSteady()
	if got := e.watchLabel(); got != keys.ValueTrue {
		t.Errorf("the label went while q's held workload still mounts the Secret: %q", got)
	}

	// Resume: q rolls without the Secret, and then the label goes.
	e.update(func(cr *testv1.Cluster) { delete(cr.Annotations, keys.AnnotationPauseRollout) })
	e.waitFor("q to roll out without the Secret", func(cr *testv1.Cluster) bool {
		return ready(cr) && !e.mounts(crName+"-q")
	})
	e.eventuallyLabel("the watch label to be released", "")
	e.requireUserSecretUntouched(created)
	e.requireSteady()

	// Created, labelled once, unlabelled once: no flapping.
	if got, want := history.changes(), []string{"", keys.ValueTrue, ""}; !slices.Equal(got, want) {
		t.Errorf("the Secret's watch label at each of its changes: %q, want %q", got, want)
	}
}

// TestExternalLabelKeptWhileAnotherCRConsumes: two CRs' node type q mount
// the same user's Secret. Removing q from the first CR deletes its workload
// and leaves the label, which the second CR's workload still needs; removing
// it from the second releases it.
func TestExternalLabelKeptWhileAnotherCRConsumes(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, releaseNodeTypes())
	history := e.watchUserSecret()
	created := e.createUserSecret()
	e.createCluster(releaseSpec("q"))
	second := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: secondCR, Namespace: e.ns}, Spec: releaseSpec("q")}
	if err := e.c.Create(e.ctx(), second); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the first CR to be ready", ready)
	e.waitForSecond("the second CR to be ready", ready)
	if got := e.watchLabel(); got != keys.ValueTrue {
		t.Fatalf("the Secret both CRs mount has watch label %q, want %q", got, keys.ValueTrue)
	}

	removeQ := func(cr *testv1.Cluster) {
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testv1.NodeTypeSpec) bool { return nt.Name == "q" })
		cr.Spec.Order = []string{"p"}
	}
	e.update(removeQ)
	e.waitFor("q of the first CR to be pruned", func(cr *testv1.Cluster) bool {
		return ready(cr) && e.workloadGone(crName+"-q")
	})
	e.requireSteady()
	if got := e.watchLabel(); got != keys.ValueTrue {
		t.Errorf("the label went while the second CR's q still mounts the Secret: %q", got)
	}

	e.updateSecond(removeQ)
	e.waitForSecond("q of the second CR to be pruned", func(cr *testv1.Cluster) bool {
		return ready(cr) && e.workloadGone(secondCR+"-q")
	})
	e.eventuallyLabel("the watch label to be released", "")
	e.requireUserSecretUntouched(created)
	e.requireSteady()
	if got, want := history.changes(), []string{"", keys.ValueTrue, ""}; !slices.Equal(got, want) {
		t.Errorf("the Secret's watch label at each of its changes: %q, want %q", got, want)
	}
}

// workloadGone reports whether the workload name no longer exists.
func (e *env) workloadGone(name string) bool {
	e.t.Helper()
	_, err := e.podTemplate(name)
	switch {
	case err == nil:
		return false
	case apierrors.IsNotFound(err):
		return true
	}
	e.t.Fatal(err)
	return false
}

// secondCR is the name of the second CR of the tests that run two.
const secondCR = "db2"

// updateSecond is update for the second CR.
func (e *env) updateSecond(mutate func(*testv1.Cluster)) {
	name := secondCR
	e.t.Helper()
	err := wait.PollUntilContextTimeout(e.ctx(), 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		var cr testv1.Cluster
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &cr); err != nil {
			return false, err
		}
		mutate(&cr)
		if err := e.c.Update(ctx, &cr); err != nil {
			return false, ignoreConflict(err)
		}
		return true, nil
	})
	if err != nil {
		e.t.Fatalf("updating Cluster %s: %v", name, err)
	}
}

// waitForSecond is waitFor for the second CR.
func (e *env) waitForSecond(what string, cond func(*testv1.Cluster) bool) {
	name := secondCR
	e.t.Helper()
	var last testv1.Cluster
	err := wait.PollUntilContextTimeout(e.ctx(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &last); err != nil {
			return false, err
		}
		return cond(&last), nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v\nlast status: %s", what, err, describeStatus(&last))
	}
}

// TestExternalLabelKeptWhileAPausedCRConsumes: the second CR is paused when q
// is removed from both. The first CR's q goes; the paused CR keeps its q
// (a pause holds deletions), which still mounts the Secret, so the label
// stays, with no release and re-label; lifting the pause prunes q and
// releases it.
func TestExternalLabelKeptWhileAPausedCRConsumes(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, releaseNodeTypes())
	history := e.watchUserSecret()
	e.createUserSecret()
	e.createCluster(releaseSpec("q"))
	second := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: secondCR, Namespace: e.ns}, Spec: releaseSpec("q")}
	if err := e.c.Create(e.ctx(), second); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the first CR to be ready", ready)
	e.waitForSecond("the second CR to be ready", ready)

	removeQ := func(cr *testv1.Cluster) {
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testv1.NodeTypeSpec) bool { return nt.Name == "q" })
		cr.Spec.Order = []string{"p"}
	}
	e.updateSecond(func(cr *testv1.Cluster) {
		cr.Annotations = map[string]string{keys.AnnotationPauseRollout: keys.ValueTrue}
		removeQ(cr)
	})
	e.waitForSecond("the second CR to see the change while paused", seen)
	e.update(removeQ)
	e.waitFor("q of the first CR to be pruned", func(cr *testv1.Cluster) bool {
		return ready(cr) && e.workloadGone(crName+"-q")
	})
	e.requireSteady()
	if e.workloadGone(secondCR + "-q") {
		t.Error("the paused CR's q was pruned")
	}
	if got := e.watchLabel(); got != keys.ValueTrue {
		t.Errorf("the label went while the paused CR's q still mounts the Secret: %q", got)
	}

	e.updateSecond(func(cr *testv1.Cluster) { delete(cr.Annotations, keys.AnnotationPauseRollout) })
	e.waitForSecond("q of the second CR to be pruned once resumed", func(cr *testv1.Cluster) bool {
		return ready(cr) && e.workloadGone(secondCR+"-q")
	})
	e.eventuallyLabel("the watch label to be released", "")
	if got, want := history.changes(), []string{"", keys.ValueTrue, ""}; !slices.Equal(got, want) {
		t.Errorf("the Secret's watch label at each of its changes: %q, want %q", got, want)
	}
}
