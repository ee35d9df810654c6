package builder_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// TestNoTakeoverThroughTheScopedCache is the user's object that has a child's
// name. A controller's cache holds only what the operator labelled, so the
// user's ConfigMap and Deployment look absent; the Builder must find them in
// the API server and leave them alone, in the pass that wants them and after
// it no longer does, until a human asks for adoption.
func TestNoTakeoverThroughTheScopedCache(t *testing.T) {
	e := newEnv(t)
	pass := newScopedPass(e)
	pass.apiReader = e.cl

	theirs := configMap("config", map[string]string{"runtime.properties": "user=1\n", "mine": "kept"})
	theirs.Namespace = e.ns
	dep := deployment("user/app:1", ptr.To[int32](1))
	dep.Namespace = e.ns
	for _, o := range []client.Object{theirs, dep} {
		if err := e.admin.Create(e.ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	untouched := func(what string, o client.Object, rv string) {
		t.Helper()
		e.get(o)
		// The Deployment's status is the deployment controller's to write:
		// the spec's generation tells whether anyone changed the object.
		if (o.GetResourceVersion() != rv && o.GetGeneration() != 1) || len(o.GetOwnerReferences()) != 0 || o.GetLabels()[keys.LabelOwnerUID] != "" {
			t.Errorf("%s: the user's %T %s was written (resourceVersion %s, was %s; owners %v; labels %v)",
				what, o, o.GetName(), o.GetResourceVersion(), rv, o.GetOwnerReferences(), o.GetLabels())
		}
	}
	rvs := map[string]string{"config": theirs.ResourceVersion, "web": dep.ResourceVersion}

	// The pass that wants both names refuses both: no write to either
	// (the create-only apply that finds the name taken is refused by the
	// API server), one Warning each, naming the object and the fix.
	e.counter.Reset()
	e.rec.Take()
	res, _ := pass.run(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...)
	for _, name := range []string{"config", "web"} {
		r := refusedFor(t, res, name)
		if r.Reason != builder.ReasonNameTaken || !r.Requeue {
			t.Errorf("%s: %+v, want Refused with %s and a requeue", name, r, builder.ReasonNameTaken)
		}
		requireNoWriteAccepted(t, e, name, 1)
	}
	evs := e.rec.Take()
	for _, name := range []string{"config", "web"} {
		var warnings []string
		for _, ev := range evs {
			if ev.Related != nil && ev.Related.Name == name {
				warnings = append(warnings, ev.Type+"/"+ev.Reason)
				if !strings.Contains(ev.Note, "/"+name+" already exists") || !strings.Contains(ev.Note, keys.AnnotationAdopt+"="+e.owner.Name) {
					t.Errorf("event about %s does not name the object and the fix: %q", name, ev.Note)
				}
			}
		}
		if joined(warnings) != corev1.EventTypeWarning+"/"+builder.ReasonNameTaken {
			t.Errorf("events about %s: %v, want one Warning %s", name, warnings, builder.ReasonNameTaken)
		}
	}
	untouched("refused", theirs, rvs["config"])
	untouched("refused", dep, rvs["web"])

	// Retrying records nothing more, and sends no create again: the
	// Expectations remember the names are taken.
	e.counter.Reset()
	pass.run(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...)
	if evs := e.rec.Take(); len(reasons(evs, "config"))+len(reasons(evs, "web")) != 0 {
		t.Errorf("a retried refusal recorded events again: %+v", evs)
	}
	requireNoWriteAccepted(t, e, "config", 0)
	requireNoWriteAccepted(t, e, "web", 0)

	// Once they are no longer desired, the store deletes neither.
	pass.run(secret(map[string]string{"PASSWORD": "s3cr3t-value"}))
	untouched("no longer desired", theirs, rvs["config"])
	untouched("no longer desired", dep, rvs["web"])

	// A human hands the ConfigMap over: it is adopted, keeping what the
	// Builder does not set, and is the owner's child from then on.
	e.edit(theirs, "someone", func() { theirs.Annotations = map[string]string{keys.AnnotationAdopt: e.owner.Name} })
	e.rec.Take()
	// (The Secret stays desired, so nothing is pruned meanwhile.)
	res, _ = pass.run(configMap("config", map[string]string{"runtime.properties": "a=1\n"}), secret(map[string]string{"PASSWORD": "s3cr3t-value"}))
	if r := resultFor(t, res, "config"); r.Operation != builder.OperationUpdated {
		t.Fatalf("adoption: %+v, want Updated", r)
	}
	e.get(theirs)
	if ref := metav1.GetControllerOf(theirs); ref == nil || ref.UID != e.owner.UID {
		t.Errorf("adopted ConfigMap's controller: %v, want the owner", ref)
	}
	if theirs.Labels[keys.LabelOwnerUID] != string(e.owner.UID) || theirs.Data["runtime.properties"] != "a=1\n" || theirs.Data["mine"] != "kept" {
		t.Errorf("adopted ConfigMap: labels %v, data keys %v; want the owner label, the desired value and the user's own key kept", theirs.Labels, slices.Collect(maps.Keys(theirs.Data)))
	}
	if evs := e.rec.Take(); len(evs) != 1 || evs[0].Reason != eventclient.ReasonUpdated || !strings.Contains(evs[0].Note, "adopted") {
		t.Errorf("adoption events: %+v, want one Updated saying it was adopted", evs)
	}
	untouched("the ConfigMap adopted", dep, rvs["web"])
}

func refusedFor(t *testing.T, res []builder.Result, name string) builder.Result {
	t.Helper()
	for _, r := range res {
		if r.Operation == builder.OperationRefused && strings.Contains(r.Message, "/"+name+" ") {
			return r
		}
	}
	t.Fatalf("no refusal of %s in %+v", name, res)
	return builder.Result{}
}

// TestWorkloadOfARefusedConfigMapIsHeld: a plain Builder (no orchestrate)
// refuses the user's ConfigMap that has the name of its own; the Deployment
// that would mount it is not created either, since its pods would read the
// user's data.
func TestWorkloadOfARefusedConfigMapIsHeld(t *testing.T) {
	e := newEnv(t)
	theirs := configMap("config", map[string]string{"runtime.properties": "user=1\n", "log.level": "user"})
	theirs.Namespace = e.ns
	if err := e.admin.Create(e.ctx, theirs); err != nil {
		t.Fatal(err)
	}
	e.counter.Reset()
	res := e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](1), "info")...)
	refusedFor(t, res, "config")
	dep := res[len(res)-1]
	if dep.Operation != builder.OperationHeld || dep.Reason != builder.ReasonNameTaken || !strings.Contains(dep.Message, "ConfigMap "+e.ns+"/config") {
		t.Errorf("the Deployment that mounts the refused ConfigMap: %s, want Held with %s naming it", summary(dep), builder.ReasonNameTaken)
	}
	for _, req := range e.counter.WriteRequests() {
		if strings.Contains(req, "/deployments") || strings.Contains(req, "/configmaps") {
			t.Errorf("a write while the ConfigMap's name is taken: %s", req)
		}
	}
}

