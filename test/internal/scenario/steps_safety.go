package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// The condition type and reasons of the runtime's safety rules (builder's
// ownership and missing-config rules, and the orchestrator's conditions).
// Like the rollout reasons, they are spelled out rather than imported, so
// that the test module does not compile the builder's and the
// orchestrator's dependencies; a renamed reason makes every check that
// waits for it time out.
const (
	// ConditionRolloutBlocked is the node type's condition that says a
	// change to its workloads is held, and why.
	ConditionRolloutBlocked = "RolloutBlocked"
	// ReasonNameTaken: an object the operator did not create has the name
	// of one of its children. Also the reason of its Warning event.
	ReasonNameTaken = "NameTaken"
	// ReasonConfigMissing: a workload's pods need a ConfigMap or Secret that
	// does not exist. Also the reason of its Warning event.
	ReasonConfigMissing = "ConfigMissing"
	// ReasonWaitingForNodeType: a node type's change waits for an earlier
	// node type in the deployment order to roll out.
	ReasonWaitingForNodeType = "WaitingForNodeType"
	// ReasonUpdated is the event of a child the operator changed; an
	// adoption is one.
	ReasonUpdated = "Updated"
)

// ---- Step 9: a user's object with a child's name ----

// UserLabel and UserDataKey are what CreateUserConfigMap gives the user's
// ConfigMap besides its name: fields the operator does not set, which an
// adoption must keep.
const (
	UserLabel   = "e2e.opbuilder.io/made-by"
	UserDataKey = "users-own.properties"
)

// SampleChildName is the name that a CR applied from the sample gives the
// ConfigMap, workload, Service and PodDisruptionBudget of nodeType's first
// group: "<CR>-<node type>-<group>". It is known before the CR exists, so
// that a user can take it first.
func (s *Scenario) SampleChildName(nodeType string) (string, error) {
	groups, err := s.SampleGroups()
	if err != nil {
		return "", err
	}
	if len(groups[nodeType]) == 0 {
		return "", fmt.Errorf("the sample has no group of node type %q", nodeType)
	}
	return s.Instance.Name + "-" + nodeType + "-" + groups[nodeType][0], nil
}

// CreateUserConfigMap creates, as a user would (with the admin client), a
// ConfigMap called name with a label and a data key of its own and nothing
// of the operator's, and returns it as created.
func (s *Scenario) CreateUserConfigMap(ctx context.Context, name string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Instance.Namespace, Name: name, Labels: map[string]string{UserLabel: "e2e"}},
		Data:       map[string]string{UserDataKey: "# a user's own settings\n"},
	}
	if err := s.Cluster.Client.Create(ctx, cm); err != nil {
		return nil, fmt.Errorf("creating the user's ConfigMap %s: %w", name, err)
	}
	return cm, nil
}

// CheckNameTaken returns nil once nodeType's RolloutBlocked condition is
// True with reason NameTaken, naming theirs and the adopt annotation, and
// every other node type runs (CheckRunningExcept): a refusal holds one node
// type, not the CR. A write to theirs is a permanent failure.
func (s *Scenario) CheckNameTaken(ctx context.Context, nodeType string, theirs *corev1.ConfigMap) error {
	if err := s.CheckUntouched(ctx, theirs); err != nil {
		return err
	}
	c, err := s.NodeTypeCondition(ctx, nodeType, ConditionRolloutBlocked)
	if err != nil {
		return err
	}
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != ReasonNameTaken {
		return fmt.Errorf("node type %q: RolloutBlocked is %s, want True with %s", nodeType, describeCondition(c), ReasonNameTaken)
	}
	if !strings.Contains(c.Message, "ConfigMap "+objectName(theirs)) || !strings.Contains(c.Message, keys.AnnotationAdopt) {
		return permanent("node type %q: RolloutBlocked names neither the object nor the fix: %q", nodeType, c.Message)
	}
	return s.CheckRunningExcept(ctx, nodeType)
}

