package store_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// The Builder drives the store through its Store interface.
var _ builder.Store = (*store.Store)(nil)

func TestIDRoundTrip(t *testing.T) {
	for _, id := range []store.ID{
		{Group: "apps", Version: "v1", Kind: "StatefulSet", Namespace: "prod", Name: "druid-historical"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "prod", Name: "druid.common"},
		{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress", Namespace: "p", Name: "x"},
		{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler", Namespace: "p", Name: "a.b.c"},
	} {
		s := id.String()
		got, err := store.ParseID(s)
		if err != nil {
			t.Errorf("ParseID(%q): %v", s, err)
			continue
		}
		if got != id {
			t.Errorf("ParseID(%q) = %+v, want %+v", s, got, id)
		}
	}
	if got := (store.ID{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "web"}).String(); got != "Deployment.v1.apps/ns/web" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseIDRejectsMalformed(t *testing.T) {
	for _, s := range []string{
		"", "ConfigMap", "ConfigMap/ns/name", "ConfigMap.v1/ns", "ConfigMap.v1/ns/a/b",
		".v1/ns/name", "ConfigMap./ns/name", "ConfigMap.v1/ns/", "ConfigMap.v1/Not_A_Namespace/x",
		"Deployment.v1.Bad_Group/ns/x",
	} {
		if id, err := store.ParseID(s); err == nil {
			t.Errorf("ParseID(%q) = %+v, want an error", s, id)
		}
	}
}

func TestKeyIgnoresVersion(t *testing.T) {
	a := store.ID{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler", Namespace: "n", Name: "x"}
	b := a
	b.Version = "v1"
	if a.Key() != b.Key() {
		t.Error("one object under two API versions must have one Key")
	}
	c := a
	c.Kind = "Other"
	if a.Key() == c.Key() {
		t.Error("two kinds with one name must not share a Key")
	}
}

func TestIDOfUsesSchemeForTypedObjects(t *testing.T) {
	id, err := store.IDOf(&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "n"}}, testScheme)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.String(); got != "StatefulSet.v1.apps/n/s" {
		t.Errorf("IDOf = %q", got)
	}
	if _, err := store.IDOf(&corev1.ConfigMap{}, nil); err == nil {
		t.Error("IDOf without TypeMeta and without a scheme must fail")
	}
}

func TestNewRejectsIncompleteInput(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme).Build()
	withUID := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n", UID: "u"}}
	for name, tc := range map[string]struct {
		owner *testv1.Cluster
		want  string
	}{
		"no UID":         {&testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n"}}, "no UID"},
		"cluster-scoped": {&testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "u"}}, "cluster-scoped"},
	} {
		if _, err := store.New(tc.owner, c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New error = %v, want one mentioning %q", name, err, tc.want)
		}
	}
	if _, err := store.New(nil, c); err == nil {
		t.Error("New(nil owner) must fail")
	}
	if _, err := store.New(withUID, nil); err == nil {
		t.Error("New(nil client) must fail")
	}
}

func TestRecordFailureMarksPassFailed(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme).Build()
	owner := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n", UID: "u"}}
	st, err := store.New(owner, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Record(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ok", Namespace: "n"}}); err != nil {
		t.Fatal(err)
	}
	if st.Failed() != nil {
		t.Fatal("a good Record marked the pass failed")
	}
	for _, bad := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{GenerateName: "x-", Namespace: "n"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "other"}},
	} {
		if err := st.Record(bad); err == nil {
			t.Errorf("Record(%s/%s%s) succeeded", bad.Namespace, bad.Name, bad.GenerateName)
		}
	}
	if st.Failed() == nil {
		t.Error("failed Records must mark the pass failed")
	}
	if err := st.Record(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ok"}}); err != nil {
		t.Errorf("Record without a namespace: %v", err)
	}
	got := st.Desired()
	if len(got) != 2 || got[1].String() != "Service.v1/n/ok" {
		t.Errorf("Desired = %v, want the ConfigMap and the Service in the owner's namespace", got)
	}
}
