// Package lint holds the templates of the project's linter configuration:
// golangci-lint's, without go/v4's logcheck module plugin, which only a
// golangci-lint built from git can load. The Makefile runs logcheck as a
// binary of its own instead.
package lint
