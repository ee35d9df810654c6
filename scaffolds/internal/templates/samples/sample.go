// Package samples holds the templates of a kind's sample resource in
// config/samples.
package samples

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

var _ machinery.Template = &Sample{}

// Sample writes the kind's sample resource in place of kustomize's: the
// shared settings, and a marker where node types add their groups.
type Sample struct {
	machinery.TemplateMixin
	machinery.ResourceMixin
	machinery.ProjectNameMixin

	// Image is the image the sample runs.
	Image string
}

// SetTemplateDefaults implements machinery.Template.
func (f *Sample) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.FilesFor(f.Resource).Sample
	}
	f.TemplateBody = sampleTemplate
	f.IfExistsAction = machinery.OverwriteFile
	return nil
}

// SampleMarker is where node types add their groups.
func (f *Sample) SampleMarker() string {
	return templates.NewMarker(f.Path, templates.SampleNodeTypesMarker).String()
}

const sampleTemplate = `apiVersion: {{ .Resource.QualifiedGroup }}/{{ .Resource.Version }}
kind: {{ .Resource.Kind }}
metadata:
  labels:
    app.kubernetes.io/name: {{ .ProjectName }}
    app.kubernetes.io/managed-by: kustomize
  name: {{ lower .Resource.Kind }}-sample
spec:
  # The image every node type runs unless a group sets its own.
  image: {{ .Image }}
  # Node types roll out in the order they were added unless deploymentOrder
  # lists them, for example:
  # deploymentOrder: [historical, broker]
  # Files every node type's pods find in /etc/{{ lower .Resource.Kind }}/shared; changing one
  # rolls every node type, in the deployment order.
  config:
    common.properties: |
      # settings every node type shares
  # Each group can also set, for example:
  #   autoscaling: {minReplicas: 2, maxReplicas: 10}   # an HPA owns replicas
  #   podTemplate:                                      # merged over the built pod
  #     spec:
  #       priorityClassName: high-priority
  #       containers:
  #       - name: exporter
  #         image: example.com/exporter:1
  {{ .SampleMarker }}
`

var _ machinery.Inserter = &SampleUpdater{}

// SampleUpdater adds a node type's groups to the kind's sample resource.
type SampleUpdater struct {
	machinery.ResourceMixin

	NodeType *model.NodeType
}

// GetPath implements machinery.Builder.
func (f *SampleUpdater) GetPath() string { return templates.FilesFor(f.Resource).Sample }

// GetIfExistsAction implements machinery.Builder.
func (*SampleUpdater) GetIfExistsAction() machinery.IfExistsAction { return machinery.OverwriteFile }

// GetMarkers implements machinery.Inserter.
func (f *SampleUpdater) GetMarkers() []machinery.Marker {
	return []machinery.Marker{templates.NewMarker(f.GetPath(), templates.SampleNodeTypesMarker)}
}

// GetCodeFragments implements machinery.Inserter.
func (f *SampleUpdater) GetCodeFragments() machinery.CodeFragmentsMap {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", f.NodeType.JSONName())
	for _, g := range f.NodeType.Groups {
		fmt.Fprintf(&b, "  - name: %s\n", g)
		fmt.Fprintf(&b, "    replicas: %d\n", f.NodeType.Replicas)
		fmt.Fprintf(&b, "    port: %d\n", f.NodeType.Port)
		if f.NodeType.HasStorage() {
			fmt.Fprintf(&b, "    storage:\n      size: %s\n", f.NodeType.Storage)
		}
		fmt.Fprintf(&b, "    config:\n      %s.properties: |\n        # settings of the %s %s group\n",
			f.NodeType.Name, g, f.NodeType.Name)
	}
	// The marker line is indented by two spaces; so is every inserted line.
	return machinery.CodeFragmentsMap{
		templates.NewMarker(f.GetPath(), templates.SampleNodeTypesMarker): {indent(b.String(), "  ")},
	}
}

// indent prefixes every line of s with prefix.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			continue
		}
		b.WriteString(prefix)
		b.WriteString(l)
	}
	return b.String()
}
