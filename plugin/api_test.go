package plugin

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

func TestCreateAPIMakesADataSystemResource(t *testing.T) {
	p := initialized(t)
	res := p.GoV4API(t, "data", "v1alpha1", "Druid")
	before := p.Snapshot(t)
	if err := runCreateAPI(p, res, "--image", "apache/druid:34.0.0"); err != nil {
		t.Fatal(err)
	}
	if diff := projecttest.Diff(before, p.Snapshot(t)); diff != strings.Join([]string{
		"changed api/v1alpha1/druid_types.go",
		"created api/v1alpha1/opbuilder_types.go",
		"created api/v1alpha1/zz_generated.druid_nodetypes.go",
		"changed cmd/main.go",
		"changed config/samples/data_v1alpha1_druid.yaml",
		"changed internal/controller/druid_controller.go",
		"changed internal/controller/druid_controller_test.go",
		"changed internal/controller/suite_test.go",
	}, "\n") {
		t.Errorf("create api touched:\n%s", diff)
	}

	assertContains(t, "types", p.Read(t, "api/v1alpha1/druid_types.go"),
		`"github.com/opbuilder/opbuilder/runtime/status"`,
		"type DruidSpec struct {",
		"Image string `json:\"image\"`",
		"ImagePullPolicy corev1.PullPolicy",
		"ServiceAccountName string",
		"PodMetadata PodMetadata",
		"Env []corev1.EnvVar",
		"NodeSelector map[string]string",
		"Tolerations []corev1.Toleration",
		"Config map[string]string",
		"DeploymentOrder []DruidNodeType",
		"// +opbuilder:scaffold:nodetype-fields",
		"type DruidStatus struct {\n\tstatus.ClusterStatus `json:\",inline\"`\n}",
		"// +kubebuilder:subresource:status",
		"JSONPath=`.status.readyNodeTypes`",
		"JSONPath=`.status.rollingNodeType`",
		"// +opbuilder:scaffold:kind-validations",
		"func (d *Druid) GetClusterStatus() *status.ClusterStatus",
		"func (d *Druid) DeploymentOrder() []string",
		"// +opbuilder:scaffold:deployment-order",
		"type DruidList struct",
	)
	assertContains(t, "shared types", p.Read(t, "api/v1alpha1/opbuilder_types.go"),
		"type GroupSpec struct", "Autoscaling *AutoscalingSpec", "StartupProbe *corev1.Probe",
		"PodTemplate *PodTemplateOverride", "type PodTemplateOverride struct", "// +kubebuilder:pruning:PreserveUnknownFields",
		"type AutoscalingSpec struct", "type PodMetadata struct", "type StorageSpec struct",
		"quantity(string(self)).compareTo(quantity(string(oldSelf))) >= 0",
		"type ServiceSpec struct", "type DisruptionSpec struct")
	// Without node types, no name is valid in the deployment order yet: no enum.
	names := p.Read(t, "api/v1alpha1/zz_generated.druid_nodetypes.go")
	assertContains(t, "node type names", names, "DO NOT EDIT", "type DruidNodeType string")
	if strings.Contains(names, "Enum") {
		t.Errorf("the node type names of a kind without node types have an enum:\n%s", names)
	}

	controller := p.Read(t, "internal/controller/druid_controller.go")
	assertContains(t, "controller", controller,
		`const druidApp = "druid"`,
		"type DruidReconciler struct",
		"func (r *DruidReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {",
		"var druid datav1alpha1.Druid",
		"return ctrl.Result{}, client.IgnoreNotFound(err)",
		"return r.orchestrator.Reconcile(ctx, &druid)",
		"func druidNodeTypes() []orchestrate.NodeType[*datav1alpha1.Druid] {",
		"// +opbuilder:scaffold:nodetypes",
		"orchestrate.New(mgr, orchestrate.Config{",
		"FieldOwner: FieldOwner,",
		"OwnedKinds: []client.Object{&autoscalingv2.HorizontalPodAutoscaler{}},",
		"o.SetShared(buildDruidShared)",
		"return o.SetupWithManager(mgr, r)",
		"func buildDruidShared(_ context.Context, druid *datav1alpha1.Druid) ([]client.Object, error) {",
	)
	var rbac []string
	for line := range strings.SplitSeq(controller, "\n") {
		if strings.HasPrefix(line, "// +kubebuilder:rbac:") {
			rbac = append(rbac, strings.TrimPrefix(line, "// +kubebuilder:rbac:"))
		}
	}
	// Exactly what the runtime touches: no pods, no PVCs, no core events.
	if want := []string{
		"groups=data.example.com,resources=druids,verbs=get;list;watch",
		"groups=data.example.com,resources=druids/status,verbs=get;patch",
		"groups=data.example.com,resources=druids/finalizers,verbs=update",
		"groups=core,resources=configmaps;services,verbs=get;list;watch;create;patch;delete",
		"groups=core,resources=secrets,verbs=get;list;watch;patch",
		"groups=apps,resources=deployments;statefulsets,verbs=get;list;watch;create;patch;delete",
		"groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete",
		"groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete",
		"groups=events.k8s.io,resources=events,verbs=create;patch",
	}; !slices.Equal(rbac, want) {
		t.Errorf("RBAC markers:\n%s\nwant:\n%s", strings.Join(rbac, "\n"), strings.Join(want, "\n"))
	}

	assertContains(t, "controller test", p.Read(t, "internal/controller/druid_controller_test.go"),
		"func startDruidManager() context.CancelFunc {",
		"cachescope.Options(&datav1alpha1.Druid{}, cachescope.WithManagedBy(FieldOwner))",
		"func newDruid(name string) *datav1alpha1.Druid {",
		`Image: "apache/druid:34.0.0",`,
		"// +opbuilder:scaffold:sample-nodetypes",
		"g.Expect(reported).To(ConsistOf(druid.DeploymentOrder()))",
	)
	assertContains(t, "sample", p.Read(t, "config/samples/data_v1alpha1_druid.yaml"),
		"apiVersion: data.example.com/v1alpha1", "kind: Druid", "name: druid-sample",
		"image: apache/druid:34.0.0", "# +opbuilder:scaffold:sample-nodetypes")
	assertContains(t, "cmd/main.go", p.Read(t, "cmd/main.go"),
		"ownedTypes := []client.Object{\n\t\t&datav1alpha1.Druid{},\n", "// +opbuilder:scaffold:owned-types")
	assertGoParses(t, p)

	pc, err := loadPluginConfig(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	if len(pc.Resources) != 1 || pc.Resources[0].Kind != "Druid" || pc.Resources[0].Group != "data" ||
		pc.Resources[0].Image != "apache/druid:34.0.0" {
		t.Errorf("PROJECT records %+v, want the kind Druid with its image", pc.Resources)
	}
}

func TestCreateAPIDefaultsTheSampleImageToTheKind(t *testing.T) {
	p := withDruid(t)
	assertContains(t, "sample", p.Read(t, "config/samples/data_v1alpha1_druid.yaml"), "image: druid:latest")
}

func TestCreateAPIOfASecondKindSharesTheTypesAndCache(t *testing.T) {
	p := withDruid(t)
	shared := p.Read(t, "api/v1alpha1/opbuilder_types.go")
	res := p.GoV4API(t, "data", "v1alpha1", "Pinot")
	if err := runCreateAPI(p, res); err != nil {
		t.Fatal(err)
	}
	if got := p.Read(t, "api/v1alpha1/opbuilder_types.go"); got != shared {
		t.Error("the second kind rewrote the shared types")
	}
	assertContains(t, "cmd/main.go", p.Read(t, "cmd/main.go"),
		"&datav1alpha1.Druid{},", "&datav1alpha1.Pinot{},", "// +opbuilder:scaffold:owned-types")
	assertGoParses(t, p)
}

// The first kind rewrites go/v4's suite to run on testcluster; a second
// kind leaves it to go/v4's markers, so a line the user added stays.
func TestCreateAPIRunsTheSuiteOnARealControlPlane(t *testing.T) {
	p := withDruid(t)
	suite := p.Read(t, "internal/controller/suite_test.go")
	assertContains(t, "suite", suite,
		`"github.com/opbuilder/opbuilder/runtime/testcluster"`,
		`datav1alpha1 "example.com/druid-operator/api/v1alpha1"`,
		"// +kubebuilder:scaffold:imports",
		"err = datav1alpha1.AddToScheme(scheme.Scheme)",
		"// +kubebuilder:scaffold:scheme",
		"cluster, err = testcluster.Start(ctx,",
		"testcluster.WithKwokNodes(3),",
		"testcluster.WithVolumeProvisioner(),",
		"func podUIDs(")
	if strings.Contains(suite, "envtest") {
		t.Error("the suite still starts envtest's bare API server")
	}

	edited := strings.Replace(suite, "// +kubebuilder:scaffold:scheme", "// +kubebuilder:scaffold:scheme\n\t// a user's line", 1)
	p.Write(t, "internal/controller/suite_test.go", edited)
	res := p.GoV4API(t, "data", "v1alpha1", "Pinot")
	if err := runCreateAPI(p, res); err != nil {
		t.Fatal(err)
	}
	assertContains(t, "suite after a second kind", p.Read(t, "internal/controller/suite_test.go"),
		"// a user's line", "cluster, err = testcluster.Start(ctx,")
	assertGoParses(t, p)
}

func TestCreateAPIWithoutANewAPIDoesNothing(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*resource.Resource)
	}{
		{"no API", func(r *resource.Resource) { r.API = &resource.API{} }},
		{"no controller", func(r *resource.Resource) { r.Controller = false; r.Controllers = nil }},
		{"external API", func(r *resource.Resource) { r.External = true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := initialized(t)
			res := p.GoV4API(t, "data", "v1alpha1", "Druid")
			tc.mutate(res)
			before := p.Snapshot(t)
			err := runCreateAPI(p, res)
			if !projecttest.IsExit(err) {
				t.Fatalf("got %v, want an exit error that skips opbuilder's hooks", err)
			}
			if diff := projecttest.Diff(before, p.Snapshot(t)); diff != "" {
				t.Errorf("create api changed the project:\n%s", diff)
			}
		})
	}
}

