// Package crd embeds the test resource's CustomResourceDefinition so tests
// can find it without relying on their working directory.
package crd

import (
	"path/filepath"
	goruntime "runtime"
)

// Dir returns the directory that holds the CRD YAML.
func Dir() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Dir(file)
}
