// Package confighash computes one stable hash of the ConfigMaps and Secrets a
// pod template consumes. Stamped on the pod template (runtime/builder sets it
// as the opbuilder.io/config-hash annotation), it rolls a workload exactly
// when something its pods read changes.
//
// What is consumed (References):
//
//   - volumes: configMap and secret volumes, and the configMap and secret
//     sources of projected volumes; with items, only the listed keys;
//   - envFrom: configMapRef and secretRef, all keys;
//   - env valueFrom: configMapKeyRef and secretKeyRef, only the referenced key;
//
// for containers, init containers and ephemeral containers. Image pull
// secrets are not consumed by the pods' processes and are left out.
//
// What is hashed (Compute): for each consumed object, sorted by kind and
// name, its data and binaryData entries (only the referenced keys when every
// consumer names keys) and, for a Secret, its type (empty counts as Opaque).
// Entries are sorted, so key order never matters, and every field is
// length-prefixed and tagged with the section it came from, so moving a key
// from data to binaryData, or a byte between a key and its value, changes the
// hash. A Secret's stringData is folded into data as the API server does, so a
// desired Secret and the stored one hash alike. An object or key that does not
// exist hashes as "absent": creating it later changes the hash.
//
// Keys an application reloads by itself are named by the object's
// opbuilder.io/reload annotation ("*" for all) and are not hashed, so
// changing one rolls nothing; reading one through an environment variable
// or a subPath mount, which never refresh, is an error (reload.go).
//
// Where objects come from is pluggable (Getter): any client.Reader works, and
// FromObjects serves objects built in the same reconcile, so a workload is
// stamped with the hash of the configuration it is applied with rather than a
// possibly stale cached copy. Chain combines them.
//
// Names returns the referenced names per kind, for a field index that maps an
// external ConfigMap or Secret to the workloads that consume it.
package confighash
