package cachescope

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/confighash"
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

// SetupIndexes registers IndexConfigRefs on Deployments and StatefulSets with
// indexer, normally mgr.GetFieldIndexer(). Call it once per manager, before
// the manager starts; WatchReferencedConfig depends on it.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	if indexer == nil {
		return errors.New("cachescope: SetupIndexes: a field indexer is required (mgr.GetFieldIndexer())")
	}
	for _, w := range []client.Object{&appsv1.Deployment{}, &appsv1.StatefulSet{}} {
		if err := indexer.IndexField(ctx, w, IndexConfigRefs, indexWorkload); err != nil {
			return fmt.Errorf("cachescope: index %T by %s: %w", w, IndexConfigRefs, err)
		}
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
