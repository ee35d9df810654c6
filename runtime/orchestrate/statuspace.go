package orchestrate

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// This file holds the pace of status writes. A rollout's transitions (a
// condition's status or reason, a config hash, the inventory, the observed
// generation) are written when they happen. Its progress (the replica counts
// and the condition messages that quote them, "4 of 6 replicas ready") moves
// with every pod that becomes ready; written each time, it would cost a
// status write, and a watch event in every client of the CR, per pod. So a
// status that differs from the CR's only in progress is written once that
// progress has stood still for progressQuiet: while pods keep coming up, the
// counts wait for the transition that ends the rollout, which carries the
// final ones, and a rollout that stops half-way shows where it stopped. The
// pass that holds progress back asks to be requeued for when it may go.

// progressQuiet is how long progress must stand still before it is written
// on its own. Kubernetes' own controllers report pod counts as they change;
// a CR's status is read by people and by tools that wait on its conditions,
// and neither needs the counts of a rollout still moving.
const progressQuiet = 10 * time.Second

// progressOnly reports whether next differs from prev in progress only: in
// node types' replica counts, and in the messages of conditions whose type,
// status, reason and observed generation are unchanged.
func progressOnly(prev, next *status.ClusterStatus) bool {
	if len(prev.NodeTypes) != len(next.NodeTypes) {
		return false
	}
	n := next.DeepCopy()
	sameMessages(prev.Conditions, n.Conditions)
	for i := range n.NodeTypes {
		p, nt := &prev.NodeTypes[i], &n.NodeTypes[i]
		if p.Name != nt.Name {
			return false
		}
		nt.Replicas, nt.ReadyReplicas = p.Replicas, p.ReadyReplicas
		sameMessages(p.Conditions, nt.Conditions)
	}
	return equality.Semantic.DeepEqual(prev, n)
}

// sameMessages gives each condition of next the message of its counterpart
// in prev, when it has one with the same status, reason and generation.
func sameMessages(prev, next []metav1.Condition) {
	for i := range next {
		for _, p := range prev {
			if p.Type == next[i].Type && p.Status == next[i].Status && p.Reason == next[i].Reason &&
				p.ObservedGeneration == next[i].ObservedGeneration {
				next[i].Message = p.Message
			}
		}
	}
}
