package orchestrate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// g is a group of a budgeted node type: replicas desired, ready of them
// Ready, updated of them at the new revision, step pods per rollout step.
type bg struct {
	name                     string
	replicas, ready, updated int32
	step                     int32
	changed, done            bool
}

func (x bg) in() groupInput {
	return groupInput{Name: x.name, HasWorkload: true, Exists: true, Changed: x.changed, Done: x.done,
		Replicas: x.replicas, Ready: x.ready, Updated: x.updated, Step: x.step}
}

// Shorthands: a group of 2 pods, step 1.
func calm(name string) bg               { return bg{name, 2, 2, 2, 1, false, true} }  // rolled out, nothing pending
func pending(name string) bg            { return bg{name, 2, 2, 2, 1, true, true} }   // rolled out, a change pending
func replacing(name string) bg          { return bg{name, 2, 1, 1, 1, false, false} } // replacing a pod
func between(name string) bg            { return bg{name, 2, 2, 1, 1, false, false} } // one pod replaced, the next not yet
func unready(name string) bg            { return bg{name, 2, 1, 2, 1, false, false} } // a pod not Ready, no rollout
func broken(name string) bg             { return bg{name, 2, 0, 2, 1, true, false} }  // every pod unready, a fix pending
func deploy(name string, step int32) bg { return bg{name, 4, 4, 4, step, true, true} }

