// Package crd holds the benchmark resource's CustomResourceDefinition, which
// the driver installs, and finds it without relying on the working directory.
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
