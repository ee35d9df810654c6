package orchestrate

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// computeKStatus (readiness.go) judges a workload; this judges a CR of
// generation gen with status cs, as kubectl, Flux and Argo CD do.
func crKStatus(t *testing.T, gen int64, cs *status.ClusterStatus) *kstatus.Result {
	t.Helper()
	st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cs)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": st}}
	u.SetAPIVersion("test.opbuilder.io/v1")
	u.SetKind("Cluster")
	u.SetGeneration(gen)
	res, err := kstatus.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestVerdicts checks the rule table through what a user reads: each state
// of node type b, on a CR whose generation 4 was applied on top of the
// rolled-out generation 3, gives the kstatus condition, observedGeneration,
// kstatus result and printer fields the rule says.
func TestVerdicts(t *testing.T) {
	refused := func(reason string) func(*outcome) {
		return func(out *outcome) {
			out.nodeTypes[1].Refused = []refusal{{Reason: reason, Message: "a human must act"}}
			out.nodeTypes[1].Groups[0].Decision = groupDecision{Hold: heldForFailure}
		}
	}
	rolling := func(out *outcome) {
		g := &out.nodeTypes[1].Groups[0]
		g.Decision = groupDecision{Apply: true, Changing: true}
		g.Rollout.Done = false
	}
	tests := []struct {
		name  string
		state func(*outcome)
		// cond is the kstatus condition that is True ("" for none), with
		// reason; the other one is absent.
		cond, reason string
		kstatus      kstatus.Status
		observed     int64
		ready        string
		rolling      string
	}{
		{name: "rolled out", state: func(*outcome) {},
			kstatus: kstatus.CurrentStatus, observed: 4, ready: "2/2"},
		{name: "rolled out but not available", state: func(out *outcome) {
			out.nodeTypes[1].Groups[0].Rollout = rollout{Done: true, Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 1}
		}, kstatus: kstatus.InProgressStatus, observed: 3, ready: "1/2"},
		{name: "rolling out", state: rolling,
			cond: ConditionReconciling, reason: ReasonRollingOut, kstatus: kstatus.InProgressStatus, observed: 3, ready: "1/2", rolling: "b"},
		{name: "replicas not ready", state: func(out *outcome) {
			out.nodeTypes[1].Groups[0].Rollout = rollout{Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, Message: "2 of 3 ready"}
		}, cond: ConditionReconciling, reason: ReasonReplicasNotReady, kstatus: kstatus.InProgressStatus, observed: 3, ready: "1/2", rolling: "b"},
		{name: "waiting for an earlier node type", state: func(out *outcome) {
			out.nodeTypes[1].Decision = nodeTypeDecision{Pending: true, BlockedBy: "a"}
			out.nodeTypes[1].Groups[0].Decision = groupDecision{Hold: heldForNodeType, WaitingFor: "a"}
		}, cond: ConditionReconciling, reason: ReasonWaitingForNodeType, kstatus: kstatus.InProgressStatus, observed: 3, ready: "1/2", rolling: "b (blocked)"},
		{name: "storage growing", state: func(out *outcome) { out.nodeTypes[1].Resizing = []string{"data-db-b-0"} },
			cond: ConditionReconciling, reason: ReasonStorageResizing, kstatus: kstatus.InProgressStatus, observed: 3, ready: "1/2", rolling: "b"},
		{name: "config missing", state: refused(builder.ReasonConfigMissing),
			cond: ConditionReconciling, reason: builder.ReasonConfigMissing, kstatus: kstatus.InProgressStatus, observed: 3, ready: "1/2", rolling: "b (blocked)"},
		{name: "paused", state: func(out *outcome) {
			out.paused = true
			out.nodeTypes[1].Decision = nodeTypeDecision{Pending: true, Paused: true}
			out.nodeTypes[1].Groups[0].Decision = groupDecision{Hold: heldPaused}
		}, kstatus: kstatus.InProgressStatus, observed: 3, ready: "1/2", rolling: "b (blocked)"},
		{name: "name taken", state: refused(builder.ReasonNameTaken),
			cond: ConditionStalled, reason: builder.ReasonNameTaken, kstatus: kstatus.FailedStatus, observed: 4, ready: "1/2", rolling: "b (blocked)"},
		{name: "controlled by another", state: refused(builder.ReasonControlledByOther),
			cond: ConditionStalled, reason: builder.ReasonControlledByOther, kstatus: kstatus.FailedStatus, observed: 4, ready: "1/2", rolling: "b (blocked)"},
		{name: "update rejected", state: refused(builder.ReasonUpdateRejected),
			cond: ConditionStalled, reason: builder.ReasonUpdateRejected, kstatus: kstatus.FailedStatus, observed: 4, ready: "1/2", rolling: "b (blocked)"},
		{name: "storage resize refused", state: refused(builder.ReasonStorageResizeRefused),
			cond: ConditionStalled, reason: builder.ReasonStorageResizeRefused, kstatus: kstatus.FailedStatus, observed: 4, ready: "1/2", rolling: "b (blocked)"},
		{name: "progress deadline exceeded", state: func(out *outcome) {
			out.nodeTypes[1].Groups[0].Rollout = rollout{Stalled: true, Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, Message: "stalled: deadline"}
		}, cond: ConditionStalled, reason: ReasonRolloutStalled, kstatus: kstatus.FailedStatus, observed: 4, ready: "1/2", rolling: "b (blocked)"},
		{name: "a failed pass that is retried", state: func(out *outcome) { out.failure, out.observed = "could not apply", false },
			cond: ConditionReconciling, reason: ReasonReconcileFailed, kstatus: kstatus.InProgressStatus, observed: 3, ready: "2/2"},
		{name: "a failed pass retrying cannot fix", state: func(out *outcome) {
			out.failure, out.observed, out.terminal = "the deployment order names node type \"x\"", false, true
		}, cond: ConditionStalled, reason: ReasonReconcileFailed, kstatus: kstatus.FailedStatus, observed: 4, ready: "2/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rolledOutCluster().apply(&status.ClusterStatus{})
			out := rolledOutCluster()
			out.generation = 4
			tt.state(out)
			cs := out.apply(before)

			for _, typ := range []string{ConditionReconciling, ConditionStalled} {
				c := meta.FindStatusCondition(cs.Conditions, typ)
				switch {
				case typ != tt.cond && c != nil:
					t.Errorf("%s = %+v, want it absent", typ, c)
				case typ == tt.cond && (c == nil || c.Status != metav1.ConditionTrue || c.Reason != tt.reason):
					t.Errorf("%s = %+v, want True with %s", typ, c, tt.reason)
				case typ == tt.cond && tt.cond != "" && !strings.Contains(c.Message, `"b"`) && tt.reason != ReasonReconcileFailed:
					t.Errorf("%s message %q does not name node type b", typ, c.Message)
				}
			}
			if cs.ObservedGeneration != tt.observed {
				t.Errorf("observedGeneration %d, want %d", cs.ObservedGeneration, tt.observed)
			}
			if res := crKStatus(t, 4, cs); res.Status != tt.kstatus {
				t.Errorf("kstatus %s (%s), want %s", res.Status, res.Message, tt.kstatus)
			}
			if cs.ReadyNodeTypes != tt.ready || cs.RollingNodeType != tt.rolling {
				t.Errorf("readyNodeTypes %q, rollingNodeType %q; want %q, %q", cs.ReadyNodeTypes, cs.RollingNodeType, tt.ready, tt.rolling)
			}
			if again := out.apply(cs); !equality.Semantic.DeepEqual(cs, again) {
				t.Errorf("applying the same outcome again changed the status (a write per pass)")
			}
		})
	}
}