// CheckUntouched returns a permanent error when the user's ConfigMap
// theirs is gone or was written since it was created: by anyone, as its
// resourceVersion, owner references, labels and data say, and by the
// operator at all, as the API server's audit log says (a create the API
// server refused is no write, and at most one is sent).
func (s *Scenario) CheckUntouched(ctx context.Context, theirs *corev1.ConfigMap) error {
	var cm corev1.ConfigMap
	switch err := s.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(theirs), &cm); {
	case apierrors.IsNotFound(err):
		return permanent("the user's ConfigMap %s is gone", objectName(theirs))
	case err != nil:
		return err
	}
	if cm.ResourceVersion != theirs.ResourceVersion || len(cm.OwnerReferences) > 0 ||
		!maps.Equal(cm.Labels, theirs.Labels) || !maps.Equal(cm.Data, theirs.Data) {
		return permanent("the user's ConfigMap %s was written: resourceVersion %s → %s, owners %v, labels %v → %v, data keys %v",
			objectName(theirs), theirs.ResourceVersion, cm.ResourceVersion, cm.OwnerReferences, theirs.Labels, cm.Labels, slices.Sorted(maps.Keys(cm.Data)))
	}
	writes, err := s.OperatorWritesTo(theirs.CreationTimestamp.Time, "configmaps", theirs.Name)
	if err != nil {
		return err
	}
	// The operator creates a child on the condition that its name is free:
	// the one create it sends for the name is refused with a 409 Conflict
	// and changes nothing, and it remembers the name is taken.
	refused := slices.DeleteFunc(slices.Clone(writes), func(w testcluster.AuditEvent) bool {
		return w.Verb != "patch" || w.ResponseStatus == nil || w.ResponseStatus.Code != http.StatusConflict
	})
	if len(refused) > 1 {
		return permanent("the operator sent %d creates of the user's ConfigMap %s, each refused; want at most one: %v", len(refused), objectName(theirs), refused)
	}
	if len(writes) > len(refused) {
		return permanent("the operator wrote the user's ConfigMap %s: %v", objectName(theirs), writes)
	}
	return nil
}

// CheckNameTakenEvent returns nil once the CR carries exactly one NameTaken
// event, a Warning about theirs that names it and the adopt annotation. The
// operator retries a refusal on every pass; a second event is a permanent
// failure.
func (s *Scenario) CheckNameTakenEvent(ctx context.Context, theirs *corev1.ConfigMap) error {
	events, err := EventsOn(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return err
	}
	taken := WithReason(events, ReasonNameTaken)
	switch n := Occurrences(taken); {
	case n == 0:
		return fmt.Errorf("no %s event on the %s yet", ReasonNameTaken, s.Operator.Kind)
	case n > 1:
		return permanent("%d %s events, want 1:\n  %s", n, ReasonNameTaken, strings.Join(describeEvents(taken), "\n  "))
	}
	e := taken[0]
	if e.Type != corev1.EventTypeWarning || e.RelatedKind != "ConfigMap" || e.RelatedName != theirs.Name ||
		!strings.Contains(e.Note, "ConfigMap "+objectName(theirs)) || !strings.Contains(e.Note, keys.AnnotationAdopt) {
		return permanent("the %s event is not a Warning about %s that names it and the fix: %s", ReasonNameTaken, objectName(theirs), e)
	}
	return nil
}

// WorkloadExists reports whether the workload of nodeType called name
// exists, whoever made it.
func (s *Scenario) WorkloadExists(ctx context.Context, nodeType, name string) (bool, error) {
	n, ok := s.Operator.NodeType(nodeType)
	if !ok {
		return false, fmt.Errorf("unknown node type %q", nodeType)
	}
	obj, err := emptyObject(n.WorkloadKind())
	if err != nil {
		return false, err
	}
	switch err := s.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: s.Instance.Namespace, Name: name}, obj); {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// Adopt annotates the user's ConfigMap keys.AnnotationAdopt=<CR name>, as
// the refusal's message tells a user to do to hand it over.
func (s *Scenario) Adopt(ctx context.Context, theirs *corev1.ConfigMap) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{keys.AnnotationAdopt: s.Instance.Name}}})
	if err != nil {
		return err
	}
	_, err = s.Cluster.Kube.CoreV1().ConfigMaps(theirs.Namespace).
		Patch(ctx, theirs.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("annotating the user's ConfigMap %s: %w", objectName(theirs), err)
	}
	return nil
}

