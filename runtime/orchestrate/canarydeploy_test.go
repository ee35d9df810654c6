package orchestrate

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

func TestNextCanaryStep(t *testing.T) {
	hold := canaryStep{HoldMain: true, Apply: true}
	keep := canaryStep{Keep: true}
	tests := []struct {
		name string
		in   canaryInput
		want canaryStep
	}{
		{"steady state: no canary", canaryInput{Pods: 1, MainDone: true}, canaryStep{}},
		{"a rollout is due: the canary runs it", canaryInput{Due: true, Pods: 1, MainDone: true}, hold},
		{"the canary waits for its approval", canaryInput{Due: true, Pods: 1, Exists: true, MainDone: true}, hold},
		{"approved: the main Deployment rolls, the canary stays", canaryInput{Due: true, Pods: 1, Exists: true, Approved: true, MainDone: true}, keep},
		{"the main Deployment rolls: the canary stays", canaryInput{Pods: 1, Exists: true}, keep},
		{"the main Deployment is rolled out: the canary goes", canaryInput{Pods: 1, Exists: true, MainDone: true}, canaryStep{}},
		{"a group too small for a canary rolls at once", canaryInput{Due: true, MainDone: true}, canaryStep{}},
		{"a canary left from a larger group stays until the main Deployment rolled", canaryInput{Due: true, Exists: true, MainDone: true}, keep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextCanaryStep(tt.in); got != tt.want {
				t.Errorf("nextCanaryStep(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// deploymentOf is a Deployment of one container running image, with
// revision (when not empty) as its canary revision.
func deploymentOf(image, revision string) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "db-b", Namespace: "ns", Labels: map[string]string{keys.LabelComponent: "b"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "b"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "b"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image}}},
			},
		},
	}
	if revision != "" {
		d.Annotations = map[string]string{keys.AnnotationCanaryRevision: revision}
	}
	return d
}

func TestTemplateRevision(t *testing.T) {
	rev := func(d *appsv1.Deployment, configHash string) string {
		r, err := templateRevision(&d.Spec.Template, configHash)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := rev(deploymentOf("db:1", ""), "h1")
	if again := rev(deploymentOf("db:1", ""), "h1"); again != base {
		t.Errorf("the same template and configuration got revisions %q and %q", base, again)
	}
	if rev(deploymentOf("db:2", ""), "h1") == base {
		t.Error("a new image keeps the revision")
	}
	if rev(deploymentOf("db:1", ""), "h2") == base {
		t.Error("a new configuration keeps the revision")
	}
	if strings.ContainsAny(base, "aeiou013") {
		t.Errorf("revision %q is not encoded like Kubernetes' hashes", base)
	}
}

func TestRevisionChanges(t *testing.T) {
	// live is as the API server returns it: the builder's labels and
	// config hash on its template, and defaulted fields.
	live := func(image, revision string) *appsv1.Deployment {
		d := deploymentOf(image, revision)
		d.Spec.Template.Labels[keys.LabelManagedBy] = "op"
		d.Spec.Template.Annotations = map[string]string{keys.AnnotationConfigHash: "h1"}
		d.Spec.Template.Spec.DNSPolicy = corev1.DNSClusterFirst
		d.Spec.Template.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log"
		return d
	}
	withEnv := deploymentOf("db:1", "")
	withEnv.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}}
	tests := []struct {
		name          string
		desired, live *appsv1.Deployment
		configHash    string
		want          bool
	}{
		{"the revision it was written with", deploymentOf("db:1", "r1"), live("db:1", "r1"), "h1", false},
		{"a new revision", deploymentOf("db:2", "r2"), live("db:1", "r1"), "h1", true},
		{"a revision names everything: the template is not compared", deploymentOf("db:2", "r1"), live("db:1", "r1"), "h2", false},
		{"no revision yet, the same template", deploymentOf("db:1", "r1"), live("db:1", ""), "h1", false},
		{"no revision yet, a new image", deploymentOf("db:2", "r1"), live("db:1", ""), "h1", true},
		{"no revision yet, a new configuration", deploymentOf("db:1", "r1"), live("db:1", ""), "h2", true},
		{"no revision yet, a new field", withEnv, live("db:1", ""), "h1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := revisionChanges(tt.desired, tt.live, tt.configHash); got != tt.want {
				t.Errorf("revisionChanges = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCanaryDeployment(t *testing.T) {
	main := deploymentOf("db:2", "r2")
	c := canaryDeployment(main, "r2", 1)
	if c.Name != "db-b-canary" || c.Namespace != "ns" {
		t.Errorf("canary is %s/%s, want ns/db-b-canary", c.Namespace, c.Name)
	}
	if got := ptr.Deref(c.Spec.Replicas, 0); got != 1 {
		t.Errorf("canary replicas %d, want 1", got)
	}
	mark := keys.LabelCanary
	if c.Labels[mark] != keys.ValueTrue || c.Labels[keys.LabelComponent] != "b" {
		t.Errorf("canary labels %v, want the main Deployment's and %s", c.Labels, mark)
	}
	if c.Spec.Selector.MatchLabels[mark] != keys.ValueTrue || c.Spec.Selector.MatchLabels["app"] != "b" {
		t.Errorf("canary selector %v, want the main selector and %s", c.Spec.Selector.MatchLabels, mark)
	}
	if c.Spec.Template.Labels[mark] != keys.ValueTrue || c.Spec.Template.Annotations[keys.AnnotationCanaryRevision] != "r2" {
		t.Errorf("canary pods are labelled %v and annotated %v, want %s and the revision", c.Spec.Template.Labels, c.Spec.Template.Annotations, mark)
	}
	if c.Spec.Template.Spec.Containers[0].Image != "db:2" {
		t.Errorf("canary runs %s, want the main Deployment's new template", c.Spec.Template.Spec.Containers[0].Image)
	}
	if _, ok := main.Spec.Selector.MatchLabels[mark]; ok || main.Spec.Template.Labels[mark] != "" || ptr.Deref(main.Spec.Replicas, 0) != 3 {
		t.Errorf("the main Deployment was modified: %+v", main.Spec)
	}
	if !isCanary(c) || isCanary(main) {
		t.Error("isCanary does not tell the canary from the main Deployment")
	}
}

func TestCanaryWaitMessageOfADeployment(t *testing.T) {
	w := canaryWait{NodeType: "b", Revision: "r2", Updated: 1, Replicas: 3, Deployment: "db-b-canary"}
	msg := w.message()
	for _, want := range []string{"Deployment db-b-canary runs revision r2 on 1 pod", "beside the node type's 3", `opbuilder.io/approve-rollout.b is "r2"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}
