package orchestrate

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// This file holds the canary of a node type whose first group is a
// Deployment. A Deployment replaces its pods by itself, with no say in how
// many take the new template, so the canary is a second Deployment beside
// it, <name>-canary, that runs the new template on Canary.pods of its
// replicas. The main Deployment is not written until the canary is
// approved; the canary is pruned once the main Deployment has rolled out,
// so its pods serve until their replacements do. The state is in the
// canary Deployment (the revision it runs, its pods' readiness), the
// revision annotation of the main Deployment and the CR's approval, so an
// operator restart loses nothing.

// canarySuffix ends the name of a canary Deployment.
const canarySuffix = "-canary"

// deploymentCanary is the canary of one Deployment in one pass.
type deploymentCanary struct {
	canary *Canary
	// revision and configHash name the desired pod template.
	revision, configHash string
	// desired is the canary as it is to run now; live as read, nil when
	// absent.
	desired, live *appsv1.Deployment
	step          canaryStep
}

// canaryInput is what the step of a Deployment's canary depends on.
type canaryInput struct {
	// Due is true when writing the main Deployment would give its pods a
	// new template.
	Due bool
	// Pods is how many pods the canary takes, 0 for none.
	Pods int32
	// Approved is true when the canary runs the due revision, its pods
	// are Ready and Healthy, and the CR approves it or it has soaked.
	Approved bool
	// Exists is true when the canary Deployment exists, MainDone when the
	// main Deployment is rolled out.
	Exists, MainDone bool
}

// canaryStep is what a pass does with a Deployment and its canary.
type canaryStep struct {
	// HoldMain keeps the main Deployment as it is, and Apply writes the
	// canary as desired (both within the rollout rules: a pause, or the
	// deployment order, keeps the canary as it is instead).
	HoldMain, Apply bool
	// Keep keeps the canary as it is, neither written nor pruned.
	Keep bool
}

// nextCanaryStep is the rule: a rollout that is due runs on the canary
// until it is approved; then the main Deployment takes it, and the canary
// stays until the main Deployment's pods are all rolled out, so capacity
// never drops. Otherwise there is no canary (and one left over is pruned).
func nextCanaryStep(in canaryInput) canaryStep {
	switch {
	case in.Due && in.Pods > 0 && !in.Approved:
		return canaryStep{HoldMain: true, Apply: true}
	case in.Exists && (in.Due || !in.MainDone):
		return canaryStep{Keep: true}
	}
	return canaryStep{}
}

// prepareCanary names the revision of the desired pod template on the
// desired Deployment of group j of node type i, when the group has a
// canary, so that Plan compares it, and returns the canary; nil for any
// other group.
func (r *passRun[T]) prepareCanary(ctx context.Context, i, j int) (*deploymentCanary, error) {
	c := r.groupCanary(i, j)
	d, ok := r.built[i].groups[j].workload.(*appsv1.Deployment)
	if c == nil || !ok {
		return nil, nil
	}
	sum, err := confighash.Compute(ctx, r.configGetter(), d.Namespace, &d.Spec.Template.Spec)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: config hash of Deployment %s: %w", d.Name, err)
	}
	dc := &deploymentCanary{canary: c}
	if len(sum.Refs) > 0 {
		// As the Builder stamps it.
		dc.configHash = sum.Value
	}
	if dc.revision, err = templateRevision(&d.Spec.Template, dc.configHash); err != nil {
		return nil, fmt.Errorf("orchestrate: revision of Deployment %s: %w", d.Name, err)
	}
	metav1.SetMetaDataAnnotation(&d.ObjectMeta, keys.AnnotationCanaryRevision, dc.revision)
	return dc, nil
}

// configGetter reads consumed ConfigMaps and Secrets as the Builder does:
// the desired ones first, then the cache, then the API server.
func (r *passRun[T]) configGetter() confighash.Getter {
	var configs []client.Object
	for _, obj := range r.desired {
		switch obj.(type) {
		case *corev1.ConfigMap, *corev1.Secret:
			configs = append(configs, obj)
		}
	}
	return confighash.Chain(confighash.FromObjects(configs...), r.o.client, r.o.apiReader)
}

// templateRevision names a pod template as the build function returned it,
// with the config hash its pods get: the same template and configuration
// always get the same revision, so an approval names what it approves.
func templateRevision(tmpl *corev1.PodTemplateSpec, configHash string) (string, error) {
	raw, err := json.Marshal(tmpl)
	if err != nil {
		return "", err
	}
	h := fnv.New64a()
	_, _ = h.Write(raw)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(configHash))
	return rand.SafeEncodeString(strconv.FormatUint(h.Sum64(), 10)), nil
}

// revisionChanges reports whether writing desired would give live's pods a
// new template: the revision live was written with differs. A Deployment
// written before its node type had a canary names none; its template is
// then compared with the desired one, field by field where desired sets
// one, and its config hash with the one due.
func revisionChanges(desired, live *appsv1.Deployment, configHash string) bool {
	if rev, ok := live.Annotations[keys.AnnotationCanaryRevision]; ok {
		return rev != desired.Annotations[keys.AnnotationCanaryRevision]
	}
	return live.Spec.Template.Annotations[keys.AnnotationConfigHash] != configHash ||
		!equality.Semantic.DeepDerivative(desired.Spec.Template, live.Spec.Template)
}

