// Package plugin is the opbuilder/v1 kubebuilder plugin: it scaffolds
// operators for multi-node-type data systems (Druid, Pinot, Kafka-like) that
// run on the opbuilder runtime.
//
// Plugin holds the plugin's identity and hands out one subcommand per
// kubebuilder command, each in a file of its own:
//
//   - init (init.go) wires a go/v4 project for the runtime;
//   - create api (api.go) turns the kind go/v4 creates into a data-system
//     resource, and with --nodetype adds a node type instead (the spelling
//     stock kubebuilder offers);
//   - create nodetype (nodetype.go) adds a node type to such a kind. It is
//     not a kubebuilder command: NewCreateNodeTypeCommand builds it for a CLI
//     built on kubebuilder's pkg/cli.
//
// In-process, each subcommand records its options in PROJECT (config.go),
// and ReplayCommands (replay.go) turns that record back into the commands
// that made the project, for alpha generate and alpha update.
//
// Every subcommand validates everything in PreScaffold, so a bad flag or an
// unsuitable project fails before a file is written; the files themselves
// are written by package scaffolds.
package plugin