// CheckAdopted returns nil once the user's ConfigMap theirs is a child of
// the CR: controlled by it and labelled as its children are, with the
// user's label and data key kept, and an Updated event about it on the CR
// that says it was adopted.
func (s *Scenario) CheckAdopted(ctx context.Context, theirs *corev1.ConfigMap) error {
	var cm corev1.ConfigMap
	if err := s.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(theirs), &cm); err != nil {
		return err
	}
	adopted := Children{{Kind: "ConfigMap", Object: &cm}}
	if err := adopted.CheckOwnedAndLabelled(s.Instance.Name, s.UID, strings.ToLower(s.Operator.Kind)); err != nil {
		return err
	}
	if cm.Labels[UserLabel] != theirs.Labels[UserLabel] || cm.Data[UserDataKey] != theirs.Data[UserDataKey] {
		return permanent("the adopted ConfigMap %s lost the user's fields: labels %v, data keys %v",
			objectName(theirs), cm.Labels, slices.Sorted(maps.Keys(cm.Data)))
	}
	events, err := EventsOn(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return err
	}
	for _, e := range WithReason(events, ReasonUpdated) {
		if e.RelatedKind == "ConfigMap" && e.RelatedName == cm.Name && strings.Contains(e.Note, "adopted") {
			return nil
		}
	}
	return fmt.Errorf("no %s event about %s that says it was adopted yet", ReasonUpdated, objectName(theirs))
}

// ---- Step 10: a Secret the workloads need goes missing ----

// SecretEnvPatch is the JSON patch that gives every node type's container
// the environment variable name, read from key of the Secret secret and
// not optional: without the Secret, no pod of any workload can start.
func (o Operator) SecretEnvPatch(name, secret, key string) (string, error) {
	env := []corev1.EnvVar{{
		Name: name,
		ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key,
		}},
	}}
	return jsonPatch("add", "/spec/env", env)
}

// SetSecretEnv applies SecretEnvPatch.
func (s *Scenario) SetSecretEnv(ctx context.Context, name, secret, key string) error {
	patch, err := s.Operator.SecretEnvPatch(name, secret, key)
	if err != nil {
		return err
	}
	_, err = s.Instance.Patch(ctx, patch)
	return err
}

// CreateSecret creates, as a user would, the Secret name in the CR's
// namespace with data and nothing of the operator's.
func (s *Scenario) CreateSecret(ctx context.Context, name string, data map[string][]byte) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Instance.Namespace, Name: name}, Data: data}
	if err := s.Cluster.Client.Create(ctx, secret); err != nil {
		return fmt.Errorf("creating Secret %s: %w", name, err)
	}
	return nil
}

// DeleteSecret deletes the Secret name in the CR's namespace, as a user
// would by mistake.
func (s *Scenario) DeleteSecret(ctx context.Context, name string) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Instance.Namespace, Name: name}}
	if err := s.Cluster.Client.Delete(ctx, secret); err != nil {
		return fmt.Errorf("deleting Secret %s: %w", name, err)
	}
	return nil
}

// CheckSecretWatched returns nil once the Secret name carries the watch
// label, which the operator puts on the external objects its workloads
// consume, so that their changes reach it.
func (s *Scenario) CheckSecretWatched(ctx context.Context, name string) error {
	var secret corev1.Secret
	if err := s.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: s.Instance.Namespace, Name: name}, &secret); err != nil {
		return err
	}
	if secret.Labels[keys.LabelWatch] != keys.ValueTrue {
		return fmt.Errorf("the Secret %s has labels %v, without %s=%s yet", name, secret.Labels, keys.LabelWatch, keys.ValueTrue)
	}
	return nil
}

