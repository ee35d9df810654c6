package scenario_test

import (
	"strings"
	"testing"

	"github.com/opbuilder/opbuilder/test/internal/scenario"
)

// obs is one observation of workload nt/group.
func obs(rv uint64, nt, group, image string, rolledOut bool) scenario.Observation {
	return scenario.Observation{RV: rv, Kind: "Deployment", Name: nt + "-" + group, NodeType: nt, Group: group, Image: image, RolledOut: rolledOut}
}

var (
	order  = []string{"a", "b"}
	groups = map[string][]string{"a": {"hot", "cold"}, "b": {"default"}}
	isNew  = func(o scenario.Observation) bool { return o.Image == "new" }
)

func TestCheckOrder(t *testing.T) {
	tests := []struct {
		name      string
		obs       []scenario.Observation
		wantErr   string // "" for success
		permanent bool
	}{{
		name: "in order, each after the previous is done",
		obs: []scenario.Observation{
			obs(1, "a", "hot", "old", true), obs(2, "a", "cold", "old", true), obs(3, "b", "default", "old", true),
			obs(10, "a", "hot", "new", false), obs(11, "a", "hot", "new", true),
			obs(12, "a", "cold", "new", false), obs(13, "a", "cold", "new", true),
			obs(14, "b", "default", "new", false), obs(15, "b", "default", "new", true),
		},
	}, {
		name: "still rolling",
		obs: []scenario.Observation{
			obs(10, "a", "hot", "new", false), obs(11, "a", "hot", "new", true),
			obs(12, "a", "cold", "new", false),
		},
		wantErr: "rolled out so far (1 of 3 workloads)",
	}, {
		name: "a later node type first",
		obs: []scenario.Observation{
			obs(10, "b", "default", "new", false), obs(11, "b", "default", "new", true),
		},
		wantErr:   "rollout 1 was b/default, want a/hot",
		permanent: true,
	}, {
		name: "groups out of their listed order",
		obs: []scenario.Observation{
			obs(10, "a", "cold", "new", false), obs(11, "a", "cold", "new", true),
		},
		wantErr:   "rollout 1 was a/cold, want a/hot",
		permanent: true,
	}, {
		name: "started before the previous one was done",
		obs: []scenario.Observation{
			obs(10, "a", "hot", "new", false), obs(11, "a", "cold", "new", false),
			obs(12, "a", "hot", "new", true), obs(13, "a", "cold", "new", true),
		},
		wantErr:   "a/cold started before a/hot was rolled out",
		permanent: true,
	}, {
		name: "a node type's single group may be unlabelled",
		obs: []scenario.Observation{
			obs(10, "a", "hot", "new", false), obs(11, "a", "hot", "new", true),
			obs(12, "a", "cold", "new", false), obs(13, "a", "cold", "new", true),
			obs(14, "b", "", "new", false), obs(15, "b", "", "new", true),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rollouts := scenario.RolloutsFrom(tt.obs, 5, isNew)
			err := scenario.CheckOrder(rollouts, order, groups)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want success, got %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("want an error containing %q, got %v", tt.wantErr, err)
			case err != nil && scenario.IsPermanent(err) != tt.permanent:
				t.Fatalf("permanent = %v, want %v (%v)", scenario.IsPermanent(err), tt.permanent, err)
			}
		})
	}
}

func TestRolloutsFromIgnoresWhatCameBefore(t *testing.T) {
	rollouts := scenario.RolloutsFrom([]scenario.Observation{
		obs(3, "a", "hot", "new", true), // before since: an earlier change
		obs(10, "a", "hot", "new", false),
		obs(11, "a", "hot", "new", true),
		obs(12, "a", "hot", "new", true),
	}, 5, isNew)
	if len(rollouts) != 1 || rollouts[0].Started != 10 || rollouts[0].Done != 11 {
		t.Fatalf("want one rollout started@10 done@11, got %v", rollouts)
	}
}
