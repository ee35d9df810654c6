// Package model describes what the opbuilder/v1 scaffolds are asked to
// write: a node type with its validated options and the Go and file names
// derived from them. The plugin fills it from flags (or an external plugin
// request) and the templates read it.
package model
