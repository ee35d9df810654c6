// Package scaffolds writes the files of the opbuilder/v1 plugin into a
// kubebuilder project: it runs one small template or inserter per file it
// creates or edits, through kubebuilder's machinery.
//
// There is one scaffolder per subcommand:
//
//   - NewInitScaffolder wires a fresh go/v4 project for the opbuilder runtime:
//     go.mod requires the runtime (optionally replaced by a local checkout),
//     cmd/main.go scopes the manager's cache to the operator's own children,
//     the operator's field owner name is declared once, and `make test` uses
//     KUBEBUILDER_ASSETS when it is set instead of downloading binaries.
//   - NewAPIScaffolder turns a kind that go/v4 just created into a data-system
//     custom resource: shared pod settings, a deployment order, a status that
//     embeds the runtime's, and a controller whose Reconcile hands the resource
//     to the runtime's orchestrator.
//   - NewNodeTypeScaffolder adds a node type to such a kind: its typed spec, a
//     builder for its objects, a test, its registration with the controller,
//     its place in the default deployment order, and an entry in the sample.
//
// Every scaffolder has a Check method that inspects the project and returns
// an error, before anything is written, when the scaffold could not be
// completed; kubebuilder's machinery writes files one by one, so a failure
// half-way through would leave a broken project behind.
//
// The state a scaffolder needs (which kinds use opbuilder, which node types a
// kind has) is read from markers in the scaffolded files, never only from the
// PROJECT file: an external plugin cannot write PROJECT, so the files are the
// one record both ways of running the plugin share.
package scaffolds
