package confighash_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/confighash"
)

func Example() {
	ctx := context.Background()
	pod := &corev1.PodSpec{Containers: []corev1.Container{{
		Name: "broker",
		Env: []corev1.EnvVar{{Name: "LOG_LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "druid-common"}, Key: "log.level",
		}}}},
		EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "druid-creds"},
		}}},
	}}}
	config := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "druid-common", Namespace: "prod"},
		Data:       map[string]string{"log.level": "info", "unused": "x"},
	}
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "druid-creds", Namespace: "prod"},
		StringData: map[string]string{"PASSWORD": "secret"},
	}

	for _, r := range confighash.References(pod) {
		fmt.Printf("%s %s keys=%v\n", r.Kind, r.Name, r.Keys)
	}

	// In a controller, chain the objects desired in this reconcile with the
	// manager's client: confighash.Chain(confighash.FromObjects(desired...), mgr.GetClient()).
	before, err := confighash.Compute(ctx, confighash.FromObjects(config, creds), "prod", pod)
	if err != nil {
		fmt.Println(err)
		return
	}
	config.Data["unused"] = "changed"
	unreferenced, _ := confighash.Compute(ctx, confighash.FromObjects(config, creds), "prod", pod)
	config.Data["log.level"] = "debug"
	referenced, _ := confighash.Compute(ctx, confighash.FromObjects(config, creds), "prod", pod)

	fmt.Println("unreferenced key changes the hash:", before.Value != unreferenced.Value)
	fmt.Println("referenced key changes the hash:", before.Value != referenced.Value)
	// Output:
	// ConfigMap druid-common keys=[log.level]
	// Secret druid-creds keys=[]
	// unreferenced key changes the hash: false
	// referenced key changes the hash: true
}