// TestStalledWinsOverReconciling: with a rolling out, b refused and c rolled
// out, the CR is Stalled by b and not Reconciling, which would hide the stall
// from kstatus; RollingNodeType names a, the first not rolled out.
func TestStalledWinsOverReconciling(t *testing.T) {
	out := rolledOutCluster()
	out.nodeTypes = append(out.nodeTypes, nodeTypeObserved{Name: "c", Groups: []groupObserved{doneGroup("", 1, "h4")}})
	out.nodeTypes[1].Refused = []refusal{{Reason: builder.ReasonNameTaken, Message: "ConfigMap db-b-config is not the operator's"}}
	out.nodeTypes[1].Groups[0].Decision = groupDecision{Hold: heldForFailure}
	out.nodeTypes[0].Groups[0].Decision = groupDecision{Apply: true, Changing: true}
	out.nodeTypes[0].Groups[0].Rollout.Done = false
	cs := out.apply(&status.ClusterStatus{})
	if c := meta.FindStatusCondition(cs.Conditions, ConditionStalled); c == nil || c.Reason != builder.ReasonNameTaken ||
		c.Message != `node type "b": ConfigMap db-b-config is not the operator's` {
		t.Errorf("Stalled = %+v, want NameTaken naming b and the object", c)
	}
	if c := meta.FindStatusCondition(cs.Conditions, ConditionReconciling); c != nil {
		t.Errorf("Reconciling = %+v beside Stalled, want it absent", c)
	}
	if cs.ReadyNodeTypes != "1/3" || cs.RollingNodeType != "a" {
		t.Errorf("readyNodeTypes %q, rollingNodeType %q; want 1/3, a", cs.ReadyNodeTypes, cs.RollingNodeType)
	}
}
