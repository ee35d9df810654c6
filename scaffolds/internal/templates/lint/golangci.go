package lint

import "sigs.k8s.io/kubebuilder/v4/pkg/machinery"

var _ machinery.Template = &Golangci{}

// Golangci writes .golangci.yml in place of go/v4's: the same linters and
// settings, less logcheck, so that a golangci-lint installed with `go
// install` runs it.
type Golangci struct {
	machinery.TemplateMixin
}

// SetTemplateDefaults implements machinery.Template.
func (f *Golangci) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = ".golangci.yml"
	}
	f.TemplateBody = golangciTemplate
	f.IfExistsAction = machinery.OverwriteFile
	return nil
}

const golangciTemplate = `version: "2"
run:
  allow-parallel-runners: true
linters:
  default: none
  enable:
    - copyloopvar
    - depguard
    - dupl
    - errcheck
    - ginkgolinter
    - goconst
    - gocyclo
    - govet
    - ineffassign
    - lll
    - modernize
    - misspell
    - nakedret
    - prealloc
    - revive
    - staticcheck
    - unconvert
    - unparam
    - unused
    # logcheck is not one: 'make lint' runs it after golangci-lint, as a binary
    # of its own (see the Makefile's logcheck target).
  settings:
    depguard:
      rules:
        forbid-sort-pkg:
          deny:
            - pkg: sort
              desc: Should be replaced with slices package
    revive:
      rules:
        - name: comment-spacings
        - name: import-shadowing
    modernize:
      disable:
        - omitzero
  exclusions:
    generated: lax
    rules:
      - linters:
          - lll
        path: api/*
      - linters:
          - dupl
          - lll
        path: internal/*
    paths:
      - third_party$
      - builtin$
      - examples$
formatters:
  enable:
    - gofmt
    - goimports
  exclusions:
    generated: lax
    paths:
      - third_party$
      - builtin$
      - examples$
`
