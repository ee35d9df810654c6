package cachescope

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// IndexConfigRefs is the name of the field index, on Deployments and
// StatefulSets, that SetupIndexes registers. Its values are the ConfigMaps
// and Secrets a workload's pod template consumes, as RefValue returns them,
// so that
//
//	c.List(ctx, &deployments, client.InNamespace(ns),
//		client.MatchingFields{cachescope.IndexConfigRefs: cachescope.RefValue(confighash.KindSecret, "tls")})
//
// finds, from the cache, the workloads that read Secret "tls".
const IndexConfigRefs = "opbuilder.io/config-refs"

// RefValue is the IndexConfigRefs value of a consumed ConfigMap or Secret.
func RefValue(kind confighash.Kind, name string) string {
	return string(kind) + "/" + name
}

// indexForeignConfig indexes, on ConfigMaps and Secrets, those that carry
// keys.LabelWatch but no owner label: the external config a Labeler labelled
// (or another manager did). Its one value is keys.ValueTrue. A builder
// labels every ConfigMap and Secret it creates for the cache too, so without
// it ReleaseUnused would go through every CR's config in the namespace on
// every pass to find the few objects it may release.
const indexForeignConfig = keys.Prefix + "/foreign-config"

// SetupIndexes registers the runtime's field indexes with indexer, normally
// mgr.GetFieldIndexer(): IndexConfigRefs on Deployments and StatefulSets,
// which WatchReferencedConfig and the Labeler depend on, an index of the
// external ConfigMaps and Secrets for the Labeler, and keys.IndexOwnerUID on
// each kind of owned, the kinds of children the operator lists by owner
// (pass the same kinds to store.WithOwnerIndex). Kinds the cache does not
// hold typed (unstructured or metadata-only objects) are skipped. Call it
// once per manager, before the manager starts.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer, owned ...client.Object) error {
	if indexer == nil {
		return errors.New("cachescope: SetupIndexes: a field indexer is required (mgr.GetFieldIndexer())")
	}
	for _, w := range []client.Object{&appsv1.Deployment{}, &appsv1.StatefulSet{}} {
		if err := indexer.IndexField(ctx, w, IndexConfigRefs, indexWorkload); err != nil {
			return fmt.Errorf("cachescope: index %T by %s: %w", w, IndexConfigRefs, err)
		}
	}
	for _, c := range []client.Object{&corev1.ConfigMap{}, &corev1.Secret{}} {
		if err := indexer.IndexField(ctx, c, indexForeignConfig, indexForeign); err != nil {
			return fmt.Errorf("cachescope: index %T by %s: %w", c, indexForeignConfig, err)
		}
	}
	indexed := map[reflect.Type]bool{}
	for _, o := range owned {
		t := reflect.TypeOf(o)
		if o == nil || indexed[t] || !kinds.Indexable(o) {
			continue
		}
		indexed[t] = true
		if err := indexer.IndexField(ctx, o, keys.IndexOwnerUID, indexOwner); err != nil {
			return fmt.Errorf("cachescope: index %T by %s: %w", o, keys.IndexOwnerUID, err)
		}
	}
	return nil
}

// indexOwner returns the keys.IndexOwnerUID value of a child: its owner
// label, if any.
func indexOwner(obj client.Object) []string {
	if uid := obj.GetLabels()[keys.LabelOwnerUID]; uid != "" {
		return []string{uid}
	}
	return nil
}

// indexForeign returns the indexForeignConfig value of a ConfigMap or
// Secret.
func indexForeign(obj client.Object) []string {
	l := obj.GetLabels()
	if l[keys.LabelWatch] == keys.ValueTrue && l[keys.LabelOwnerUID] == "" {
		return []string{keys.ValueTrue}
	}
	return nil
}

// indexWorkload returns the IndexConfigRefs values of a Deployment or
// StatefulSet.
func indexWorkload(obj client.Object) []string {
	refs := confighash.WorkloadReferences(obj)
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, RefValue(r.Kind, r.Name))
	}
	return out
}
