// Package e2e proves opbuilder the way a user meets it: it builds
// kubebuilder-opbuilder, installs stock kubebuilder, scaffolds a
// Druid-style operator on both CLI paths, runs each project's own
// `make generate manifests build test` (whose controller suite runs on kwok
// nodes, with the binaries the project's Makefile builds itself on one
// path), and then runs one scaffolded operator
// against a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok nodes) and checks what a
// user would check at every step: create, config change, ordered rollout,
// node-type removal, operator restart, idling, deletion, bad input, a user's
// object that has a child's name (refused, then adopted when annotated), a
// Secret every workload needs going missing (held, then nothing rolls), and
// the scaffolded API of issue 12: admission rules, printer columns, a
// group's podTemplate and the Secret it mounts, the shared config, and
// autoscaling by a HorizontalPodAutoscaler.
//
// `make test` runs it. Set OPBUILDER_SKIP_E2E=1 to skip it while iterating
// on something else; nothing else skips it.
package e2e
