// Package cachescope keeps a controller-runtime manager's informer cache down
// to what an opbuilder operator needs: its custom resources, its own
// children, and the ConfigMaps and Secrets those children consume. The cache
// then grows with the operator's work, not with the thousands of unrelated
// ConfigMaps and Secrets of a real cluster. It also wires the watch that
// reconciles an owner when a consumed ConfigMap or Secret it does not own,
// such as a user-supplied TLS Secret, changes.
//
// # Setting it up
//
// In the operator's main:
//
//	cacheOpts, err := cachescope.Options(&v1.Druid{}, cachescope.WithManagedBy("druid-operator"))
//	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Cache: cacheOpts})
//	err = cachescope.SetupIndexes(ctx, mgr.GetFieldIndexer())
//
// and in the controller's SetupWithManager:
//
//	b := ctrl.NewControllerManagedBy(mgr).For(&v1.Druid{}).
//		Owns(&appsv1.StatefulSet{}).Owns(&corev1.ConfigMap{}) // ...every child kind
//	if err := cachescope.WatchReferencedConfig(b, mgr, &v1.Druid{}); err != nil {
//		return err
//	}
//	return b.Complete(r)
//
// Children trigger reconciles through Owns; nothing here polls or requeues.
//
// # What is cached
//
// Options selects by label, so every informer lists and watches only
// matching objects (the API server filters; nothing unrelated crosses the
// wire or enters memory):
//
//   - the owner type: everything;
//   - ConfigMaps and Secrets: those labelled opbuilder.io/watch=true;
//   - every other type: those labelled opbuilder.io/owner-uid (and, with
//     WithManagedBy, app.kubernetes.io/managed-by=<field owner>).
//
// A label selector cannot say "owner label OR watch label", and a cache has
// one selector per type, so ConfigMaps and Secrets are selected on the watch
// label alone: builders set it on the ConfigMaps and Secrets they create, next
// to the owner label, and Labeler sets it on the external ones.
//
// # External ConfigMaps and Secrets
//
// An external object is one a workload consumes but the operator does not
// own. The choice made here is a label, not a second cache or a cluster-wide
// watch: Labeler.Watch adds opbuilder.io/watch=true to it, with a
// metadata-only server-side apply by its own field manager
// ("<field owner>-watch") that names the object's resourceVersion, so it can
// never create a missing object and never touches anything but that one
// label. From then on the object is in the cache, the hash of consumed
// configuration (runtime/confighash) reads it from there, and
// WatchReferencedConfig maps its events to owners:
//
//	ConfigMap/Secret event
//	  → Deployments and StatefulSets in its namespace that consume it
//	    (field index IndexConfigRefs, built from confighash.References)
//	  → their controller owner, if it is of the owner type
//	  → reconcile request
//
// Only content changes (data, binaryData, a Secret's type) pass the
// ContentChanged predicate, so the label write itself causes no extra work.
// Labeler.Release gives the label up once no cached workload consumes the
// object; with server-side apply a label another operator also applied stays.
// A reference to an object that does not exist yet is reported by Watch as
// missing; the caller reconciles again later (with backoff) and labels it
// once it exists.
//
// # RBAC
//
// Label selectors scope what is cached, not what is permitted. The operator
// needs:
//
//   - list and watch on every child kind and on ConfigMaps and Secrets (the
//     label-selected informers), in the namespaces it serves;
//   - get and patch on ConfigMaps and Secrets, for Labeler (a metadata-only
//     get of an object not yet in the cache, and the apply of the label);
//   - list and watch on the owner type.
//
// kubebuilder markers for a scaffolded controller:
//
//	// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=get;list;watch;patch
package cachescope
