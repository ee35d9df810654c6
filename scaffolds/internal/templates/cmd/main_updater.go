package cmd

import (
	"fmt"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
)

var _ machinery.Inserter = &MainUpdater{}

// MainUpdater adds a kind created with opbuilder to the types the manager
// caches in full. go/v4 has already imported the kind's API package.
type MainUpdater struct {
	machinery.ResourceMixin
}

// GetPath implements machinery.Builder.
func (*MainUpdater) GetPath() string { return templates.MainPath }

// GetIfExistsAction implements machinery.Builder.
func (*MainUpdater) GetIfExistsAction() machinery.IfExistsAction { return machinery.OverwriteFile }

// GetMarkers implements machinery.Inserter.
func (*MainUpdater) GetMarkers() []machinery.Marker {
	return []machinery.Marker{templates.NewMarker(templates.MainPath, templates.OwnedTypesMarker)}
}

// GetCodeFragments implements machinery.Inserter.
func (f *MainUpdater) GetCodeFragments() machinery.CodeFragmentsMap {
	return machinery.CodeFragmentsMap{
		templates.NewMarker(templates.MainPath, templates.OwnedTypesMarker): {
			fmt.Sprintf("&%s.%s{},\n", f.Resource.ImportAlias(), f.Resource.Kind),
		},
	}
}
