// Package external lets the opbuilder/v1 plugin run as an external plugin of
// a stock kubebuilder v4 binary, so that `kubebuilder init --plugins
// go/v4,opbuilder/v1` and `kubebuilder create api --plugins opbuilder/v1
// ... --nodetype <name>` work without the kubebuilder-opbuilder CLI.
//
// Kubebuilder runs an external plugin with no arguments and a PluginRequest
// as JSON on stdin, and reads a PluginResponse from stdout. Serve answers one
// request: it runs the same subcommands, with the same validation, as the
// in-process plugin, against an in-memory copy of the project files it
// needs, and answers with the files it created or changed, and no others.
//
// An external plugin cannot write PROJECT, so nothing it needs is kept
// there: which kinds and node types exist is read from the markers in the
// scaffolded files.
//
// Install puts the running binary where kubebuilder discovers external
// plugins.
package external
