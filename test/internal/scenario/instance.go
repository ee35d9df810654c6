package scenario

import (
	"context"
	"fmt"
	"os"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// Instance is one custom resource of the scaffolded kind.
type Instance struct {
	// Cluster is where it lives.
	Cluster *Cluster
	// Operator describes its kind.
	Operator Operator
	// Namespace and Name name it.
	Namespace, Name string
}

// GVR is the resource of the scaffolded kind.
func (i *Instance) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: i.Operator.APIGroup(), Version: i.Operator.Version, Resource: i.Operator.Resource()}
}

func (i *Instance) client() interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions, subresources ...string) (*unstructured.Unstructured, error)
} {
	return i.Cluster.Dynamic.Resource(i.GVR()).Namespace(i.Namespace)
}

// ReadSample reads a CR manifest (the project's sample) and puts it in the
// instance's namespace under the instance's name.
func (i *Instance) ReadSample(path string) (*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the sample: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		return nil, fmt.Errorf("parsing the sample %s: %w", path, err)
	}
	if u.GetKind() != i.Operator.Kind {
		return nil, fmt.Errorf("the sample %s is a %q, not a %s", path, u.GetKind(), i.Operator.Kind)
	}
	u.SetNamespace(i.Namespace)
	if i.Name != "" {
		u.SetName(i.Name)
	} else {
		i.Name = u.GetName()
	}
	return u, nil
}

// Create creates u, which must be of the instance's kind.
func (i *Instance) Create(ctx context.Context, u *unstructured.Unstructured) error {
	_, err := i.Cluster.Dynamic.Resource(i.GVR()).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// Get reads the CR.
func (i *Instance) Get(ctx context.Context) (*unstructured.Unstructured, error) {
	u, err := i.client().Get(ctx, i.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", i.Operator.Kind, i.Namespace, i.Name, err)
	}
	return u, nil
}

// Exists reports whether the CR exists.
func (i *Instance) Exists(ctx context.Context) (bool, error) {
	_, err := i.client().Get(ctx, i.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// UID returns the CR's UID.
func (i *Instance) UID(ctx context.Context) (types.UID, error) {
	u, err := i.Get(ctx)
	if err != nil {
		return "", err
	}
	return u.GetUID(), nil
}

// Patch applies a JSON patch (RFC 6902) to the CR, as
// `kubectl patch --type=json` does, and returns the resourceVersion the
// change got: everything the operator does about it comes later.
func (i *Instance) Patch(ctx context.Context, jsonPatch string) (uint64, error) {
	u, err := i.Cluster.Dynamic.Resource(i.GVR()).Namespace(i.Namespace).
		Patch(ctx, i.Name, types.JSONPatchType, []byte(jsonPatch), metav1.PatchOptions{})
	if err != nil {
		return 0, fmt.Errorf("patching %s %s/%s with %s: %w", i.Operator.Kind, i.Namespace, i.Name, jsonPatch, err)
	}
	rv, err := strconv.ParseUint(u.GetResourceVersion(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("patched %s %s/%s: resourceVersion %q is not a number", i.Operator.Kind, i.Namespace, i.Name, u.GetResourceVersion())
	}
	return rv, nil
}

// Delete deletes the CR; garbage collection then removes its children.
func (i *Instance) Delete(ctx context.Context) error {
	err := i.Cluster.Dynamic.Resource(i.GVR()).Namespace(i.Namespace).Delete(ctx, i.Name, metav1.DeleteOptions{})
	if err != nil {
		return fmt.Errorf("deleting %s %s/%s: %w", i.Operator.Kind, i.Namespace, i.Name, err)
	}
	return nil
}

// Status is the part of the CR's status the runtime keeps.
type Status struct {
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
	NodeTypes          []NodeTypeStatus   `json:"nodeTypes,omitempty"`
	Inventory          []string           `json:"inventory,omitempty"`
}

// NodeTypeStatus is one node type's entry in Status.
type NodeTypeStatus struct {
	Name          string             `json:"name"`
	Conditions    []metav1.Condition `json:"conditions,omitempty"`
	Replicas      int32              `json:"replicas,omitempty"`
	ReadyReplicas int32              `json:"readyReplicas,omitempty"`
	ConfigHash    string             `json:"configHash,omitempty"`
}

// ReadStatus returns the CR's generation and status.
func (i *Instance) ReadStatus(ctx context.Context) (int64, *Status, error) {
	u, err := i.Get(ctx)
	if err != nil {
		return 0, nil, err
	}
	st := &Status{}
	if raw, ok := u.Object["status"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, st); err != nil {
			return 0, nil, fmt.Errorf("reading the status of %s/%s: %w", i.Namespace, i.Name, err)
		}
	}
	return u.GetGeneration(), st, nil
}

// Ready reports whether the CR's Ready condition is True for its current
// generation, with the condition (nil when absent) for messages.
func (i *Instance) Ready(ctx context.Context) (bool, *metav1.Condition, error) {
	gen, st, err := i.ReadStatus(ctx)
	if err != nil {
		return false, nil, err
	}
	c := meta.FindStatusCondition(st.Conditions, "Ready")
	if c == nil {
		return false, nil, nil
	}
	fresh := st.ObservedGeneration == gen && (c.ObservedGeneration == 0 || c.ObservedGeneration == gen)
	return fresh && c.Status == metav1.ConditionTrue, c, nil
}