func TestSpendBudget(t *testing.T) {
	tests := []struct {
		name   string
		budget int32
		groups []bg
		want   []bool
	}{{
		name:   "a budget of 2 starts two groups of step 1 at once, and holds the third",
		budget: 2,
		groups: []bg{pending("hot"), pending("warm"), pending("cold")},
		want:   []bool{true, true, false},
	}, {
		name:   "a budget of 1 starts one group at a time, as without a budget",
		budget: 1,
		groups: []bg{pending("hot"), pending("cold")},
		want:   []bool{true, false},
	}, {
		name:   "a rollout under way spends its step even between two pods",
		budget: 2,
		groups: []bg{between("hot"), pending("warm"), pending("cold")},
		want:   []bool{true, true, false},
	}, {
		name:   "a rollout under way always continues; the budget only holds others",
		budget: 1,
		groups: []bg{replacing("hot"), replacing("cold"), pending("warm")},
		want:   []bool{true, true, false},
	}, {
		name:   "a budget spent by an unready pod holds every rollout",
		budget: 1,
		groups: []bg{unready("hot"), pending("cold")},
		want:   []bool{true, false},
	}, {
		name:   "an unready pod leaves the rest of a larger budget",
		budget: 2,
		groups: []bg{unready("hot"), pending("warm"), pending("cold")},
		want:   []bool{true, true, false},
	}, {
		name:   "a group whose own pods are unready may roll its fix, it is under way",
		budget: 1,
		groups: []bg{broken("hot"), pending("cold")},
		want:   []bool{true, false},
	}, {
		name:   "a Deployment starts only if its maxUnavailable fits in what is left",
		budget: 3,
		groups: []bg{between("hot"), deploy("web", 2), deploy("api", 2)},
		want:   []bool{true, true, false},
	}, {
		name:   "a Deployment whose maxUnavailable exceeds the budget waits until nothing else spends any",
		budget: 2,
		groups: []bg{between("hot"), deploy("web", 3)},
		want:   []bool{true, false},
	}, {
		name:   "a Deployment whose maxUnavailable exceeds the budget rolls alone rather than never",
		budget: 2,
		groups: []bg{calm("hot"), deploy("web", 3), pending("cold")},
		want:   []bool{true, true, false},
	}, {
		name:   "groups without a change are never held",
		budget: 1,
		groups: []bg{replacing("hot"), calm("cold")},
		want:   []bool{true, true},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]groupInput, len(tt.groups))
			for i, x := range tt.groups {
				in[i] = x.in()
			}
			if diff := cmp.Diff(tt.want, spendBudget(tt.budget, in)); diff != "" {
				t.Errorf("spendBudget() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func heldBudget(n int32) groupDecision { return groupDecision{Hold: heldForBudget, Budget: n} }

// TestDecideWithBudget: the budget replaces the one-group-at-a-time rule,
// and nothing else of decide.
func TestDecideWithBudget(t *testing.T) {
	canary := pending("hot").in()
	canary.Canary = true
	tests := []struct {
		name   string
		in     []nodeTypeInput
		paused bool
		want   []nodeTypeDecision
	}{{
		name: "groups roll in parallel as far as the budget allows; the next node type waits for all",
		in: []nodeTypeInput{
			{Name: "a", Budget: 2, Groups: []groupInput{pending("hot").in(), pending("warm").in(), pending("cold").in()}},
			{Name: "b", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{roll, roll, heldBudget(2)}, Starting: true, Pending: true},
			{Name: "b", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}, {
		name: "a budget spent by an unready pod holds the change",
		in: []nodeTypeInput{
			{Name: "a", Budget: 1, Groups: []groupInput{unready("hot").in(), pending("cold").in()}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply, heldBudget(1)}, Pending: true},
		},
	}, {
		name: "the groups after a canary's still wait for it",
		in: []nodeTypeInput{
			{Name: "a", Budget: 2, Groups: []groupInput{canary, pending("cold").in()}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{roll, waitGroup("hot")}, Starting: true, Pending: true},
		},
	}, {
		name:   "pause holds a budgeted node type",
		paused: true,
		in: []nodeTypeInput{
			{Name: "a", Budget: 2, Groups: []groupInput{pending("hot").in(), pending("cold").in()}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{paused, paused}, Pending: true, Paused: true},
		},
	}, {
		name: "a budgeted node type waits for the earlier node type",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{converging("")}},
			{Name: "b", Budget: 2, Groups: []groupInput{pending("hot").in(), pending("cold").in()}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply}},
			{Name: "b", Groups: []groupDecision{waitNodeType("a"), waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}, {
		name: "a forced node type ignores its budget",
		in: []nodeTypeInput{
			{Name: "a", Budget: 1, Forced: true, Groups: []groupInput{pending("hot").in(), pending("cold").in()}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{roll, roll}, Starting: true},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, decide(tt.in, tt.paused)); diff != "" {
				t.Errorf("decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangeBudgetValidate(t *testing.T) {
	for _, tt := range []struct {
		v  intstr.IntOrString
		ok bool
	}{
		{intstr.FromInt32(1), true},
		{intstr.FromInt32(5), true},
		{intstr.FromString("1%"), true},
		{intstr.FromString("100%"), true},
		{intstr.FromInt32(0), false},
		{intstr.FromInt32(-1), false},
		{intstr.FromString("0%"), false},
		{intstr.FromString("101%"), false},
		{intstr.FromString("-5%"), false},
		{intstr.FromString("two"), false},
	} {
		err := (&ChangeBudget{MaxUnavailable: tt.v}).validate()
		if (err == nil) != tt.ok {
			t.Errorf("validate(%s) = %v, want ok %v", tt.v.String(), err, tt.ok)
		}
	}
	if got := (&ChangeBudget{MaxUnavailable: intstr.FromString("25%")}).pods(6); got != 2 {
		t.Errorf("25%% of 6 pods is %d, want 2 (rounded up)", got)
	}
}

// TestHeldForBudgetStatus: a group held by its node type's change budget
// shows on RolloutBlocked as WaitingForChangeBudget, quoting the budget,
// while the node type stays Progressing and the CR Reconciling (room comes
// by itself).
func TestHeldForBudgetStatus(t *testing.T) {
	out := rolledOutCluster()
	out.nodeTypes[0].Decision = nodeTypeDecision{Pending: true}
	out.nodeTypes[0].Groups[1].Decision = heldBudget(2)
	cs := out.apply(&status.ClusterStatus{})
	blocked := meta.FindStatusCondition(cs.NodeTypes[0].Conditions, ConditionRolloutBlocked)
	if blocked.Status != metav1.ConditionTrue || blocked.Reason != ReasonWaitingForChangeBudget ||
		!strings.Contains(blocked.Message, `group "cold"`) || !strings.Contains(blocked.Message, "at most 2 pods") {
		t.Errorf("RolloutBlocked = %+v, want True WaitingForChangeBudget naming cold and the budget", blocked)
	}
	if c := meta.FindStatusCondition(cs.NodeTypes[0].Conditions, ConditionProgressing); c.Status != metav1.ConditionTrue {
		t.Errorf("Progressing = %+v, want True while cold waits for the budget", c)
	}
	if !conditionTrue(cs.Conditions, ConditionReconciling) || conditionTrue(cs.Conditions, ConditionStalled) {
		t.Errorf("CR conditions %+v, want Reconciling and not Stalled", cs.Conditions)
	}
	if got := metricState(cs.NodeTypes[0]); got != stateWaiting {
		t.Errorf("metric state %q, want %q", got, stateWaiting)
	}
}

func conditionTrue(conds []metav1.Condition, typ string) bool {
	return meta.IsStatusConditionTrue(conds, typ)
}

// TestInvalidChangeBudgetIsRefusedAtSetup: New refuses a budget of no pod,
// naming the node type and the field.
func TestInvalidChangeBudgetIsRefusedAtSetup(t *testing.T) {
	for _, v := range []intstr.IntOrString{intstr.FromInt32(0), intstr.FromInt32(-2), intstr.FromString("150%")} {
		err := validateNodeTypes([]NodeType[*testv1.Cluster]{{Name: "a", Build: groups(), ChangeBudget: &ChangeBudget{MaxUnavailable: v}}})
		if err == nil || !strings.Contains(err.Error(), `node type "a": ChangeBudget`) {
			t.Errorf("budget %s: error %v, want one naming node type a's ChangeBudget", v.String(), err)
		}
	}
}
