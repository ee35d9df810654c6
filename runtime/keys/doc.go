// Package keys holds the one label and annotation prefix of opbuilder
// (opbuilder.io) and every label and annotation key that the runtime reads or
// writes, together with the standard app.kubernetes.io labels.
//
// Nothing else in the runtime spells a key as a string literal: builders,
// the store, the cache scope and the orchestrator all refer to the constants
// in this package, so a key can be found (and changed) in one place.
//
// The helpers build the label sets every child object carries
// (StandardLabels, SelectorLabels, OwnerLabels) and validate them with the
// apimachinery validation rules, so an invalid label (for example a CR name
// longer than 63 characters used as a label value) is reported as an error
// before any request reaches the API server.
package keys
