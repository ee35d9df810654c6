package testcluster_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// TestAuditLogRecordsWritesByUser proves what the e2e suite's zero-writes
// check relies on: a write request is in the audit log, with its user, verb
// and object, as soon as the request has returned.
func TestAuditLogRecordsWritesByUser(t *testing.T) {
	ctx := t.Context()
	c := start(t, testcluster.WithAuditLog())

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "audited", Namespace: "default"}}
	if err := c.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}

	writes, err := c.AuditEvents(func(e testcluster.AuditEvent) bool {
		return e.IsWrite() && e.ObjectRef != nil && e.ObjectRef.Resource == "configmaps" && e.ObjectRef.Name == "audited"
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(writes) != 1 {
		t.Fatalf("want exactly one audited write of configmap default/audited, got %d: %v", len(writes), writes)
	}
	if got, want := writes[0].Verb, "create"; got != want {
		t.Errorf("verb = %q, want %q", got, want)
	}
	if got, want := writes[0].User.Username, "opbuilder-admin"; got != want {
		t.Errorf("user = %q, want %q", got, want)
	}
	if s := writes[0].String(); s != "create configmaps default/audited (201)" {
		t.Errorf("String() = %q", s)
	}

	// Reads are logged too, and are not writes.
	if err := c.Client.Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{}); err != nil {
		t.Fatal(err)
	}
	gets, err := c.AuditEvents(func(e testcluster.AuditEvent) bool {
		return e.Verb == "get" && e.ObjectRef != nil && e.ObjectRef.Name == "audited"
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(gets) != 1 || gets[0].IsWrite() {
		t.Fatalf("want one audited get that is not a write, got %v", gets)
	}
}