func TestCreateAPIRejectsBadInputAndWritesNothing(t *testing.T) {
	t.Run("node type flags without --nodetype", func(t *testing.T) {
		p := initialized(t)
		res := p.GoV4API(t, "data", "v1alpha1", "Druid")
		before := p.Snapshot(t)
		assertFailsCleanly(t, p, before, runCreateAPI(p, res, "--workload", "deployment"),
			"--workload describes a node type and needs --nodetype NAME")
	})
	t.Run("project not initialized with opbuilder", func(t *testing.T) {
		p := projecttest.New(t)
		p.GoV4Init(t)
		res := p.GoV4API(t, "data", "v1alpha1", "Druid")
		before := p.Snapshot(t)
		assertFailsCleanly(t, p, before, runCreateAPI(p, res),
			"not initialized with opbuilder", "+opbuilder:scaffold:owned-types", "init --plugins go/v4,opbuilder/v1")
	})
	t.Run("kind that would shadow a package", func(t *testing.T) {
		p := initialized(t)
		res := p.GoV4API(t, "data", "v1alpha1", "Client")
		before := p.Snapshot(t)
		assertFailsCleanly(t, p, before, runCreateAPI(p, res), `variables named "client"`, "choose another --kind")
	})
}

func TestCreateAPIWithNodeTypeAddsANodeType(t *testing.T) {
	// The stock-kubebuilder spelling of create nodetype.
	p := withDruid(t)
	res := &resource.Resource{GVK: resource.GVK{Group: "data", Domain: "example.com", Version: "v1alpha1", Kind: "Druid"}}
	err := projecttest.RunHooks(&createAPISubcommand{}, []string{
		"--nodetype", "broker", "--workload", "deployment", "--port", "8082", "--replicas", "2",
	}, p.Config, res, p.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"api/v1alpha1/druid_broker_types.go",
		"internal/controller/druid_broker.go",
		"internal/controller/druid_broker_test.go",
	} {
		if !p.Exists(t, path) {
			t.Errorf("%s was not created", path)
		}
	}
	assertContains(t, "controller", p.Read(t, "internal/controller/druid_controller.go"),
		"druidBrokerNodeType(),\n\t\t// +opbuilder:scaffold:nodetypes")
}
