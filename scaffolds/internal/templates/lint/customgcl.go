package lint

import "sigs.k8s.io/kubebuilder/v4/pkg/machinery"

var _ machinery.Template = &CustomGcl{}

// CustomGcl writes .custom-gcl.yml in place of go/v4's, which lists logcheck
// as a module plugin. The file cannot simply go away: stock kubebuilder's
// external plugins cannot delete a file go/v4 wrote. So it stays, valid for
// `golangci-lint custom` and listing no plugin, and says why.
type CustomGcl struct {
	machinery.TemplateMixin

	// GolangciLintVersion is the version the Makefile installs.
	GolangciLintVersion string
}

// SetTemplateDefaults implements machinery.Template.
func (f *CustomGcl) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = ".custom-gcl.yml"
	}
	f.TemplateBody = customGclTemplate
	f.IfExistsAction = machinery.OverwriteFile
	return nil
}

const customGclTemplate = `# golangci-lint module plugins, for 'golangci-lint custom', which builds a
# golangci-lint with them from golangci-lint's git repository.
#
# 'make lint' does not: it installs plain golangci-lint with 'go install', so
# that linting needs nothing but the Go module proxy, and runs logcheck
# (sigs.k8s.io/logtools), the plugin go/v4 lists here, as a binary of its own.
#
# See: https://golangci-lint.run/plugins/module-plugins/
version: {{ .GolangciLintVersion }}
plugins: []
`