// racingClient is a client that, the first time it is asked for the object
// named name, answers that it does not exist and only then lets the user
// create it: the user wins the race between the Builder's read of its cache
// and its create.
type racingClient struct {
	client.Client
	name   string
	create func()
	raced  bool
}

func (r *racingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if key.Name == r.name && !r.raced {
		r.raced = true
		r.create()
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
	return r.Client.Get(ctx, key, obj, opts...)
}

// requireNoWriteAccepted fails unless every write request to the object
// named name since the counter's last Reset was a create-only apply the API
// server refused with a 409 Conflict, and there were at most want of them.
func requireNoWriteAccepted(t *testing.T, e *env, name string, want int) {
	t.Helper()
	refused := map[string]bool{}
	for _, req := range e.counter.Responses(http.StatusConflict) {
		refused[req] = true
	}
	n := 0
	for _, req := range e.counter.WriteRequests() {
		f := strings.Fields(req)
		if !strings.HasSuffix(f[1], "/"+name) {
			continue
		}
		if f[0] != http.MethodPatch || !refused[req] {
			t.Errorf("a write to the user's %s that the API server did not refuse: %s", name, req)
		}
		c, _ := strconv.Atoi(strings.TrimPrefix(f[2], "x"))
		n += c
	}
	if n > want {
		t.Errorf("%d create-only applies to the user's %s, want at most %d: %v", n, name, want, e.counter.WriteRequests())
	}
}

// TestNoTakeoverOfAnObjectMadeAfterTheRead is the user who creates an
// object of a child's name between the Builder's read of its cache, which
// does not have it, and its create. The create is create-only: the API
// server refuses it, and the Builder reads the object and refuses it like
// one that was there before, without a write to it.
func TestNoTakeoverOfAnObjectMadeAfterTheRead(t *testing.T) {
	e := newEnv(t)
	theirs := configMap("config", map[string]string{"runtime.properties": "user=1\n"})
	theirs.Namespace = e.ns
	racing := &racingClient{Client: &unseenClient{Client: e.cl}, name: "config", create: func() {
		if err := e.admin.Create(e.ctx, theirs); err != nil {
			t.Fatal(err)
		}
	}}
	e.counter.Reset()
	b, err := builder.New(
		builder.WithClient(racing), builder.WithAPIReader(e.cl), builder.WithOwner(e.owner),
		builder.WithRecorder(e.rec), builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"),
		builder.WithExpectations(e.exp),
	)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.ReconcileConfigMap(e.ctx, configMap("config", map[string]string{"runtime.properties": "a=1\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Operation != builder.OperationRefused || res.Reason != builder.ReasonNameTaken {
		t.Errorf("the ConfigMap the user made after the read: %s, want Refused with %s", summary(res), builder.ReasonNameTaken)
	}
	rv := theirs.ResourceVersion
	e.get(theirs)
	if theirs.ResourceVersion != rv || len(theirs.OwnerReferences) != 0 || theirs.Data["runtime.properties"] != "user=1\n" {
		t.Errorf("the user's ConfigMap was written: resourceVersion %s (was %s), owners %v, data %v", theirs.ResourceVersion, rv, theirs.OwnerReferences, theirs.Data)
	}
	requireNoWriteAccepted(t, e, "config", 1)
}
