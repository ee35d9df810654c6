package scenario

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"
)

// ---- Issue 12: admission rules ----

// Edit changes a CR before it is sent.
type Edit func(u *unstructured.Unstructured) error

// AdmissionCase is one admission rule of the scaffolded CRD: a CR it
// refuses, and the same CR with the offending part made valid, which the
// API server accepts, so that the refusal is known to be this rule's.
type AdmissionCase struct {
	// Rule names the rule, for reports.
	Rule string
	// Name is the CR's name in each; NameOK, when set, replaces it in the
	// valid one.
	Name, NameOK string
	// Bad makes the sample break the rule; Good makes it keep the rule.
	Bad, Good Edit
	// Update says that the case is a change of the live CR rather than a
	// new CR: a transition rule.
	Update bool
	// Field is the field the refusal must name; Says a part of its message.
	Field, Says string
}

// AdmissionCases returns the admission rules of issue 12 as cases over the
// project's sample.
func (s *Scenario) AdmissionCases() ([]AdmissionCase, error) {
	groups, err := s.SampleGroups()
	if err != nil {
		return nil, err
	}
	longest, tightest := s.Operator.LongestName(groups)
	first := s.Operator.NodeTypes[0]
	var stored NodeType
	for _, n := range s.Operator.NodeTypes {
		if n.Storage != "" {
			stored = n
			break
		}
	}
	if stored.Name == "" {
		return nil, fmt.Errorf("no node type of %s has storage", s.Operator.Kind)
	}
	return []AdmissionCase{{
		Rule: "deploymentOrder lists node types of this kind only",
		Name: s.Instance.Name + "-order",
		Bad:  setField([]any{first.Name, "overlord"}, "spec", "deploymentOrder"),
		Good: setField([]any{first.Name}, "spec", "deploymentOrder"),
		// An enum: the API server lists the node types it accepts.
		Field: "spec.deploymentOrder[1]", Says: `Unsupported value: "overlord"`,
	}, {
		Rule:   fmt.Sprintf("metadata.name fits its children's names: %d characters at most with the sample's groups", longest),
		Name:   nameOfLength(longest + 1),
		NameOK: nameOfLength(longest),
		Bad:    func(*unstructured.Unstructured) error { return nil },
		Good:   func(*unstructured.Unstructured) error { return nil },
		Field:  "spec." + tightest.FieldName() + "[].name", Says: "metadata.name and a",
	}, {
		Rule:   "storage.size may not shrink",
		Name:   s.Instance.Name,
		Update: true,
		Bad:    setGroupField(stored, "5Gi", "storage", "size"),
		Good:   setGroupField(stored, "20Gi", "storage", "size"),
		Field:  "spec." + stored.FieldName() + "[0].storage.size", Says: "may not shrink",
	}, {
		Rule:  "podTemplate.metadata.labels may not set the selector labels",
		Name:  s.Instance.Name + "-labels",
		Bad:   setGroupField(first, map[string]any{"app.kubernetes.io/component": "broker"}, "podTemplate", "metadata", "labels"),
		Good:  setGroupField(first, map[string]any{PodLabel: "hot"}, "podTemplate", "metadata", "labels"),
		Field: "spec." + first.FieldName() + "[0].podTemplate", Says: "may not set",
	}}, nil
}

// LongestName returns the longest CR name whose children's names fit for
// groups (per node type, as in the CR), and the node type whose group
// bounds it. A StatefulSet's name has at most 52 characters (its pods'
// controller-revision-hash label takes the rest of 63), a Service's 63;
// children are named <CR>-<node type>-<group>.
func (o Operator) LongestName(groups map[string][]string) (int, NodeType) {
	longest, tightest := 253, NodeType{}
	for _, n := range o.NodeTypes {
		limit := 63
		if n.Workload == "statefulset" {
			limit = 52
		}
		for _, g := range groups[n.Name] {
			if l := limit - len(n.Name) - len(g) - 2; l < longest {
				longest, tightest = l, n
			}
		}
	}
	return longest, tightest
}

// nameOfLength returns a valid object name of n characters.
func nameOfLength(n int) string {
	name := "druid-" + strings.Repeat("x", max(n-6, 0))
	return name[:n]
}

func setField(value any, fields ...string) Edit {
	return func(u *unstructured.Unstructured) error {
		return unstructured.SetNestedField(u.Object, value, fields...)
	}
}

