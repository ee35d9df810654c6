package v1

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// The deep copies below are written by hand because this package is a test
// fixture outside any controller-gen run; keep them in step with types.go.

// DeepCopyInto copies the receiver into out.
func (in *NodeTypeSpec) DeepCopyInto(out *NodeTypeSpec) {
	*out = *in
	out.Config = copyMap(in.Config)
	out.PodLabels = copyMap(in.PodLabels)
	if in.Groups != nil {
		out.Groups = append([]string(nil), in.Groups...)
	}
}

// DeepCopyInto copies the receiver into out.
func (in *ClusterSpec) DeepCopyInto(out *ClusterSpec) {
	*out = *in
	if in.Order != nil {
		out.Order = append([]string(nil), in.Order...)
	}
	if in.NodeTypes != nil {
		out.NodeTypes = make([]NodeTypeSpec, len(in.NodeTypes))
		for i := range in.NodeTypes {
			in.NodeTypes[i].DeepCopyInto(&out.NodeTypes[i])
		}
	}
}

// DeepCopyInto copies the receiver into out.
func (in *Cluster) DeepCopyInto(out *Cluster) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	in.Status.DeepCopyInto(&out.Status.ClusterStatus)
}

// DeepCopy returns a deep copy of the receiver.
func (in *Cluster) DeepCopy() *Cluster {
	if in == nil {
		return nil
	}
	out := new(Cluster)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *Cluster) DeepCopyObject() runtime.Object { return in.DeepCopy() }

// DeepCopyObject implements runtime.Object.
func (in *ClusterList) DeepCopyObject() runtime.Object {
	if in == nil {
		return nil
	}
	out := new(ClusterList)
	*out = *in
	in.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]Cluster, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

func copyMap(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
