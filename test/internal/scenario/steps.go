package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// PermanentError marks a check failure that waiting cannot cure, such as a
// workload that rolled out of order; callers stop polling on it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is, or wraps, a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

func permanent(format string, args ...any) error {
	return &PermanentError{Err: fmt.Errorf(format, args...)}
}

// ---- Step 1: create ----

// ApplySample creates the CR from the project's sample, as
// `kubectl apply -f` would, and starts tracking it.
func (s *Scenario) ApplySample(ctx context.Context) error {
	u, err := s.Instance.ReadSample(s.SamplePath())
	if err != nil {
		return err
	}
	if err := s.Instance.Create(ctx, u); err != nil {
		return err
	}
	return s.Track(ctx)
}

// SamplePath is the project's sample CR.
func (s *Scenario) SamplePath() string { return filepath.Join(s.ProjectDir, s.Operator.SampleFile()) }

// Track records the UID of the CR, which someone (ApplySample, or kubectl)
// created, and starts recording its workloads. A CR created again under the
// name of a deleted one is a new object: the recorder of the old one is
// stopped, and everything keyed by UID (children, events) follows the new
// one.
func (s *Scenario) Track(ctx context.Context) error {
	if s.Instance.Name == "" {
		u, err := s.Instance.ReadSample(s.SamplePath())
		if err != nil {
			return err
		}
		s.Instance.Name = u.GetName()
	}
	var err error
	if s.UID, err = s.Instance.UID(ctx); err != nil {
		return err
	}
	if s.Recorder != nil {
		s.Recorder.Stop()
		s.Recorder = nil
	}
	s.Recorder, err = StartRecorder(ctx, s.Cluster, s.Instance.Namespace, s.UID)
	return err
}

// Groups returns, per node type present in the CR's spec, its group names
// in the listed order, and each group's replicas (nil when defaulted, or
// when the group autoscales).
func (s *Scenario) Groups(ctx context.Context) (map[string][]string, map[string]*int64, error) {
	u, err := s.Instance.Get(ctx)
	if err != nil {
		return nil, nil, err
	}
	return s.Operator.groupsOf(u)
}

// SampleGroups is Groups of the project's sample: the groups a CR applied
// from it will have, known before it exists.
func (s *Scenario) SampleGroups() (map[string][]string, error) {
	u, err := s.Instance.ReadSample(s.SamplePath())
	if err != nil {
		return nil, err
	}
	groups, _, err := s.Operator.groupsOf(u)
	return groups, err
}

// groupsOf reads the groups and replicas of every node type in a CR.
func (o Operator) groupsOf(u *unstructured.Unstructured) (map[string][]string, map[string]*int64, error) {
	groups := map[string][]string{}
	replicas := map[string]*int64{}
	for _, n := range o.NodeTypes {
		list, found, err := unstructured.NestedSlice(u.Object, "spec", n.FieldName())
		if err != nil {
			return nil, nil, fmt.Errorf("reading spec.%s: %w", n.FieldName(), err)
		}
		if !found {
			continue
		}
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, nil, fmt.Errorf("spec.%s holds a %T, not a group", n.FieldName(), item)
			}
			name, _ := m["name"].(string)
			groups[n.Name] = append(groups[n.Name], name)
			// An autoscaled group's replicas are the autoscaler's, not the
			// CR's: CheckAutoscaled judges them.
			if _, autoscaled := m["autoscaling"]; autoscaled {
				continue
			}
			if r, ok, _ := unstructured.NestedInt64(m, "replicas"); ok {
				replicas[n.Name+"/"+name] = &r
			}
		}
	}
	return groups, replicas, nil
}

