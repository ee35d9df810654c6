// Package controller holds the templates of a project's internal/controller
// package: the operator's name, a kind's controller and its tests, and a
// node type's builder and test.
package controller

import (
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
)

var _ machinery.Template = &Operator{}

// Operator writes internal/controller/operator.go, which names the operator
// once for every controller and for cmd/main.go.
type Operator struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin

	// FieldOwner is the operator's name, e.g. "druid-operator".
	FieldOwner string
}

// SetTemplateDefaults implements machinery.Template.
func (f *Operator) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.OperatorPath
	}
	f.TemplateBody = operatorTemplate
	f.IfExistsAction = machinery.Error
	return nil
}

const operatorTemplate = `{{ .Boilerplate }}

package controller

// FieldOwner is the name this operator acts under. The opbuilder runtime uses
// it as the field manager of every server-side apply it makes, as the
// app.kubernetes.io/managed-by label of every object it creates, and as the
// source of the events it records; cmd/main.go scopes the manager's cache to
// the objects that carry it. Renaming it later makes the operator treat the
// objects it created before as someone else's, so choose it once.
const FieldOwner = "{{ .FieldOwner }}"
`
