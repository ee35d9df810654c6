package scenario

import (
	"strconv"
	"strings"
)

// NodeType is one `create nodetype` call.
type NodeType struct {
	// Name is the node type, e.g. "historical".
	Name string
	// Workload is "statefulset" or "deployment".
	Workload string
	// Port is the port its pods serve on.
	Port int32
	// Storage is the size of each pod's data volume; "" for none.
	Storage string
	// Replicas is the default number of pods per group; 0 leaves the
	// plugin's default.
	Replicas int32
	// Groups are the groups the sample CR gets; nil leaves the plugin's
	// default of one group.
	Groups []string
}

// Operator describes the operator the scenario scaffolds.
type Operator struct {
	Domain    string
	Repo      string
	Group     string
	Version   string
	Kind      string
	NodeTypes []NodeType
}

// Druid is the Druid-style operator of issue 6: five node types in
// deployment order historical → middlemanager → broker → coordinator →
// router; historicals are a StatefulSet with storage and two tiers, hot and
// cold.
func Druid() Operator {
	return Operator{
		Domain:  "example.com",
		Repo:    "example.com/druid-operator",
		Group:   "data",
		Version: "v1alpha1",
		Kind:    "Druid",
		NodeTypes: []NodeType{
			{Name: "historical", Workload: "statefulset", Port: 8083, Storage: "10Gi", Groups: []string{"hot", "cold"}},
			{Name: "middlemanager", Workload: "statefulset", Port: 8091},
			{Name: "broker", Workload: "deployment", Port: 8082, Replicas: 2},
			{Name: "coordinator", Workload: "deployment", Port: 8081},
			{Name: "router", Workload: "deployment", Port: 8888},
		},
	}
}

// NodeTypeNames lists the node types in deployment order.
func (o Operator) NodeTypeNames() []string {
	out := make([]string, 0, len(o.NodeTypes))
	for _, n := range o.NodeTypes {
		out = append(out, n.Name)
	}
	return out
}

// NodeType returns the node type called name.
func (o Operator) NodeType(name string) (NodeType, bool) {
	for _, n := range o.NodeTypes {
		if n.Name == name {
			return n, true
		}
	}
	return NodeType{}, false
}

// WorkloadKind is the kind of the node type's workloads: StatefulSet or
// Deployment.
func (n NodeType) WorkloadKind() string {
	return map[string]string{"statefulset": "StatefulSet", "deployment": "Deployment"}[n.Workload]
}

// Resource is the plural, lowercase resource name of the kind, e.g.
// "druids".
func (o Operator) Resource() string { return strings.ToLower(o.Kind) + "s" }

// APIGroup is the kind's full API group, e.g. "data.example.com".
func (o Operator) APIGroup() string { return o.Group + "." + o.Domain }

// SampleFile is the sample CR `create api` writes, relative to the project.
func (o Operator) SampleFile() string {
	return "config/samples/" + o.Group + "_" + o.Version + "_" + strings.ToLower(o.Kind) + ".yaml"
}

// FieldName is the CR spec field that lists a node type's groups, e.g.
// "historicals" (the plugin pluralises the node-type name).
func (n NodeType) FieldName() string { return n.Name + "s" }

// flags renders the node type as the flags `create nodetype` takes.
func (n NodeType) flags() []string {
	f := []string{"--workload", n.Workload, "--port", strconv.Itoa(int(n.Port))}
	if n.Storage != "" {
		f = append(f, "--storage", n.Storage)
	}
	if n.Replicas > 0 {
		f = append(f, "--replicas", strconv.Itoa(int(n.Replicas)))
	}
	if len(n.Groups) > 0 {
		f = append(f, "--groups", strings.Join(n.Groups, ","))
	}
	return f
}
