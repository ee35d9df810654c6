package controller

import (
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
)

var _ machinery.Template = &Controller{}

// Controller writes the kind's controller in place of go/v4's: Reconcile
// reads the resource and hands it to the runtime's orchestrator, which runs
// the node types the controller registers.
type Controller struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	// RuntimeModule is the import path of the opbuilder runtime module.
	RuntimeModule string
}

// SetTemplateDefaults implements machinery.Template.
func (f *Controller) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.FilesFor(f.Resource).Controller
	}
	f.TemplateBody = controllerTemplate
	f.IfExistsAction = machinery.OverwriteFile
	return nil
}

// App is the application name set on every child, the lowercased kind.
func (f *Controller) App() string { return strings.ToLower(f.Resource.Kind) }

// Var is the name of a variable that holds one resource of the kind.
func (f *Controller) Var() string { return varFor(f.Resource.Kind) }

// NodeTypesMarker is where node types register.
func (f *Controller) NodeTypesMarker() string {
	return templates.NewMarker(f.Path, templates.NodeTypesMarker).String()
}

// varFor returns the lowerCamelCase form of a kind, e.g. "druid" or
// "kafkaCluster".
func varFor(kind string) string { return strings.ToLower(kind[:1]) + kind[1:] }

//nolint:lll
const controllerTemplate = `{{ .Boilerplate }}

package controller

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"{{ .RuntimeModule }}/orchestrate"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)

// {{ .Var }}App is the application name: the app.kubernetes.io/name label of
// every object the operator creates for a {{ .Resource.Kind }}.
const {{ .Var }}App = "{{ .App }}"

// {{ .Resource.Kind }}Reconciler reconciles a {{ .Resource.Kind }}. The opbuilder runtime does the
// work: it builds the objects of every node type listed in {{ .Var }}NodeTypes,
// applies what changed, rolls changes out one node type at a time in the
// {{ .Resource.Kind }}'s deployment order, prunes what is no longer wanted, and keeps the
// status up to date.
type {{ .Resource.Kind }}Reconciler struct {
	client.Client
	Scheme *runtime.Scheme

	orchestrator *orchestrate.Orchestrator[*{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}]
}

// The runtime touches exactly these, with exactly these verbs: the {{ .Resource.Kind }}, and its
// status, which it patches; the kinds of children it owns, which it applies
// (server-side apply is a patch, and a create when the child is new), watches
// and prunes; the ConfigMaps and Secrets a pod template references, which it
// reads and labels (a patch of one label) so they are watched; and
// events.k8s.io events. The finalizers subresource lets its owner references
// block the {{ .Resource.Kind }}'s deletion until the children are gone. It never
// updates a whole object, and never sets the replicas of an autoscaled
// group. Secrets get no create or delete: no node type builds
// one; grant them in a node type's file if yours does. Opting in to
// orchestrate.Config.StuckPodRecovery needs pods (get;list;delete) as well.
// +kubebuilder:rbac:groups={{ .Resource.QualifiedGroup }},resources={{ .Resource.Plural }},verbs=get;list;watch
// +kubebuilder:rbac:groups={{ .Resource.QualifiedGroup }},resources={{ .Resource.Plural }}/status,verbs=get;patch
// +kubebuilder:rbac:groups={{ .Resource.QualifiedGroup }},resources={{ .Resource.Plural }}/finalizers,verbs=update
// +kubebuilder:rbac:groups=core,resources=configmaps;services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile hands the {{ .Resource.Kind }} to the orchestrator. It is called whenever the
// {{ .Resource.Kind }} or one of its objects changes.
func (r *{{ .Resource.Kind }}Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var {{ .Var }} {{ .Resource.ImportAlias }}.{{ .Resource.Kind }}
	if err := r.Get(ctx, req.NamespacedName, &{{ .Var }}); err != nil {
		// A deleted {{ .Resource.Kind }}'s objects are garbage-collected through their owner
		// references.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return r.orchestrator.Reconcile(ctx, &{{ .Var }})
}

// {{ .Var }}NodeTypes lists the node types of a {{ .Resource.Kind }}, in the order they were
// added. Each builds its objects in internal/controller/{{ lower .Resource.Kind }}_<node type>.go.
func {{ .Var }}NodeTypes() []orchestrate.NodeType[*{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}] {
	return []orchestrate.NodeType[*{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}]{
		{{ .NodeTypesMarker }}
	}
}

// SetupWithManager registers the node types with an orchestrator and the
// controller with the Manager. The controller watches the {{ .Resource.Kind }} and every
// object the runtime creates for it.
func (r *{{ .Resource.Kind }}Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	o, err := orchestrate.New(mgr, orchestrate.Config{
		App:        {{ .Var }}App,
		FieldOwner: FieldOwner,
		// Events about the {{ .Resource.Kind }} and its objects go through the
		// events.k8s.io/v1 API.
		EventRecorder: mgr.GetEventRecorder(FieldOwner),
		// Groups that set autoscaling get a HorizontalPodAutoscaler.
		OwnedKinds: []client.Object{&autoscalingv2.HorizontalPodAutoscaler{}},
	}, {{ .Var }}NodeTypes()...)
	if err != nil {
		return fmt.Errorf("setting up the {{ .Resource.Kind }} orchestrator: %w", err)
	}
	o.SetShared(build{{ .Resource.Kind }}Shared)
	r.orchestrator = o
	return o.SetupWithManager(mgr, r)
}

// build{{ .Resource.Kind }}Shared returns the objects of a {{ .Resource.Kind }} that belong to no node
// type: the ConfigMap of spec.config, which every pod mounts. It exists
// even while spec.config is empty, so that adding a file is a change of its
// content, which rolls each node type in the deployment order.
func build{{ .Resource.Kind }}Shared(_ context.Context, {{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}) ([]client.Object, error) {
	return []client.Object{&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: {{ .Var }}SharedConfigName({{ .Var }}), Namespace: {{ .Var }}.Namespace},
		Data:       {{ .Var }}.Spec.Config,
	}}, nil
}

// {{ .Var }}SharedConfigName returns the name of the ConfigMap of {{ .Var }}.Spec.Config.
// Group objects are named "<{{ .Var }}>-<node type>-<group>", so it cannot clash
// with one of them.
func {{ .Var }}SharedConfigName({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}) string {
	return {{ .Var }}.Name + "-shared"
}
`
