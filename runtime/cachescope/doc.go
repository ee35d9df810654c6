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
//	err = cachescope.SetupIndexes(ctx, mgr.GetFieldIndexer(), childKinds...)
//
// where childKinds are the kinds the controller Owns; the store then finds
// each CR's children through the owner index (store.WithOwnerIndex) instead
// of matching the owner label of every cached object of their kinds in the
// namespace, which is most of a pass's work with many CRs in one namespace;
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
// watch: Labeler.Watch adds opbuilder.io/watch=true to it with a
// metadata-only JSON merge patch of that one label, recorded under its own
// field manager ("<field owner>-watch"). A patch never creates an object (a
// server-side apply would: it creates a missing object even when it names a
// resourceVersion, so a just-deleted Secret would come back empty), and it
// touches nothing but that label. From then on the object is in the cache,
// readers such as runtime/confighash find it there, and
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
//
// Labeler.ReleaseUnused gives the label up again: it finds, in the cache,
// the labelled objects of a namespace that are not an operator's children,
// and unlabels each one that no workload of the operator consumes any more
// (looked up in the cache, then confirmed in the API server, since the cache
// may not show a workload just written), and only when its own field manager
// is the label's sole owner according to managedFields. The label and its
// managedFields are the record of what was labelled, so nothing else is
// kept, and a label left behind by a crash is found as well.
// Labeler.Release does the same for a given list of references. If
// the label is removed while something else still needs it (another operator
// that found it already set, or a user's edit), the object leaves that
// operator's cache, the delete event reconciles the consuming owner, and its
// Watch puts the label back: no polling is involved. A reference to an object
// that does not exist yet is reported by Watch as missing; the caller
// reconciles again later (with backoff) and labels it once it exists.
//
// # RBAC
//
// Label selectors scope what is cached, not what is permitted. The operator
// needs:
//
//   - list and watch on every child kind and on ConfigMaps and Secrets (the
//     label-selected informers), in the namespaces it serves;
//   - patch on ConfigMaps and Secrets, for Labeler's label writes, and get
//     for its check of who owns the label (metadata only);
//   - list on Deployments and StatefulSets, which the cache needs anyway,
//     and which Release also asks of the API server before it unlabels;
//   - list and watch on the owner type.
//
// kubebuilder markers for a scaffolded controller:
//
//	// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=get;list;watch;patch
package cachescope
