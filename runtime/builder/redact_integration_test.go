package builder_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// denySecretQuoting is a ValidatingAdmissionPolicy that refuses Secrets with
// a PASSWORD key, quoting its value in the message, as a careless admission
// webhook or policy might.
func denySecretQuoting(ns string) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-password-" + ns},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: new(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"secrets"}},
					},
				}},
			},
			Validations: []admissionregistrationv1.Validation{{
				Expression:        "!has(object.data) || !('PASSWORD' in object.data)",
				MessageExpression: "'PASSWORD is not allowed here, and ' + string(object.data['PASSWORD']) + ' is a bad one'",
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: ns}},
			},
		},
	}
	return policy, binding
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) write(prefix, args string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(prefix + " " + args + "\n")
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRefusedSecretContentStaysOutOfLogsAndErrors: the API server refuses a
// Secret with a message that quotes its value. Neither the error the Builder
// returns (which controller-runtime logs), nor its own log, nor its event
// carries the value; the error still says it was refused.
func TestRefusedSecretContentStaysOutOfLogsAndErrors(t *testing.T) {
	e := newEnv(t)
	const value = "s3cr3t-value"
	// The policy quotes the value as the API server holds it, base64.
	quotes := func(s string) bool {
		return strings.Contains(s, value) || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte(value)))
	}
	policy, binding := denySecretQuoting(e.ns)
	for _, o := range []client.Object{policy, binding} {
		if err := e.admin.Create(e.ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.admin.Delete(context.Background(), o) })
	}
	// The policy is in force once the API server refuses such a Secret,
	// quoting the value.
	e.eventually("the policy to be in force", func(ctx context.Context) (bool, error) {
		probe := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: e.ns}, StringData: map[string]string{"PASSWORD": value}}
		err := e.admin.Create(ctx, probe, client.DryRunAll)
		return err != nil && quotes(err.Error()), nil
	})

	// Every level the runtime logs at, and more. From verbosity 8 client-go
	// dumps request and response bodies, whatever their kind: a wire-debugging
	// mode no operator runs in, left out here.
	logs := &syncBuffer{}
	ctx := log.IntoContext(e.ctx, funcr.New(logs.write, funcr.Options{Verbosity: 7}))
	e.rec.Take()
	_, err := e.builderWith(e.exp, secret(map[string]string{"PASSWORD": value})).ReconcileAll(ctx)
	if err == nil {
		t.Fatal("the refused Secret returned no error")
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		t.Errorf("the error %q no longer says what the API server answered", err)
	}
	if quotes(err.Error()) {
		t.Errorf("the error quotes the Secret's value: %q", err)
	}
	if quotes(logs.String()) {
		t.Errorf("the log quotes the Secret's value:\n%s", logs)
	}
	for _, ev := range e.rec.Take() {
		if quotes(ev.Note) {
			t.Errorf("an event quotes the Secret's value: %q", ev.Note)
		}
	}
}
