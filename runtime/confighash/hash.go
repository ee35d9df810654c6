package confighash

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Hash is the result of Compute.
type Hash struct {
	// Value is the hex-encoded SHA-256 of everything consumed.
	Value string
	// Refs are the consumed objects, as References returns them.
	Refs []Ref
	// Missing are the consumed objects that do not exist (optional or not).
	// They are hashed as absent.
	Missing []Ref
}

// Compute returns the hash of the ConfigMaps and Secrets spec consumes,
// read through g from namespace. Objects that do not exist count as absent;
// any other read error is returned.
func Compute(ctx context.Context, g Getter, namespace string, spec *corev1.PodSpec) (Hash, error) {
	if g == nil {
		return Hash{}, fmt.Errorf("confighash: a getter is required")
	}
	refs := References(spec)
	h := Hash{Refs: refs}
	e := newEncoder()
	for _, r := range refs {
		var obj object
		var annotations map[string]string
		var err error
		switch r.Kind {
		case KindConfigMap:
			cm := &corev1.ConfigMap{}
			if err = g.Get(ctx, client.ObjectKey{Namespace: namespace, Name: r.Name}, cm); err == nil {
				obj, annotations = configMapObject(cm), cm.Annotations
			}
		case KindSecret:
			s := &corev1.Secret{}
			if err = g.Get(ctx, client.ObjectKey{Namespace: namespace, Name: r.Name}, s); err == nil {
				obj, annotations = secretObject(s), s.Annotations
			}
		}
		if err == nil {
			if err := checkReloadable(spec, r, annotations); err != nil {
				return Hash{}, fmt.Errorf("confighash: %w", err)
			}
			obj = obj.withoutReloadable(annotations)
		}
		switch {
		case apierrors.IsNotFound(err):
			h.Missing = append(h.Missing, r)
			e.ref(r, nil)
		case err != nil:
			return Hash{}, fmt.Errorf("confighash: read %s %s/%s: %w", r.Kind, namespace, r.Name, err)
		default:
			e.ref(r, &obj)
		}
	}
	h.Value = e.sum()
	return h, nil
}

// object is the hashed content of a ConfigMap or a Secret.
type object struct {
	secretType string // "" for ConfigMaps
	data       map[string][]byte
	binaryData map[string][]byte
}

// configMapObject returns the hashed view of cm.
func configMapObject(cm *corev1.ConfigMap) object {
	o := object{data: make(map[string][]byte, len(cm.Data)), binaryData: cm.BinaryData}
	for k, v := range cm.Data {
		o.data[k] = []byte(v)
	}
	return o
}

// secretObject returns the hashed view of s: stringData is folded into data
// (stringData wins, as in the API server) and an empty type counts as Opaque.
func secretObject(s *corev1.Secret) object {
	o := object{secretType: string(s.Type), data: make(map[string][]byte, len(s.Data)+len(s.StringData))}
	if o.secretType == "" {
		o.secretType = string(corev1.SecretTypeOpaque)
	}
	maps.Copy(o.data, s.Data)
	for k, v := range s.StringData {
		o.data[k] = []byte(v)
	}
	return o
}

// Section tags. Each value written is preceded by a one-byte tag; each
// variable-length value is length-prefixed. Together they make the encoding
// injective: two different inputs never encode alike.
const (
	tagRef        = 'R' // kind, name follow
	tagAbsent     = 'A' // the object does not exist
	tagPresent    = 'P' // the object exists; type and sections follow
	tagData       = 'D' // data section: count, then key/value pairs
	tagBinaryData = 'B' // binaryData section: count, then key/value pairs
	tagKeyData    = 'd' // a referenced key found in data: key, value
	tagKeyBinary  = 'b' // a referenced key found in binaryData: key, value
	tagKeyAbsent  = 'a' // a referenced key found nowhere: key
	tagAllKeys    = '*' // every key is consumed
	tagSomeKeys   = 'k' // only listed keys are consumed: count follows
)

// version names the encoding, so a future change of it changes every hash.
const version = "opbuilder.io/config-hash/v1"

type encoder struct {
	h hash.Hash
}

func newEncoder() *encoder {
	e := &encoder{h: sha256.New()}
	e.bytes([]byte(version))
	return e
}

func (e *encoder) tag(t byte) { e.h.Write([]byte{t}) }

func (e *encoder) uint(n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	e.h.Write(b[:])
}

func (e *encoder) bytes(b []byte) {
	e.uint(len(b))
	e.h.Write(b)
}

func (e *encoder) str(s string) { e.bytes([]byte(s)) }

func (e *encoder) section(tag byte, m map[string][]byte) {
	e.tag(tag)
	e.uint(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e.str(k)
		e.bytes(m[k])
	}
}

func (e *encoder) ref(r Ref, o *object) {
	e.tag(tagRef)
	e.str(string(r.Kind))
	e.str(r.Name)
	if o == nil {
		e.tag(tagAbsent)
		return
	}
	e.tag(tagPresent)
	e.str(o.secretType)
	if r.Keys == nil {
		e.tag(tagAllKeys)
		e.section(tagData, o.data)
		e.section(tagBinaryData, o.binaryData)
		return
	}
	e.tag(tagSomeKeys)
	e.uint(len(r.Keys))
	for _, k := range r.Keys {
		if v, ok := o.data[k]; ok {
			e.tag(tagKeyData)
			e.str(k)
			e.bytes(v)
			continue
		}
		if v, ok := o.binaryData[k]; ok {
			e.tag(tagKeyBinary)
			e.str(k)
			e.bytes(v)
			continue
		}
		e.tag(tagKeyAbsent)
		e.str(k)
	}
}

func (e *encoder) sum() string {
	return hex.EncodeToString(e.h.Sum(nil))
}
