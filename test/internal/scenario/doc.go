// Package scenario is the Druid-style walkthrough that both the e2e suite
// (test/e2e) and `make demo` (test/demo) run: it builds the CLIs, scaffolds
// the operator on either CLI path, runs the scaffolded operator against a
// local control plane under its own ServiceAccount, and observes what a user
// would look at: the children of the custom resource, their rollouts, the
// events recorded on it and the write requests the operator made.
//
// It decides nothing about what is correct; the e2e suite asserts with
// Gomega and the demo narrates and checks with the same observations.
package scenario
