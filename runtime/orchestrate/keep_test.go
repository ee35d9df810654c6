package orchestrate

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/internal/testenv"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// names is a recorder that notes what is recorded, as "Kind/name".
type names []string

func (n *names) Record(obj client.Object) error {
	gvk, err := apiutil.GVKForObject(obj, testenv.Scheme())
	if err != nil {
		return err
	}
	*n = append(*n, gvk.Kind+"/"+obj.GetName())
	return nil
}

// child returns an object of owner's with the given node type and group
// labels (no group label when group is empty), controlled by owner unless
// foreign.
func child[O client.Object](obj O, owner *testv1.Cluster, name, nodeType, group string, foreign bool) O {
	obj.SetName(name)
	obj.SetNamespace(owner.Namespace)
	l := map[string]string{keys.LabelOwnerUID: string(owner.UID), keys.LabelComponent: nodeType}
	if group != "" {
		l[keys.LabelGroup] = group
	}
	obj.SetLabels(l)
	if !foreign {
		obj.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: testv1.GroupVersion.String(), Kind: "Cluster",
			Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}})
	}
	return obj
}

// keepGroup keeps what the group of a draining workload brought, and only
// that: not another group's or node type's children, not what owner does
// not control, not other workloads (drain judges each), and not an
// autoscaler, which would undo the drain.
func TestKeepGroup(t *testing.T) {
	owner := testOwner()
	objs := []client.Object{
		child(&corev1.Service{}, owner, "a-cold", "a", "cold", false),
		child(&policyv1.PodDisruptionBudget{}, owner, "a-cold", "a", "cold", false),
		child(&autoscalingv2.HorizontalPodAutoscaler{}, owner, "a-cold", "a", "cold", false),
		child(&corev1.Service{}, owner, "a-cold-foreign", "a", "cold", true),
		child(&appsv1.StatefulSet{}, owner, "a-cold-old", "a", "cold", false),
		child(&corev1.Service{}, owner, "a-hot", "a", "hot", false),
		child(&policyv1.PodDisruptionBudget{}, owner, "b-cold", "b", "cold", false),
		child(&corev1.Service{}, owner, "b", "b", "", false),
		child(&policyv1.PodDisruptionBudget{}, owner, "b", "b", "", false),
		child(&corev1.ConfigMap{}, owner, "b-config", "b", "", false),
		child(&corev1.Service{}, owner, "c", "c", "", false),
	}
	o := &Orchestrator[*testv1.Cluster]{
		client: fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(objs...).Build(),
		scheme: testenv.Scheme(),
		kinds:  append(defaultKinds(), &autoscalingv2.HorizontalPodAutoscaler{}),
	}
	for _, tt := range []struct {
		workload client.Object
		want     []string
	}{
		{
			workload: child(&appsv1.StatefulSet{}, owner, "a-cold", "a", "cold", false),
			want:     []string{"PodDisruptionBudget/a-cold", "Service/a-cold"},
		},
		{
			// A node type's only group has no group label.
			workload: child(&appsv1.Deployment{}, owner, "b", "b", "", false),
			want:     []string{"ConfigMap/b-config", "PodDisruptionBudget/b", "Service/b"},
		},
	} {
		var got names
		if err := o.keepGroup(context.Background(), owner, &got, tt.workload); err != nil {
			t.Fatalf("%s: %v", tt.workload.GetName(), err)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("draining %s keeps %v, want %v", tt.workload.GetName(), got, tt.want)
		}
	}
}
