// Package alpha holds kubebuilder-opbuilder's alpha generate and alpha
// update, which take the place of stock kubebuilder's for opbuilder
// projects.
//
// Stock kubebuilder's alpha generate deletes the project, then runs a
// binary named kubebuilder for every command after init, and knows nothing
// of create nodetype; its alpha update downloads kubebuilder release
// binaries to run that generate with. Here both replay the commands PROJECT
// records (plugin.ReplayCommands) with a kubebuilder-opbuilder binary:
//
//   - generate (generate.go) scaffolds the project again with the running
//     binary into a directory next to it, and only once that succeeded
//     swaps it in (tree.go), so a failure leaves the project as it was;
//   - update (update.go) scaffolds the project with the binary it was made
//     with and with the running one, and merges the difference between the
//     two into the user's tree with git's three-way merge (git.go).
package alpha
