package orchestrate

import (
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
)

// refusalRetry is how soon a pass in which the Builder refused to write an
// object it does not own runs again.
const refusalRetry = 30 * time.Second

// refusal is a child the Builder refused to write (builder.OperationRefused):
// an object the operator did not create already has its name.
type refusal struct {
	Reason  string
	Message string
}

// refusals collects, per node type of one pass, the children the Builder
// refused to write.
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

// note records res of the desired object obj when it is a refusal.
func (r *refusals) note(obj client.Object, res builder.Result) {
	if res.Operation != builder.OperationRefused {
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
