package orchestrate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Shorthands for the observed state of one group.
func missing(name string) groupInput { return groupInput{Name: name, HasWorkload: true} }
func steady(name string) groupInput {
	return groupInput{Name: name, HasWorkload: true, Exists: true, Done: true}
}
func converging(name string) groupInput {
	return groupInput{Name: name, HasWorkload: true, Exists: true}
}
func changed(name string) groupInput {
	return groupInput{Name: name, HasWorkload: true, Exists: true, Changed: true, Done: true}
}
func changedUnready(name string) groupInput {
	return groupInput{Name: name, HasWorkload: true, Exists: true, Changed: true}
}

func reverted(name string) groupInput {
	return groupInput{Name: name, HasWorkload: true, Exists: true, Changed: true, Done: true, Revert: true}
}

var (
	revert = groupDecision{Apply: true, Reverting: true}
	apply  = groupDecision{Apply: true}
	create = groupDecision{Apply: true, Changing: true, Creating: true}
	roll   = groupDecision{Apply: true, Changing: true}
	paused = groupDecision{Hold: heldPaused}
)

func waitNodeType(nt string) groupDecision {
	return groupDecision{Hold: heldForNodeType, WaitingFor: nt}
}
func waitGroup(g string) groupDecision { return groupDecision{Hold: heldForGroup, WaitingFor: g} }

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		in     []nodeTypeInput
		paused bool
		want   []nodeTypeDecision
	}{{
		name: "first install creates every node type at once",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{missing("hot"), missing("cold")}},
			{Name: "b", Groups: []groupInput{missing("")}},
			{Name: "c", Groups: []groupInput{missing("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{create, create}, Starting: true},
			{Name: "b", Groups: []groupDecision{create}, Starting: true},
			{Name: "c", Groups: []groupDecision{create}, Starting: true},
		},
	}, {
		name: "steady state applies nothing new and everything is rolled out",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{steady("hot"), steady("cold")}},
			{Name: "b", Groups: []groupInput{steady("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply, apply}, RolledOut: true},
			{Name: "b", Groups: []groupDecision{apply}, RolledOut: true},
		},
	}, {
		name: "a change to every node type starts with the first group of the first node type",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{changed("hot"), changed("cold")}},
			{Name: "b", Groups: []groupInput{changed("")}},
			{Name: "c", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{roll, waitGroup("hot")}, Starting: true, Pending: true},
			{Name: "b", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
			{Name: "c", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}, {
		name: "the second group rolls once the first is rolled out",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{steady("hot"), changed("cold")}},
			{Name: "b", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply, roll}, Starting: true},
			{Name: "b", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}, {
		name: "the second group waits while the first is still converging",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{converging("hot"), changed("cold")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply, waitGroup("hot")}, Pending: true},
		},
	}, {
		name: "the next node type rolls once the earlier ones are rolled out; later ones wait for it",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{steady("hot"), steady("cold")}},
			{Name: "b", Groups: []groupInput{changed("")}},
			{Name: "c", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply, apply}, RolledOut: true},
			{Name: "b", Groups: []groupDecision{roll}, Starting: true},
			{Name: "c", Groups: []groupDecision{waitNodeType("b")}, Pending: true, BlockedBy: "b"},
		},
	}, {
		name: "an unready node type without changes still blocks the later ones",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{steady("")}},
			{Name: "b", Groups: []groupInput{converging("")}},
			{Name: "c", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply}, RolledOut: true},
			{Name: "b", Groups: []groupDecision{apply}},
			{Name: "c", Groups: []groupDecision{waitNodeType("b")}, Pending: true, BlockedBy: "b"},
		},
	}, {
		name: "the earliest node type that is not rolled out is named as the blocker",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{converging("")}},
			{Name: "b", Groups: []groupInput{changedUnready("")}},
			{Name: "c", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply}},
			{Name: "b", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
			{Name: "c", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}, {
		name: "a node type whose own change is unready is not blocked by itself",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{changedUnready("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{roll}, Starting: true},
		},
	}, {
		name:   "pause holds every change but still creates missing workloads",
		paused: true,
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{changed("hot"), steady("cold")}},
			{Name: "b", Groups: []groupInput{missing("")}},
			{Name: "c", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{paused, apply}, Pending: true, Paused: true},
			{Name: "b", Groups: []groupDecision{create}, Starting: true},
			{Name: "c", Groups: []groupDecision{paused}, Pending: true, Paused: true},
		},
	}, {
		name: "a forced node type rolls past an unready earlier node type and its own unready groups",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{converging("")}},
			{Name: "b", Groups: []groupInput{changedUnready("hot"), changed("cold")}, Forced: true},
			{Name: "c", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply}},
			{Name: "b", Groups: []groupDecision{roll, roll}, Starting: true},
			{Name: "c", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}, {
		name:   "force does not override pause",
		paused: true,
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{changed("")}, Forced: true},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{paused}, Pending: true, Paused: true},
		},
	}, {
		name: "a group without a workload is always applied and never holds anything",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{{Name: "config"}, changed("hot")}},
			{Name: "b", Groups: []groupInput{{Name: ""}}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply, roll}, Starting: true},
			{Name: "b", Groups: []groupDecision{apply}, RolledOut: true},
		},
	}, {
		name: "a node type added to a running cluster is created while a change waits",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{converging("")}},
			{Name: "b", Groups: []groupInput{missing("")}},
			{Name: "c", Groups: []groupInput{changed("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{apply}},
			{Name: "b", Groups: []groupDecision{create}, Starting: true},
			{Name: "c", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}, {
		name: "a revert of drift is applied by the same rules but starts no rollout",
		in: []nodeTypeInput{
			{Name: "a", Groups: []groupInput{reverted("")}},
			{Name: "b", Groups: []groupInput{reverted("")}},
		},
		want: []nodeTypeDecision{
			{Name: "a", Groups: []groupDecision{revert}},
			{Name: "b", Groups: []groupDecision{waitNodeType("a")}, Pending: true, BlockedBy: "a"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.in, tt.paused)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideRollsOneStepAtATime replays a rollout of a change touching every
// node type: each round feeds the previous decisions back as observed state
// (applied groups become converging, then rolled out) and checks that exactly
// one workload starts changing per step, in deployment order, hot before cold.
func TestDecideRollsOneStepAtATime(t *testing.T) {
	type key struct{ nt, g string }
	order := []key{{"a", "hot"}, {"a", "cold"}, {"b", ""}, {"c", ""}}
	state := map[key]groupInput{}
	for _, k := range order {
		state[k] = changed(k.g)
	}
	input := func() []nodeTypeInput {
		var in []nodeTypeInput
		for _, k := range order {
			if len(in) == 0 || in[len(in)-1].Name != k.nt {
				in = append(in, nodeTypeInput{Name: k.nt})
			}
			in[len(in)-1].Groups = append(in[len(in)-1].Groups, state[k])
		}
		return in
	}
	var started []key
	for round := 0; round < 20 && len(started) < len(order); round++ {
		// Whatever converged in the previous round is now rolled out.
		for k, g := range state {
			if g.Exists && !g.Changed && !g.Done {
				state[k] = steady(k.g)
			}
		}
		var startedNow []key
		in := input()
		for i, d := range decide(in, false) {
			for j, gd := range d.Groups {
				if gd.Changing {
					startedNow = append(startedNow, key{in[i].Name, in[i].Groups[j].Name})
				}
			}
		}
		if len(startedNow) != 1 {
			t.Fatalf("round %d: %d workloads started changing (%v), want exactly one", round, len(startedNow), startedNow)
		}
		k := startedNow[0]
		state[k] = converging(k.g)
		started = append(started, k)
	}
	if diff := cmp.Diff(order, started, cmp.AllowUnexported(key{})); diff != "" {
		t.Errorf("rollout order mismatch (-want +got):\n%s", diff)
	}
}