// Children lists the CR's children.
func (s *Scenario) Children(ctx context.Context) (Children, error) {
	return ListChildren(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
}

// CheckRunning returns nil once every group of every node type in the CR
// has its ConfigMap, workload, Service and PodDisruptionBudget, and the CR
// its shared ConfigMap, all owned by the CR and labelled, every workload is rolled out with all its pods
// Ready, and the CR's Ready condition is True; otherwise an error that says
// what is still missing.
func (s *Scenario) CheckRunning(ctx context.Context) error { return s.checkRunning(ctx, "") }

// CheckRunningExcept is CheckRunning for every node type but except, whose
// children it ignores, and without the CR's Ready condition, which a node
// type that cannot complete keeps False: it says that the other node types
// went on.
func (s *Scenario) CheckRunningExcept(ctx context.Context, except string) error {
	if except == "" {
		return errors.New("CheckRunningExcept: no node type to leave out")
	}
	return s.checkRunning(ctx, except)
}

// checkRunning is CheckRunning leaving out the node type except, unless it
// is "".
func (s *Scenario) checkRunning(ctx context.Context, except string) error {
	if s.Process != nil {
		if err := s.Process.Exited(); err != nil {
			return &PermanentError{Err: err}
		}
	}
	groups, replicas, err := s.Groups(ctx)
	if err != nil {
		return err
	}
	children, states, err := ReadWorkloads(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return err
	}
	delete(groups, except)
	children = slices.DeleteFunc(children, func(c Child) bool { return except != "" && c.NodeType() == except })
	states = slices.DeleteFunc(states, func(w WorkloadState) bool { return except != "" && w.NodeType() == except })
	if err := children.CheckOwnedAndLabelled(s.Instance.Name, s.UID, strings.ToLower(s.Operator.Kind)); err != nil {
		return err
	}
	var missing []string
	for _, nt := range slices.Sorted(maps.Keys(groups)) {
		n, _ := s.Operator.NodeType(nt)
		wantKind := n.WorkloadKind()
		for _, g := range groups[nt] {
			of := children.OfNodeType(nt)
			var mine Children
			for _, c := range of {
				if c.Group() == g || (len(groups[nt]) == 1 && c.Group() == "") {
					mine = append(mine, c)
				}
			}
			where := nt + "/" + g
			if len(mine.OfKind("ConfigMap")) == 0 {
				missing = append(missing, where+": no ConfigMap")
			}
			if len(mine.OfKind("Service")) == 0 {
				missing = append(missing, where+": no Service")
			}
			if n := len(mine.OfKind("PodDisruptionBudget")); n != 1 {
				missing = append(missing, fmt.Sprintf("%s: %d PodDisruptionBudgets, want 1", where, n))
			}
			if w := mine.Workloads(); len(w) != 1 || w[0].Kind != wantKind {
				missing = append(missing, fmt.Sprintf("%s: workloads %v, want one %s", where, w.Names(), wantKind))
			} else if r := replicas[where]; r != nil {
				var got int32
				switch o := w[0].Object.(type) {
				case *appsv1.Deployment:
					got = ptr.Deref(o.Spec.Replicas, 1)
				case *appsv1.StatefulSet:
					got = ptr.Deref(o.Spec.Replicas, 1)
				}
				if int64(got) != *r {
					missing = append(missing, fmt.Sprintf("%s: %s has %d replicas, the CR asks for %d", where, w[0], got, *r))
				}
			}
		}
	}
	if !slices.ContainsFunc(children, func(c Child) bool { return c.IsShared(s.Instance.Name) }) {
		missing = append(missing, "no shared ConfigMap "+SharedConfigName(s.Instance.Name))
	}
	for _, c := range children {
		if _, ok := groups[c.NodeType()]; !ok && !c.IsShared(s.Instance.Name) {
			missing = append(missing, fmt.Sprintf("%s belongs to node type %q, which the CR does not have", c, c.NodeType()))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not every node type is complete:\n  %s", strings.Join(missing, "\n  "))
	}

	var waiting []string
	for _, w := range states {
		if !w.RolledOut() {
			waiting = append(waiting, w.String())
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("waiting for workloads to be rolled out and Ready:\n  %s", strings.Join(waiting, "\n  "))
	}
	if except != "" {
		return nil
	}
	ready, cond, err := s.Instance.Ready(ctx)
	if err != nil {
		return err
	}
	if !ready {
		return fmt.Errorf("the %s's Ready condition is not True for its generation yet: %s", s.Operator.Kind, describeCondition(cond))
	}
	return nil
}

func describeCondition(c interface{ String() string }) string {
	if c == nil {
		return "<absent>"
	}
	return c.String()
}

// CheckCreatedEvents returns nil when every child has a Created event on
// the CR.
func (s *Scenario) CheckCreatedEvents(ctx context.Context) error {
	children, err := s.Children(ctx)
	if err != nil {
		return err
	}
	events, err := EventsOn(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return err
	}
	if missing := MissingEvents(events, "Created", children); len(missing) > 0 {
		return fmt.Errorf("no Created event on the %s for:\n  %s", s.Operator.Kind, strings.Join(missing, "\n  "))
	}
	// An object is created once; more Created events about it mean events
	// are recorded per reconcile rather than per change.
	var repeated []string
	for _, c := range children {
		if n := EventCount(events, "Created", c); n > 1 {
			repeated = append(repeated, fmt.Sprintf("%s: %d Created events", c, n))
		}
	}
	if len(repeated) > 0 {
		return permanent("objects created once but reported as created more than once:\n  %s", strings.Join(repeated, "\n  "))
	}
	return nil
}

// ---- Step 2: one config change ----

// Snapshot is the state of the CR's children at one moment.
type Snapshot struct {
	// Taken is when the snapshot was taken.
	Taken time.Time
	// Children are the children then.
	Children Children
	// Workloads are their workloads' states, keyed by Child.String().
	Workloads map[string]WorkloadState
}

// Snapshot records the CR's children and their workloads' states.
func (s *Scenario) Snapshot(ctx context.Context) (*Snapshot, error) {
	taken := time.Now()
	children, states, err := ReadWorkloads(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Taken: taken, Children: children, Workloads: map[string]WorkloadState{}}
	for _, w := range states {
		snap.Workloads[w.Child.String()] = w
	}
	return snap, nil
}

// ConfigFile is the configuration file the scaffolded sample gives each
// group of a node type: config["<node type>.properties"].
func ConfigFile(nodeType string) string { return nodeType + ".properties" }

// ConfigPatch is the JSON patch that sets the configuration file of the
// first group of a node type, which the operator renders into that group's
// ConfigMap.
func (o Operator) ConfigPatch(nodeType, content string) (string, error) {
	n, ok := o.NodeType(nodeType)
	if !ok {
		return "", fmt.Errorf("unknown node type %q", nodeType)
	}
	return jsonPatch("add", "/spec/"+n.FieldName()+"/0/config/"+ConfigFile(nodeType), content)
}

// ImagePatch is the JSON patch that sets the image every node type shares.
func (o Operator) ImagePatch(image string) (string, error) {
	return jsonPatch("replace", "/spec/image", image)
}

// RemovePatch is the JSON patch that removes a node type from the CR.
func (o Operator) RemovePatch(nodeType string) (string, error) {
	n, ok := o.NodeType(nodeType)
	if !ok {
		return "", fmt.Errorf("unknown node type %q", nodeType)
	}
	return jsonPatch("remove", "/spec/"+n.FieldName(), nil)
}

func jsonPatch(op, path string, value any) (string, error) {
	p := map[string]any{"op": op, "path": path}
	if value != nil {
		p["value"] = value
	}
	b, err := json.Marshal([]map[string]any{p})
	if err != nil {
		return "", fmt.Errorf("encoding a JSON patch: %w", err)
	}
	return string(b), nil
}

// ChangeConfig applies ConfigPatch.
func (s *Scenario) ChangeConfig(ctx context.Context, nodeType, content string) error {
	patch, err := s.Operator.ConfigPatch(nodeType, content)
	if err != nil {
		return err
	}
	_, err = s.Instance.Patch(ctx, patch)
	return err
}

// CheckOnlyRolled returns nil once the workloads of nodeTypes have exactly
// one revision more than in before, a new config hash, and are rolled out,
// while every other workload kept its revisions and generation. A workload
// that rolled twice, or one that should not have rolled, is a permanent
// failure.
func (s *Scenario) CheckOnlyRolled(ctx context.Context, before *Snapshot, nodeTypes ...string) error {
	return s.checkOnlyRolled(ctx, before, strings.Join(nodeTypes, ", "), true,
		func(w WorkloadState) bool { return slices.Contains(nodeTypes, w.NodeType()) })
}

// checkOnlyRolled is CheckOnlyRolled for the workloads rolls picks, which
// what names in messages; newHash says whether each must also have a new
// config hash (a change of what its pods consume, not of their template).
func (s *Scenario) checkOnlyRolled(ctx context.Context, before *Snapshot, what string, newHash bool, rolls func(WorkloadState) bool) error {
	after, err := s.Snapshot(ctx)
	if err != nil {
		return err
	}
	var waiting []string
	for key, b := range before.Workloads {
		a, ok := after.Workloads[key]
		if !ok {
			return permanent("%s disappeared", key)
		}
		if !rolls(b) {
			if a.Revisions != b.Revisions || a.Object.GetGeneration() != b.Object.GetGeneration() {
				return permanent("%s changed although it should not roll (rolling: %s): revisions %d → %d, generation %d → %d",
					key, what, b.Revisions, a.Revisions, b.Object.GetGeneration(), a.Object.GetGeneration())
			}
			continue
		}
		switch {
		case a.Revisions > b.Revisions+1:
			return permanent("%s rolled more than once: revisions %d → %d", key, b.Revisions, a.Revisions)
		case a.Revisions == b.Revisions:
			waiting = append(waiting, key+": no new revision yet")
		case newHash && a.ConfigHash == b.ConfigHash:
			return permanent("%s got a new revision but its config hash is still %q", key, a.ConfigHash)
		case !a.RolledOut():
			waiting = append(waiting, a.String())
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("waiting for %s to roll:\n  %s", what, strings.Join(waiting, "\n  "))
	}
	return nil
}

// ---- Step 3: ordered rollout ----

// ChangeImage applies ImagePatch and returns the resourceVersion of the
// change.
func (s *Scenario) ChangeImage(ctx context.Context, image string) (uint64, error) {
	patch, err := s.Operator.ImagePatch(image)
	if err != nil {
		return 0, err
	}
	return s.Instance.Patch(ctx, patch)
}

// CheckOrderedRollout returns the rollouts to image seen since
// resourceVersion since, and nil once every workload of the CR has rolled
// out to it. It is a permanent failure when a workload's spec changed
// before the workload before it was rolled out, or when node types rolled
// in an order other than order (the CR's deployment order, with groups in
// the order the CR lists them).
func (s *Scenario) CheckOrderedRollout(ctx context.Context, since uint64, image string, order []string) ([]Rollout, error) {
	rollouts, err := s.Recorder.Rollouts(since, func(o Observation) bool { return o.Image == image })
	if err != nil {
		return nil, err
	}
	groups, _, err := s.Groups(ctx)
	if err != nil {
		return rollouts, err
	}
	return rollouts, CheckOrder(rollouts, order, groups)
}

// CheckOrder judges rollouts (ordered by when they started) against the
// deployment order: node types in order, and within a node type its groups
// in the order groups lists them. It returns nil when every workload rolled
// out, each starting after the previous one was done; a PermanentError when
// a workload rolled out of turn, or started before the previous one was
// done; and a plain error, saying how far it got, while rollouts are still
// missing or unfinished.
func CheckOrder(rollouts []Rollout, order []string, groups map[string][]string) error {
	var want []string // "nodetype/group" in rollout order
	for _, nt := range order {
		for _, g := range groups[nt] {
			want = append(want, nt+"/"+g)
		}
	}
	for i, r := range rollouts {
		if i >= len(want) {
			return permanent("more workloads rolled than expected:\n%s", FormatRollouts(rollouts))
		}
		// A node type with a single group may leave its group label empty.
		wantNT, wantGroup, _ := strings.Cut(want[i], "/")
		if r.NodeType != wantNT || (len(groups[wantNT]) > 1 && r.Group != wantGroup) {
			return permanent("rollout %d was %s/%s, want %s; the order was:\n%s",
				i+1, r.NodeType, r.Group, want[i], FormatRollouts(rollouts))
		}
		if i > 0 {
			prev := rollouts[i-1]
			if prev.Done == 0 || r.Started < prev.Done {
				return permanent("%s/%s started before %s/%s was rolled out:\n%s",
					r.NodeType, r.Group, prev.NodeType, prev.Group, FormatRollouts(rollouts))
			}
		}
	}
	if len(rollouts) < len(want) || rollouts[len(rollouts)-1].Done == 0 {
		return fmt.Errorf("rolled out so far (%d of %d workloads):\n%s", doneCount(rollouts), len(want), FormatRollouts(rollouts))
	}
	return nil
}

func doneCount(rs []Rollout) int {
	n := 0
	for _, r := range rs {
		if r.Done > 0 {
			n++
		}
	}
	return n
}

// ---- Steps 4 and 5: removing node types ----

// RemoveNodeType applies RemovePatch.
func (s *Scenario) RemoveNodeType(ctx context.Context, nodeType string) error {
	patch, err := s.Operator.RemovePatch(nodeType)
	if err != nil {
		return err
	}
	_, err = s.Instance.Patch(ctx, patch)
	return err
}

// CheckPruned returns nil once none of the children nodeType had in before
// exist, each has a Pruned event on the CR, and every other child is
// untouched: same UID and resourceVersion (generation for workloads and
// PodDisruptionBudgets), and no write by the operator since before was
// taken went to anything but the pruned children, the CR's status and
// events.
func (s *Scenario) CheckPruned(ctx context.Context, before *Snapshot, nodeType string) error {
	removed := before.Children.OfNodeType(nodeType)
	if len(removed) == 0 {
		return permanent("the snapshot holds no children of %s to prune", nodeType)
	}
	now, err := s.Children(ctx)
	if err != nil {
		return err
	}
	if left := now.OfNodeType(nodeType); len(left) > 0 {
		return fmt.Errorf("%s's children are not pruned yet:\n  %s", nodeType, strings.Join(left.Names(), "\n  "))
	}
	if err := s.checkUntouched(ctx, before, nodeType, now); err != nil {
		return err
	}
	events, err := EventsOn(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return err
	}
	if missing := MissingEvents(events, "Pruned", removed); len(missing) > 0 {
		return fmt.Errorf("no Pruned event on the %s yet for:\n  %s", s.Operator.Kind, strings.Join(missing, "\n  "))
	}
	return nil
}

func (s *Scenario) checkUntouched(_ context.Context, before *Snapshot, nodeType string, now Children) error {
	want := before.Children.Identity()
	for _, c := range before.Children.OfNodeType(nodeType) {
		delete(want, c.String())
	}
	got := now.Identity()
	for k, v := range want {
		if got[k] != v {
			return permanent("%s was touched while %s was pruned: %s → %q", k, nodeType, v, got[k])
		}
	}

	removedNames := map[string]bool{}
	for _, c := range before.Children.OfNodeType(nodeType) {
		removedNames[c.Object.GetName()] = true
	}
	writes, err := s.Cluster.WritesBy(s.Identity.Username, before.Taken)
	if err != nil {
		return err
	}
	for _, w := range writes {
		if !s.allowedDuringPrune(w, removedNames) {
			return permanent("while %s was pruned the operator wrote %s", nodeType, w)
		}
	}
	return nil
}

func (s *Scenario) allowedDuringPrune(w testcluster.AuditEvent, removed map[string]bool) bool {
	r := w.ObjectRef
	switch {
	case r == nil:
		return false
	case r.Resource == "events":
		return true
	case r.APIGroup == s.Operator.APIGroup() && r.Resource == s.Operator.Resource() && r.Name == s.Instance.Name:
		return r.Subresource == "status" || w.Verb == "patch" || w.Verb == "update"
	default:
		return removed[r.Name] && (w.Verb == "delete" || w.Verb == "deletecollection")
	}
}

// ---- Step 6: idle ----

// OperatorWrites returns the write requests the operator made since t.
func (s *Scenario) OperatorWrites(since time.Time) ([]testcluster.AuditEvent, error) {
	return s.Cluster.WritesBy(s.Identity.Username, since)
}

// Poke changes an annotation of the CR that the runtime does not read, so
// that the operator reconciles it without anything to do.
func (s *Scenario) Poke(ctx context.Context) error {
	patch, err := json.Marshal([]map[string]any{{
		"op": "add", "path": "/metadata/annotations", "value": map[string]string{"e2e.opbuilder.io/poke": time.Now().Format(time.RFC3339Nano)},
	}})
	if err != nil {
		return err
	}
	u, err := s.Instance.Get(ctx)
	if err != nil {
		return err
	}
	if len(u.GetAnnotations()) > 0 {
		patch, err = json.Marshal([]map[string]any{{
			"op": "add", "path": "/metadata/annotations/e2e.opbuilder.io~1poke", "value": time.Now().Format(time.RFC3339Nano),
		}})
		if err != nil {
			return err
		}
	}
	_, err = s.Instance.Patch(ctx, string(patch))
	return err
}

// ---- Step 7: deletion ----

// Descendants lists the names of everything that exists because of the CR:
// its children, and the ReplicaSets, ControllerRevisions and pods of its
// workloads, as "Kind name".
func (s *Scenario) Descendants(ctx context.Context) ([]string, error) {
	var out []string
	children, err := s.Children(ctx)
	if err != nil {
		return nil, err
	}
	out = append(out, children.Names()...)
	ns := client.InNamespace(s.Instance.Namespace)
	var rss appsv1.ReplicaSetList
	if err := s.Cluster.Client.List(ctx, &rss, ns); err != nil {
		return nil, err
	}
	var revs appsv1.ControllerRevisionList
	if err := s.Cluster.Client.List(ctx, &revs, ns); err != nil {
		return nil, err
	}
	var pods corev1.PodList
	if err := s.Cluster.Client.List(ctx, &pods, ns); err != nil {
		return nil, err
	}
	workloadUIDs := map[string]bool{}
	for _, w := range children.Workloads() {
		workloadUIDs[string(w.Object.GetUID())] = true
	}
	ownedBy := func(o client.Object, uids map[string]bool) bool {
		for _, r := range o.GetOwnerReferences() {
			if uids[string(r.UID)] {
				return true
			}
		}
		return false
	}
	rsUIDs := map[string]bool{}
	for i := range rss.Items {
		if ownedBy(&rss.Items[i], workloadUIDs) {
			rsUIDs[string(rss.Items[i].UID)] = true
			out = append(out, "ReplicaSet "+rss.Items[i].Name)
		}
	}
	for i := range revs.Items {
		if ownedBy(&revs.Items[i], workloadUIDs) {
			out = append(out, "ControllerRevision "+revs.Items[i].Name)
		}
	}
	for i := range pods.Items {
		if ownedBy(&pods.Items[i], workloadUIDs) || ownedBy(&pods.Items[i], rsUIDs) {
			out = append(out, "Pod "+pods.Items[i].Name)
		}
	}
	return out, nil
}

// CheckGone returns nil once the CR and every name in descendants are gone.
func (s *Scenario) CheckGone(ctx context.Context, descendants []string) error {
	exists, err := s.Instance.Exists(ctx)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("the %s still exists", s.Operator.Kind)
	}
	var left []string
	for _, d := range descendants {
		kind, name, _ := strings.Cut(d, " ")
		ns, n := s.Instance.Namespace, name
		if i := strings.IndexByte(name, '/'); i >= 0 {
			ns, n = name[:i], name[i+1:]
		}
		obj, err := emptyObject(kind)
		if err != nil {
			return err
		}
		err = s.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: n}, obj)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return err
		default:
			left = append(left, d)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("garbage collection has not removed yet:\n  %s", strings.Join(left, "\n  "))
	}
	return nil
}

func emptyObject(kind string) (client.Object, error) {
	switch kind {
	case "ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "Service":
		return &corev1.Service{}, nil
	case "Pod":
		return &corev1.Pod{}, nil
	case "StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "Deployment":
		return &appsv1.Deployment{}, nil
	case "ReplicaSet":
		return &appsv1.ReplicaSet{}, nil
	case "ControllerRevision":
		return &appsv1.ControllerRevision{}, nil
	case "PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	}
	return nil, fmt.Errorf("unexpected kind %q", kind)
}

// ---- Step 8: bad input ----

// InvalidGroup is the group CreateInvalid puts in the CR: a name that is
// not a DNS label and a negative replica count.
const InvalidGroup = `{"name": "Hot_Tier", "replicas": -1}`

// CreateInvalid tries to create a second CR whose first node type has an
// invalid group, and returns the API server's answer.
func (s *Scenario) CreateInvalid(ctx context.Context) (nodeTypeField string, err error) {
	u, err := s.Instance.ReadSample(s.SamplePath())
	if err != nil {
		return "", err
	}
	u.SetName(s.Instance.Name + "-invalid")
	n := s.Operator.NodeTypes[0]
	var group map[string]any
	if err := json.Unmarshal([]byte(InvalidGroup), &group); err != nil {
		return "", err
	}
	if err := unstructured.SetNestedSlice(u.Object, []any{group}, "spec", n.FieldName()); err != nil {
		return "", err
	}
	return n.FieldName(), s.Instance.Create(ctx, u)
}