// CheckHeldForMissing returns nil once every node type, in deployment
// order, is held for the missing Secret secret: RolloutBlocked True with
// reason ConfigMissing and a message naming the Secret, or, since a held
// workload keeps its node type from being rolled out, with reason
// WaitingForNodeType for an earlier node type that is held for it; and the
// CR's Ready condition is False with reason ConfigMissing. A workload
// written meanwhile is a permanent failure (CheckNothingRolled).
func (s *Scenario) CheckHeldForMissing(ctx context.Context, before *Snapshot, secret string) error {
	if err := s.CheckNothingRolled(ctx, before); err != nil {
		return err
	}
	missing := "Secret " + s.Instance.Namespace + "/" + secret
	held := map[string]bool{}
	for _, nt := range s.Operator.NodeTypeNames() {
		c, err := s.NodeTypeCondition(ctx, nt, ConditionRolloutBlocked)
		if err != nil {
			return err
		}
		switch {
		case c == nil || c.Status != metav1.ConditionTrue:
			return fmt.Errorf("node type %q: RolloutBlocked is %s, want True", nt, describeCondition(c))
		case c.Reason == ReasonConfigMissing && strings.Contains(c.Message, missing):
			held[nt] = true
		case c.Reason == ReasonConfigMissing:
			return permanent("node type %q: RolloutBlocked does not name %s: %q", nt, missing, c.Message)
		case c.Reason == ReasonWaitingForNodeType && held[waitedFor(c.Message)]:
		default:
			return fmt.Errorf("node type %q: RolloutBlocked is %s, want %s or %s for a node type held for %s",
				nt, describeCondition(c), ReasonConfigMissing, ReasonWaitingForNodeType, missing)
		}
	}
	return s.CheckNotReady(ctx, ReasonConfigMissing)
}

// waitedFor returns the node type a WaitingForNodeType message names
// (`waiting for node type "historical" to roll out`), or "".
func waitedFor(message string) string {
	_, rest, ok := strings.Cut(message, "node type ")
	if !ok {
		return ""
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return ""
	}
	name, _ := strconv.Unquote(quoted)
	return name
}

// CheckConfigMissingEvents returns the CR's ConfigMissing events, and nil
// once there is at least one and each is a Warning about a workload of
// before that names the missing Secret. A workload with more than one is a
// permanent failure: the Warning is recorded once per held state, not per
// pass.
func (s *Scenario) CheckConfigMissingEvents(ctx context.Context, before *Snapshot, secret string) ([]Event, error) {
	events, err := EventsOn(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return nil, err
	}
	missing := WithReason(events, ReasonConfigMissing)
	if len(missing) == 0 {
		return nil, fmt.Errorf("no %s event on the %s yet", ReasonConfigMissing, s.Operator.Kind)
	}
	for _, w := range before.Workloads {
		if n := EventCount(missing, ReasonConfigMissing, w.Child); n > 1 {
			return missing, permanent("%s: %d %s events, want at most 1:\n  %s", w.Child, n, ReasonConfigMissing, strings.Join(describeEvents(missing), "\n  "))
		}
	}
	for _, e := range missing {
		_, ok := before.Workloads[e.RelatedKind+" "+s.Instance.Namespace+"/"+e.RelatedName]
		if e.Type != corev1.EventTypeWarning || !ok || !strings.Contains(e.Note, "Secret "+s.Instance.Namespace+"/"+secret) {
			return missing, permanent("a %s event that is not a Warning about a workload naming Secret %s: %s", ReasonConfigMissing, secret, e)
		}
	}
	return missing, nil
}

// CheckNothingRolled returns a permanent error when a workload of before
// is gone, or has a revision, generation or config hash other than in
// before: a held workload keeps its live spec, and nothing rolls.
func (s *Scenario) CheckNothingRolled(ctx context.Context, before *Snapshot) error {
	after, err := s.Snapshot(ctx)
	if err != nil {
		return err
	}
	for key, b := range before.Workloads {
		a, ok := after.Workloads[key]
		switch {
		case !ok:
			return permanent("%s disappeared", key)
		case a.Revisions != b.Revisions || a.Object.GetGeneration() != b.Object.GetGeneration() || a.ConfigHash != b.ConfigHash:
			return permanent("%s was written although it is held: revisions %d → %d, generation %d → %d, config hash %q → %q",
				key, b.Revisions, a.Revisions, b.Object.GetGeneration(), a.Object.GetGeneration(), b.ConfigHash, a.ConfigHash)
		}
	}
	return nil
}

