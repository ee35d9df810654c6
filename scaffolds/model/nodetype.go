package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gobuffalo/flect"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Workload is the kind of workload that runs a node type's pods.
type Workload string

const (
	// StatefulSet runs pods with stable names and, optionally, a volume each.
	// Data-holding node types (Druid historicals, Kafka brokers) use it.
	StatefulSet Workload = "statefulset"
	// Deployment runs interchangeable pods. Stateless node types (Druid
	// brokers and routers) use it.
	Deployment Workload = "deployment"
)

// Workloads lists the accepted values of Workload, in the order the help
// text shows them.
func Workloads() []Workload { return []Workload{StatefulSet, Deployment} }

// maxNodeTypeNameLength keeps the names of a node type's objects,
// "<cluster>-<node type>-<group>", well inside the 63 characters a Service
// name may have.
const maxNodeTypeNameLength = 20

// maxGroupNameLength bounds group names for the same reason; the scaffolded
// CRD enforces the same limit.
const maxGroupNameLength = 20

// NodeType describes a node type to add to a kind. Name, Workload and Port
// are required; the rest have defaults (see Default).
type NodeType struct {
	// Name is the node type's name, e.g. "historical". It must be a DNS-1035
	// label: lowercase letters, digits and '-', starting with a letter.
	Name string
	// Workload is StatefulSet or Deployment.
	Workload Workload
	// Port is the port the node type's pods serve on.
	Port int32
	// Storage is the size of each pod's data volume, a Kubernetes quantity
	// such as "10Gi". Only a StatefulSet can have one; empty means none.
	Storage string
	// Replicas is the default number of pods per group.
	Replicas int32
	// Groups names the groups the sample resource gets, e.g. "hot", "cold".
	Groups []string
}

// DefaultGroup is the group the sample resource gets when Groups is empty.
const DefaultGroup = "default"

// Default fills in the optional fields that are unset.
func (n *NodeType) Default() {
	n.Name = strings.TrimSpace(n.Name)
	n.Workload = Workload(strings.ToLower(strings.TrimSpace(string(n.Workload))))
	n.Storage = strings.TrimSpace(n.Storage)
	if len(n.Groups) == 0 {
		n.Groups = []string{DefaultGroup}
	}
}

// Validate checks every field and returns all problems at once, each saying
// what to change.
func (n NodeType) Validate() error {
	var errs []error
	errs = append(errs, validateNodeTypeName(n.Name))

	switch n.Workload {
	case StatefulSet, Deployment:
	case "":
		errs = append(errs, fmt.Errorf("--workload is required: use %s", workloadChoices()))
	default:
		errs = append(errs, fmt.Errorf("unknown --workload %q: use %s", n.Workload, workloadChoices()))
	}

	if n.Port < 1 || n.Port > 65535 {
		errs = append(errs, fmt.Errorf("invalid --port %d: a port is a number from 1 to 65535", n.Port))
	}

	if n.Storage != "" {
		q, err := resource.ParseQuantity(n.Storage)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("invalid --storage %q: not a Kubernetes quantity; write a size such as 10Gi or 500Mi",
				n.Storage))
		case q.Sign() <= 0:
			errs = append(errs, fmt.Errorf("invalid --storage %q: the size must be greater than zero", n.Storage))
		case n.Workload == Deployment:
			errs = append(errs, fmt.Errorf("--storage %s needs --workload %s: the pods of a Deployment share "+
				"no per-pod volume; drop --storage or use --workload %s", n.Storage, StatefulSet, StatefulSet))
		}
	}

	if n.Replicas < 0 {
		errs = append(errs, fmt.Errorf("invalid --replicas %d: use 0 or more", n.Replicas))
	}

	seen := make(map[string]bool, len(n.Groups))
	for _, g := range n.Groups {
		if msgs := validation.IsDNS1123Label(g); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("invalid group name %q in --groups: %s", g, strings.Join(msgs, "; ")))
		} else if len(g) > maxGroupNameLength {
			errs = append(errs, fmt.Errorf("invalid group name %q in --groups: use at most %d characters",
				g, maxGroupNameLength))
		}
		if seen[g] {
			errs = append(errs, fmt.Errorf("group %q appears twice in --groups: group names must be unique", g))
		}
		seen[g] = true
	}

	return errors.Join(errs...)
}

func validateNodeTypeName(name string) error {
	if name == "" {
		return errors.New("--name is required: the node type's name, e.g. --name historical")
	}
	if msgs := validation.IsDNS1035Label(name); len(msgs) > 0 {
		return fmt.Errorf("invalid node type name %q: use a DNS-1123 label that starts with a letter: "+
			"lowercase letters, digits and '-', e.g. historical or middle-manager", name)
	}
	if len(name) > maxNodeTypeNameLength {
		return fmt.Errorf("invalid node type name %q: use at most %d characters, so that the names of its "+
			"objects (<cluster>-<node type>-<group>) stay valid", name, maxNodeTypeNameLength)
	}
	return nil
}

func workloadChoices() string {
	s := make([]string, 0, 2)
	for _, w := range Workloads() {
		s = append(s, string(w))
	}
	return strings.Join(s, " or ")
}

// IsStatefulSet reports whether the node type runs in a StatefulSet.
func (n NodeType) IsStatefulSet() bool { return n.Workload == StatefulSet }

// HasStorage reports whether each pod gets a data volume.
func (n NodeType) HasStorage() bool { return n.Storage != "" }

// GoName is the node type's name as an exported Go identifier, e.g.
// "MiddleManager" for "middle-manager".
func (n NodeType) GoName() string {
	var b strings.Builder
	for part := range strings.SplitSeq(n.Name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]))
		b.WriteString(part[1:])
	}
	return b.String()
}

// VarName is the node type's name as an unexported Go identifier, e.g.
// "middleManager".
func (n NodeType) VarName() string {
	g := n.GoName()
	return strings.ToLower(g[:1]) + g[1:]
}

// SpecType is the Go type of one group of the node type, e.g.
// "HistoricalSpec".
func (n NodeType) SpecType() string { return n.GoName() + "Spec" }

// FieldName is the Go field on the kind's spec that lists the node type's
// groups, e.g. "Historicals".
func (n NodeType) FieldName() string { return flect.Pluralize(n.GoName()) }

// JSONName is the JSON name of FieldName, e.g. "historicals".
func (n NodeType) JSONName() string {
	f := n.FieldName()
	return strings.ToLower(f[:1]) + f[1:]
}

// FileName is the node type's name as it appears in file names, e.g.
// "middle_manager".
func (n NodeType) FileName() string { return strings.ReplaceAll(n.Name, "-", "_") }
