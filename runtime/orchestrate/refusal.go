package orchestrate

import (
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
)

// refusalRetry is how soon a pass in which the Builder would not write a
// child runs again. What it waits for happens outside the label-scoped
// cache, so no watch event announces it: the object in the way is renamed,
// deleted or annotated for adoption, or the missing ConfigMap or Secret is
// created (without the watch label, which the pass adds once it exists).
const refusalRetry = 30 * time.Second

// refusal is a child the Builder would not write: an object the operator did
// not create already has its name (builder.OperationRefused), or the
// workload's pods need a ConfigMap or Secret that does not exist
// (builder.OperationHeld), or the change cannot be made
// (builder.OperationBlocked).
type refusal struct {
	Reason  string
	Message string
}

// refusals collects, per node type of one pass, the children the Builder
// would not write.
type refusals struct {
	nodeTypeOf map[client.Object]int
	byNodeType [][]refusal
}

func newRefusals(built []builtNodeType) *refusals {
	r := &refusals{nodeTypeOf: map[client.Object]int{}, byNodeType: make([][]refusal, len(built))}
	for i, nt := range built {
		for _, g := range nt.groups {
			for _, obj := range g.objects {
				r.nodeTypeOf[obj] = i
			}
		}
	}
	return r
}

// note records res of the desired object obj when it is a refusal, a hold
// or a block.
func (r *refusals) note(obj client.Object, res builder.Result) {
	switch res.Operation {
	case builder.OperationRefused, builder.OperationHeld, builder.OperationBlocked:
	default:
		return
	}
	if i, ok := r.nodeTypeOf[obj]; ok {
		r.byNodeType[i] = append(r.byNodeType[i], refusal{Reason: res.Reason, Message: res.Message})
	}
}

// any reports whether a child of node type i was refused.
func (r *refusals) any(i int) bool { return len(r.byNodeType[i]) > 0 }

// of returns the refusals of node type i.
func (r *refusals) of(i int) []refusal { return r.byNodeType[i] }

// empty reports whether no child of the pass was refused.
func (r *refusals) empty() bool {
	for i := range r.byNodeType {
		if r.any(i) {
			return false
		}
	}
	return true
}