// setGroupField sets fields of the first group of n.
func setGroupField(n NodeType, value any, fields ...string) Edit {
	return func(u *unstructured.Unstructured) error {
		list, _, err := unstructured.NestedSlice(u.Object, "spec", n.FieldName())
		if err != nil {
			return fmt.Errorf("spec.%s: %w", n.FieldName(), err)
		}
		if len(list) == 0 {
			return fmt.Errorf("spec.%s has no group", n.FieldName())
		}
		group, ok := list[0].(map[string]any)
		if !ok {
			return fmt.Errorf("spec.%s[0] is a %T", n.FieldName(), list[0])
		}
		if err := unstructured.SetNestedField(group, value, fields...); err != nil {
			return err
		}
		return unstructured.SetNestedSlice(u.Object, list, "spec", n.FieldName())
	}
}

// Kubectl runs the control plane's kubectl as the admin user and returns
// its output.
func (s *Scenario) Kubectl(ctx context.Context, args ...string) (string, error) {
	return Runner{}.Output(ctx, Command{
		Dir:  s.WorkDir,
		Name: filepath.Join(s.Cluster.AssetsDir, "kubectl"),
		Args: append([]string{"--namespace", s.Instance.Namespace}, args...),
		Env:  []string{"KUBECONFIG=" + s.Cluster.Kubeconfig},
	})
}

// ApplyVariant writes the sample, named name and changed by edit, to a
// file and runs `kubectl apply` on it, with --dry-run=server when dryRun,
// as a user would. It returns kubectl's output.
func (s *Scenario) ApplyVariant(ctx context.Context, name string, edit Edit, dryRun bool) (string, error) {
	u, err := s.Instance.ReadSample(s.SamplePath())
	if err != nil {
		return "", err
	}
	u.SetName(name)
	if err := edit(u); err != nil {
		return "", err
	}
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		return "", err
	}
	path := filepath.Join(s.WorkDir, name+".yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", err
	}
	args := []string{"apply", "-f", path}
	if dryRun {
		args = append(args, "--dry-run=server")
	}
	return s.Kubectl(ctx, args...)
}

// UpdateSpec changes the live CR with edit and updates it, as a server-side
// dry run when dryRun. It returns the API server's answer.
// A status write of the operator in between is a conflict, and retried.
func (s *Scenario) UpdateSpec(ctx context.Context, edit Edit, dryRun bool) error {
	opts := metav1.UpdateOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := s.Instance.Get(ctx)
		if err != nil {
			return err
		}
		if err := edit(u); err != nil {
			return err
		}
		_, err = s.Cluster.Dynamic.Resource(s.Instance.GVR()).Namespace(s.Instance.Namespace).Update(ctx, u, opts)
		return err
	})
}

// CheckNotCreated returns an error when a CR called name exists.
func (s *Scenario) CheckNotCreated(ctx context.Context, name string) error {
	_, err := s.Cluster.Dynamic.Resource(s.Instance.GVR()).Namespace(s.Instance.Namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("the refused %s %s exists", s.Operator.Kind, name)
}

// ---- Issue 12: printer columns ----

// columnHeader finds the columns of a `kubectl get` header: names of
// upper-case words that one space may join ("NODE TYPES"), apart by more.
var columnHeader = regexp.MustCompile(`\S+(?: \S+)*`)

// GetColumns runs `kubectl get <resource> <CR>` and returns the column
// names of its header, and the CR's value in each.
func (s *Scenario) GetColumns(ctx context.Context) ([]string, map[string]string, error) {
	out, err := s.Kubectl(ctx, "get", s.Operator.Resource(), s.Instance.Name)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		return nil, nil, fmt.Errorf("`kubectl get` printed %d lines, want a header and one row:\n%s", len(lines), out)
	}
	header, row := lines[0], lines[1]
	spans := columnHeader.FindAllStringIndex(header, -1)
	names := make([]string, 0, len(spans))
	values := map[string]string{}
	for i, sp := range spans {
		end := len(row)
		if i+1 < len(spans) {
			end = min(spans[i+1][0], len(row))
		}
		name := header[sp[0]:sp[1]]
		names = append(names, name)
		if sp[0] < len(row) {
			values[name] = strings.TrimSpace(row[sp[0]:end])
		}
	}
	return names, values, nil
}

// StatusString returns the CR's status field of that name, and whether it
// is set.
func (s *Scenario) StatusString(ctx context.Context, field string) (string, bool, error) {
	u, err := s.Instance.Get(ctx)
	if err != nil {
		return "", false, err
	}
	v, found, err := unstructured.NestedFieldNoCopy(u.Object, "status", field)
	if err != nil || !found {
		return "", false, err
	}
	return fmt.Sprint(v), true, nil
}
