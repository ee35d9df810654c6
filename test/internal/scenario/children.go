package scenario

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// Child is one object the operator made for a CR.
type Child struct {
	// Kind is ConfigMap, Service, StatefulSet, Deployment or
	// PodDisruptionBudget.
	Kind string
	// Object is the object as read.
	Object client.Object
}

// NodeType is the child's app.kubernetes.io/component label.
func (c Child) NodeType() string { return c.Object.GetLabels()[keys.LabelComponent] }

// Group is the child's opbuilder.io/group label.
func (c Child) Group() string { return c.Object.GetLabels()[keys.LabelGroup] }

// Name is "Kind namespace/name".
func (c Child) String() string {
	return c.Kind + " " + c.Object.GetNamespace() + "/" + c.Object.GetName()
}

// SharedConfigName is the ConfigMap the scaffold renders the spec.config of
// the CR called crName into. Every node type mounts it and it belongs to
// none: it carries no component label.
func SharedConfigName(crName string) string { return crName + "-shared" }

// IsShared reports whether the child is the shared ConfigMap of the CR
// called crName.
func (c Child) IsShared(crName string) bool {
	return c.Kind == "ConfigMap" && c.Object.GetName() == SharedConfigName(crName)
}

// Children is every object of the kinds a node type consists of that
// carries a CR's owner-uid label.
type Children []Child

// childKinds are the kinds a scaffolded node type creates, with a list type
// for each.
var childKinds = []struct {
	kind string
	list func() client.ObjectList
}{
	{"ConfigMap", func() client.ObjectList { return &corev1.ConfigMapList{} }},
	{"Service", func() client.ObjectList { return &corev1.ServiceList{} }},
	{"StatefulSet", func() client.ObjectList { return &appsv1.StatefulSetList{} }},
	{"Deployment", func() client.ObjectList { return &appsv1.DeploymentList{} }},
	{"PodDisruptionBudget", func() client.ObjectList { return &policyv1.PodDisruptionBudgetList{} }},
}

// ListChildren lists, in namespace, the objects labelled as children of the
// CR with the given UID.
func ListChildren(ctx context.Context, c client.Client, namespace string, owner types.UID) (Children, error) {
	var out Children
	for _, k := range childKinds {
		list := k.list()
		err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{keys.LabelOwnerUID: string(owner)})
		if err != nil {
			return nil, fmt.Errorf("listing %ss: %w", k.kind, err)
		}
		items, err := metaItems(list)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			out = append(out, Child{Kind: k.kind, Object: o})
		}
	}
	return out, nil
}

func metaItems(list client.ObjectList) ([]client.Object, error) {
	var out []client.Object
	switch l := list.(type) {
	case *corev1.ConfigMapList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *corev1.ServiceList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *appsv1.StatefulSetList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *appsv1.DeploymentList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *policyv1.PodDisruptionBudgetList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	default:
		return nil, fmt.Errorf("unexpected list type %T", list)
	}
	return out, nil
}

// OfNodeType returns the children of one node type.
func (cs Children) OfNodeType(nodeType string) Children {
	var out Children
	for _, c := range cs {
		if c.NodeType() == nodeType {
			out = append(out, c)
		}
	}
	return out
}

// OfKind returns the children of one kind.
func (cs Children) OfKind(kind string) Children {
	var out Children
	for _, c := range cs {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// Workloads returns the StatefulSets and Deployments.
func (cs Children) Workloads() Children {
	return append(cs.OfKind("StatefulSet"), cs.OfKind("Deployment")...)
}

// Names lists the children as "Kind namespace/name", sorted, for messages.
func (cs Children) Names() []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.String())
	}
	slices.Sort(out)
	return out
}

// Identity is what "untouched" means for a child: same UID (not
// recreated), same resourceVersion (not written at all), keyed by
// Kind namespace/name.
func (cs Children) Identity() map[string]string {
	out := make(map[string]string, len(cs))
	for _, c := range cs {
		if c.Kind != "ConfigMap" && c.Kind != "Service" {
			// Workload and PodDisruptionBudget status is written by
			// kube-controller-manager; the generation is what changes when
			// the spec does.
			out[c.String()] = fmt.Sprintf("uid=%s generation=%d", c.Object.GetUID(), c.Object.GetGeneration())
			continue
		}
		out[c.String()] = fmt.Sprintf("uid=%s resourceVersion=%s", c.Object.GetUID(), c.Object.GetResourceVersion())
	}
	return out
}

// CheckOwnedAndLabelled returns an error for every child that is not
// controlled by the CR or lacks one of the standard labels with the
// expected value; the shared ConfigMap must carry no component label.
func (cs Children) CheckOwnedAndLabelled(crName string, owner types.UID, app string) error {
	var problems []string
	for _, c := range cs {
		ref := metav1.GetControllerOf(c.Object)
		if ref == nil || ref.UID != owner || ref.Name != crName {
			problems = append(problems, fmt.Sprintf("%s: controller owner is %v, want %s (uid %s)", c, ref, crName, owner))
		}
		l := c.Object.GetLabels()
		want := map[string]string{
			keys.LabelOwnerUID: string(owner),
			keys.LabelInstance: crName,
			keys.LabelName:     app,
		}
		for k, v := range want {
			if l[k] != v {
				problems = append(problems, fmt.Sprintf("%s: label %s=%q, want %q", c, k, l[k], v))
			}
		}
		if l[keys.LabelManagedBy] == "" {
			problems = append(problems, fmt.Sprintf("%s: label %s missing", c, keys.LabelManagedBy))
		}
		switch component, ok := l[keys.LabelComponent]; {
		case c.IsShared(crName) && ok:
			problems = append(problems, fmt.Sprintf("%s: label %s=%q on the shared ConfigMap, which belongs to no node type", c, keys.LabelComponent, component))
		case !c.IsShared(crName) && component == "":
			problems = append(problems, fmt.Sprintf("%s: label %s missing", c, keys.LabelComponent))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("children not owned or labelled as expected:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
