package builder_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
)

func TestNewReportsEveryMissingOption(t *testing.T) {
	_, err := builder.New()
	if err == nil {
		t.Fatal("New without options succeeded")
	}
	for _, opt := range []string{"WithClient", "WithOwner", "WithRecorder", "WithFieldOwner", "WithApp"} {
		if !strings.Contains(err.Error(), opt) {
			t.Errorf("error %q does not mention %s", err, opt)
		}
	}
}

func TestNewRefusesUnusableOwners(t *testing.T) {
	e := newEnv(t)
	cases := map[string]*testv1.Cluster{
		"cluster-scoped": {ObjectMeta: metav1.ObjectMeta{Name: "x", UID: "u"}},
		"no UID":         {ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: e.ns}},
		"name too long for a label": {ObjectMeta: metav1.ObjectMeta{
			Name: strings.Repeat("n", 64), Namespace: e.ns, UID: "u",
		}},
	}
	for name, owner := range cases {
		_, err := builder.New(builder.WithClient(e.cl), builder.WithOwner(owner), builder.WithRecorder(e.rec),
			builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"))
		if err == nil {
			t.Errorf("%s owner accepted", name)
		}
	}
	if _, err := e.builder().ReconcileObject(e.ctx, nil); err == nil {
		t.Error("nil object accepted")
	}
	b, err := builder.New(builder.WithClient(e.cl), builder.WithOwner(e.owner), builder.WithRecorder(e.rec),
		builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ReconcileStore(e.ctx); err == nil || !strings.Contains(err.Error(), "WithStore") {
		t.Errorf("ReconcileStore without a store: %v", err)
	}
}