// WorkloadWrites returns the operator's write requests to StatefulSets and
// Deployments (status excluded, which it does not write) since t.
func (s *Scenario) WorkloadWrites(since time.Time) ([]testcluster.AuditEvent, error) {
	writes, err := s.OperatorWrites(since)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(writes, func(w testcluster.AuditEvent) bool {
		r := w.ObjectRef
		return r == nil || r.APIGroup != "apps" || (r.Resource != "statefulsets" && r.Resource != "deployments")
	}), nil
}

// ---- Shared by steps 9 and 10 ----

// NodeTypeCondition returns the condition of type typ in nodeType's entry
// of the CR's status, or nil when the entry or the condition is absent, or
// was set for an older generation of the CR.
func (s *Scenario) NodeTypeCondition(ctx context.Context, nodeType, typ string) (*metav1.Condition, error) {
	gen, st, err := s.Instance.ReadStatus(ctx)
	if err != nil {
		return nil, err
	}
	for _, nt := range st.NodeTypes {
		if nt.Name != nodeType {
			continue
		}
		if c := meta.FindStatusCondition(nt.Conditions, typ); c != nil && c.ObservedGeneration == gen {
			return c, nil
		}
	}
	return nil, nil
}

// CheckNotReady returns nil when the CR's Ready condition is False with
// reason for its current generation.
func (s *Scenario) CheckNotReady(ctx context.Context, reason string) error {
	gen, st, err := s.Instance.ReadStatus(ctx)
	if err != nil {
		return err
	}
	c := meta.FindStatusCondition(st.Conditions, "Ready")
	fresh := c != nil && st.ObservedGeneration == gen && (c.ObservedGeneration == 0 || c.ObservedGeneration == gen)
	if !fresh || c.Status != metav1.ConditionFalse || c.Reason != reason {
		return fmt.Errorf("the %s's Ready condition is %s, want False with %s for generation %d", s.Operator.Kind, describeCondition(c), reason, gen)
	}
	return nil
}

// BlockedSummary lists every node type's RolloutBlocked condition, in
// deployment order, for reports.
func (s *Scenario) BlockedSummary(ctx context.Context) (string, error) {
	lines := make([]string, 0, len(s.Operator.NodeTypes))
	for _, nt := range s.Operator.NodeTypeNames() {
		c, err := s.NodeTypeCondition(ctx, nt, ConditionRolloutBlocked)
		if err != nil {
			return "", err
		}
		if c == nil {
			lines = append(lines, nt+": <absent>")
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: %s %s: %s", nt, c.Status, c.Reason, c.Message))
	}
	return strings.Join(lines, "\n"), nil
}

// OperatorWritesTo returns the operator's write requests since t to the
// object of resource (e.g. "configmaps") called name in the CR's namespace.
func (s *Scenario) OperatorWritesTo(since time.Time, resource, name string) ([]testcluster.AuditEvent, error) {
	writes, err := s.OperatorWrites(since)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(writes, func(w testcluster.AuditEvent) bool {
		r := w.ObjectRef
		return r == nil || r.Resource != resource || r.Namespace != s.Instance.Namespace || r.Name != name
	}), nil
}

// Summary lists the snapshot's workloads with their revisions, generation
// and config hash, sorted, for reports.
func (snap *Snapshot) Summary() string {
	lines := make([]string, 0, len(snap.Workloads))
	for _, key := range slices.Sorted(maps.Keys(snap.Workloads)) {
		w := snap.Workloads[key]
		lines = append(lines, fmt.Sprintf("%s: %d revisions, generation %d, config hash %s", key, w.Revisions, w.Object.GetGeneration(), w.ConfigHash))
	}
	return strings.Join(lines, "\n")
}

// Occurrences counts events, the repeats of an event series included.
func Occurrences(events []Event) int {
	n := 0
	for _, e := range events {
		n += int(e.Count)
	}
	return n
}

func describeEvents(events []Event) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.String())
	}
	return out
}

func objectName(o client.Object) string { return o.GetNamespace() + "/" + o.GetName() }