// canaryDeployment is the canary of the desired Deployment main: its pod
// template and its labels, with LabelCanary added to both and to its
// selector, the revision on it and on its pods, and pods replicas.
func canaryDeployment(main *appsv1.Deployment, revision string, pods int32) *appsv1.Deployment {
	mark := map[string]string{keys.LabelCanary: keys.ValueTrue}
	rev := map[string]string{keys.AnnotationCanaryRevision: revision}
	c := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name:        main.Name + canarySuffix,
			Namespace:   main.Namespace,
			Labels:      keys.Merge(main.Labels, mark),
			Annotations: rev,
		},
		Spec: *main.Spec.DeepCopy(),
	}
	c.Spec.Replicas = ptr.To(pods)
	if c.Spec.Selector == nil {
		c.Spec.Selector = &metav1.LabelSelector{}
	}
	c.Spec.Selector.MatchLabels = keys.Merge(c.Spec.Selector.MatchLabels, mark)
	c.Spec.Template.Labels = keys.Merge(c.Spec.Template.Labels, mark)
	c.Spec.Template.Annotations = keys.Merge(c.Spec.Template.Annotations, rev)
	return c
}

// isCanary reports whether w is a canary Deployment.
func isCanary(w client.Object) bool {
	return w.GetLabels()[keys.LabelCanary] == keys.ValueTrue
}

// stepCanary decides the step of canary dc of the desired Deployment
// desired, whose live form is main and main's rollout ro. While it holds
// main back, ro says where the canary stands, and it reports whether the
// canary itself is to change.
func (r *passRun[T]) stepCanary(ctx context.Context, i int, dc *deploymentCanary, desired, main *appsv1.Deployment, ro *rollout) (bool, error) {
	replicas := ptr.Deref(desired.Spec.Replicas, ptr.Deref(main.Spec.Replicas, 1))
	dc.desired = canaryDeployment(desired, dc.revision, dc.canary.pods(replicas))
	var live appsv1.Deployment
	switch err := r.o.client.Get(ctx, client.ObjectKeyFromObject(dc.desired), &live); {
	case err == nil:
		dc.live = &live
	case !apierrors.IsNotFound(err):
		return false, fmt.Errorf("orchestrate: read Deployment %s: %w", dc.desired.Name, err)
	}
	in := canaryInput{Due: revisionChanges(desired, main, dc.configHash), Pods: *dc.desired.Spec.Replicas,
		Exists: dc.live != nil, MainDone: ro.Done}
	var wait rollout
	if in.Due && in.Pods > 0 {
		approved, err := r.judgeCanary(ctx, i, dc, ro.Replicas, &wait)
		if err != nil {
			return false, err
		}
		in.Approved = approved
	}
	dc.step = nextCanaryStep(in)
	if !dc.step.HoldMain {
		return false, nil
	}
	plan, err := r.b.Plan(ctx, dc.desired)
	if err != nil {
		return false, fmt.Errorf("orchestrate: %w", err)
	}
	ro.Done, ro.Updating, ro.Hook, ro.Canary, ro.Message = false, true, wait.Hook, wait.Canary, wait.Message
	held := plan.Operation == builder.OperationHeld || plan.Operation == builder.OperationBlocked
	return plan.Changes() || held, nil
}

// judgeCanary reports whether the canary dc runs its revision on all its
// pods, Ready and Healthy, and is approved or has soaked. When it is not,
// wait says what it waits for; main is the main Deployment's replicas.
func (r *passRun[T]) judgeCanary(ctx context.Context, i int, dc *deploymentCanary, main int32, wait *rollout) (bool, error) {
	want := *dc.desired.Spec.Replicas
	wait.Message = fmt.Sprintf("starting the canary, Deployment %s: 0 of %d pods ready", dc.desired.Name, want)
	if dc.live == nil || dc.live.Annotations[keys.AnnotationCanaryRevision] != dc.revision {
		return false, nil
	}
	pods, err := r.podsOf(ctx, dc.live)
	if err != nil {
		return false, err
	}
	var current []*corev1.Pod
	for k := range pods {
		p := &pods[k]
		switch {
		case p.DeletionTimestamp != nil:
		case p.Annotations[keys.AnnotationCanaryRevision] != dc.revision:
			// An older canary's pod, still being replaced.
			return false, nil
		case podReady(p):
			current = append(current, p)
		}
	}
	if int32(len(current)) < want {
		wait.Message = fmt.Sprintf("starting the canary, Deployment %s: %d of %d pods ready", dc.desired.Name, len(current), want)
		return false, nil
	}
	for _, p := range current {
		if _, w := r.askHook(ctx, i, hookHealthy, p); w != nil {
			wait.Hook, wait.Message = w, w.message()
			return false, nil
		}
	}
	if r.approves(i, dc.revision) || r.soaked(dc.canary, current) {
		return true, nil
	}
	w := &canaryWait{NodeType: r.built[i].name, Revision: dc.revision, Updated: int32(len(current)), Replicas: main,
		Soak: dc.canary.Soak, Deployment: dc.desired.Name}
	wait.Canary, wait.Message = w, w.message()
	return false, nil
}

// carryCanary writes or keeps the canary of group j of node type i, by its
// step and the group's decision gd, and reports whether the main Deployment
// is held back for it.
func (r *passRun[T]) carryCanary(ctx context.Context, i, j int, gd groupDecision) bool {
	dc := r.canaries[i][j]
	if dc == nil {
		return false
	}
	switch {
	case dc.step.Apply && gd.Apply && len(r.errs) == 0 && !r.refused.any(i):
		if err := r.st.Record(dc.desired); err != nil {
			r.errs = append(r.errs, fmt.Errorf("orchestrate: %w", err))
			break
		}
		_, _ = r.reconcileChild(ctx, dc.desired)
	case dc.live != nil && (dc.step.Apply || dc.step.Keep):
		if _, err := recordControlled(r.owner, r.st, []client.Object{dc.live}); err != nil {
			r.errs = append(r.errs, fmt.Errorf("orchestrate: keep Deployment %s: %w", dc.live.Name, err))
		}
	}
	return dc.step.HoldMain
}
