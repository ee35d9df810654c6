package plugin

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

func TestCreateNodeTypeAddsAStatefulSetNodeType(t *testing.T) {
	p := withDruid(t)
	before := p.Snapshot(t)
	if err := runNodeType(p, historical...); err != nil {
		t.Fatal(err)
	}
	if diff := projecttest.Diff(before, p.Snapshot(t)); diff != strings.Join([]string{
		"created api/v1alpha1/druid_historical_types.go",
		"changed api/v1alpha1/druid_types.go",
		"changed api/v1alpha1/zz_generated.druid_nodetypes.go",
		"changed config/samples/data_v1alpha1_druid.yaml",
		"changed internal/controller/druid_controller.go",
		"changed internal/controller/druid_controller_test.go",
		"created internal/controller/druid_historical.go",
		"created internal/controller/druid_historical_test.go",
		"created internal/controller/druid_objects.go",
	}, "\n") {
		t.Errorf("create nodetype touched:\n%s", diff)
	}

	spec := p.Read(t, "api/v1alpha1/druid_historical_types.go")
	assertContains(t, "node type spec", spec,
		"type HistoricalSpec struct {",
		"GroupSpec `json:\",inline\"`",
		"// +kubebuilder:default=1", "// +kubebuilder:validation:Minimum=0", "Replicas *int32",
		"// +kubebuilder:default=8083", "// +kubebuilder:validation:Maximum=65535", "Port int32",
		`// +kubebuilder:default={size: "10Gi"}`, "Storage StorageSpec",
	)
	// What every node type has is shared, not copied.
	for _, shared := range []string{"Name string", "Image string", "ReadinessProbe", "PodDisruptionBudget DisruptionSpec", "Config map"} {
		if strings.Contains(spec, shared) {
			t.Errorf("the node type's spec declares %s, which GroupSpec holds", shared)
		}
	}
	assertContains(t, "node type names", p.Read(t, "api/v1alpha1/zz_generated.druid_nodetypes.go"),
		"// +kubebuilder:validation:Enum=historical\n")
	assertContains(t, "types", p.Read(t, "api/v1alpha1/druid_types.go"),
		"// historicals lists the groups of historical nodes.",
		"// +opbuilder:nodetype=historical",
		"// +listType=map",
		"// +listMapKey=name",
		"// +kubebuilder:validation:MaxItems=32",
		"Historicals []HistoricalSpec `json:\"historicals,omitempty\"`",
		"// +opbuilder:scaffold:nodetype-fields",
		"self.spec.historicals.all(g, size(self.metadata.name) + size(g.name) <= 40)",
		`"historical",`,
		"// +opbuilder:scaffold:deployment-order",
	)
	builder := p.Read(t, "internal/controller/druid_historical.go")
	assertContains(t, "builder", builder,
		`druidHistoricalName = "historical"`,
		"func druidHistoricalNodeType() orchestrate.NodeType[*datav1alpha1.Druid] {",
		"func buildDruidHistoricals(_ context.Context, druid *datav1alpha1.Druid) ([]orchestrate.Group, error) {",
		"for _, spec := range druid.Spec.Historicals {",
		"group := newDruidGroup(druid, druidHistoricalName, spec.GroupSpec, spec.Port, druidHistoricalConfigDir)",
		"corev1.VolumeMount{Name: druidHistoricalDataVolume, MountPath: druidHistoricalDataDir}",
		"template, err := group.podTemplate()",
		"headless := &corev1.Service{",
		"ClusterIP: corev1.ClusterIPNone,",
		"statefulSet := &appsv1.StatefulSet{",
		"ServiceName: headless.Name,",
		"Replicas:    group.replicas(spec.Replicas),",
		"Selector:    group.labelSelector(),",
		"VolumeClaimTemplates:",
		"corev1.ResourceStorage: spec.Storage.Size",
		"return group.group(statefulSet, headless)",
	)
	if strings.Contains(builder, "appsv1.Deployment") {
		t.Error("a StatefulSet node type builds a Deployment")
	}
	assertContains(t, "node type test", p.Read(t, "internal/controller/druid_historical_test.go"),
		"func druidHistoricalTest() druidNodeTypeTest {",
		"druid.Spec.Historicals = append(druid.Spec.Historicals,",
		"druid.Spec.Historicals[i].Config = config",
		`&corev1.ConfigMap{ObjectMeta: key(name)},`,
		`&appsv1.StatefulSet{ObjectMeta: key(name)},`,
		`&corev1.Service{ObjectMeta: key(name + "-headless")},`,
		`&corev1.Service{ObjectMeta: key(name)},`,
		`&policyv1.PodDisruptionBudget{ObjectMeta: key(name)},`,
		`Describe("Druid historical node type", Ordered,`,
		"BeforeAll(func() { stop = startDruidManager() })",
		"itDruidCreatesEveryGroup(druidHistoricalTest())",
		"itDruidRollsOneGroupAndPrunesAnother(druidHistoricalTest())",
	)
	assertContains(t, "controller test", p.Read(t, "internal/controller/druid_controller_test.go"),
		"type druidNodeTypeTest struct {",
		"func itDruidCreatesEveryGroup(nt druidNodeTypeTest) {",
		"metav1.IsControlledBy(object, druid)",
		"func itDruidRollsOneGroupAndPrunesAnother(nt druidNodeTypeTest) {",
		"waitUntilDruidRolledOut(druid)",
		`"pod %s of a group that did not change was replaced"`,
		"Should(Satisfy(apierrors.IsNotFound)",
	)
	assertContains(t, "controller", p.Read(t, "internal/controller/druid_controller.go"),
		"druidHistoricalNodeType(),\n\t\t// +opbuilder:scaffold:nodetypes")
	assertContains(t, "controller test", p.Read(t, "internal/controller/druid_controller_test.go"),
		`Historicals: []datav1alpha1.HistoricalSpec{{GroupSpec: datav1alpha1.GroupSpec{Name: firstGroup}}},`)
	assertContains(t, "objects", p.Read(t, "internal/controller/druid_objects.go"),
		"type druidGroup struct", "func newDruidGroup(", "keys.LabelGroup: spec.Name",
		"func (g *druidGroup) podTemplate() (corev1.PodTemplateSpec, error) {", "podtemplate.Merge(",
		"func (g *druidGroup) group(", "Disruption: &orchestrate.Disruption{",
		"func (g *druidGroup) autoscaler(", "func druidConfigMapVolume(")
	if strings.Contains(p.Read(t, "internal/controller/druid_objects.go"), "PodDisruptionBudget{") {
		t.Error("the scaffold builds a PodDisruptionBudget; the runtime generates it from Group.Disruption")
	}

	var sample struct {
		Spec struct {
			Historicals []struct {
				Name     string            `json:"name"`
				Replicas int32             `json:"replicas"`
				Port     int32             `json:"port"`
				Storage  map[string]string `json:"storage"`
				Config   map[string]string `json:"config"`
			} `json:"historicals"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(p.Read(t, "config/samples/data_v1alpha1_druid.yaml")), &sample); err != nil {
		t.Fatal(err)
	}
	groups := sample.Spec.Historicals
	if len(groups) != 2 || groups[0].Name != "hot" || groups[1].Name != "cold" {
		t.Fatalf("sample historicals = %+v, want groups hot and cold", groups)
	}
	for _, g := range groups {
		if g.Replicas != 1 || g.Port != 8083 || g.Storage["size"] != "10Gi" || len(g.Config) != 1 {
			t.Errorf("sample group %+v, want 1 replica on port 8083 with 10Gi and a config file", g)
		}
	}
	assertGoParses(t, p)
	// Growing storage patches the claims: the node type with storage, and
	// only it, grants that.
	assertContains(t, "builder", p.Read(t, "internal/controller/druid_historical.go"),
		"// +kubebuilder:rbac:groups=apps,resources=controllerrevisions,verbs=get",
		"// +kubebuilder:rbac:groups=core,resources=persistentvolumeclaims,verbs=list;patch",
		"PersistentVolumeClaimRetentionPolicy: spec.Storage.RetentionPolicy,")

	pc, err := loadPluginConfig(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	if nts := pc.Resources[0].NodeTypes; len(nts) != 1 || !reflect.DeepEqual(nts[0], NodeTypeConfig{
		Name: "historical", Workload: "statefulset", Port: 8083, Storage: "10Gi", Replicas: 1,
		Groups: []string{"hot", "cold"},
	}) {
		t.Errorf("PROJECT records node types %+v", nts)
	}
}

func TestCreateNodeTypeAddsADeploymentNodeTypeAfterTheOthers(t *testing.T) {
	p := withNodeTypes(t, historical)
	objects := p.Read(t, "internal/controller/druid_objects.go")
	before := p.Snapshot(t)
	if err := runNodeType(p, broker...); err != nil {
		t.Fatal(err)
	}
	if diff := projecttest.Diff(before, p.Snapshot(t)); strings.Contains(diff, "druid_historical") ||
		strings.Contains(diff, "druid_objects.go") {
		t.Errorf("the second node type changed the first one's files or the shared helpers:\n%s", diff)
	}
	if got := p.Read(t, "internal/controller/druid_objects.go"); got != objects {
		t.Error("the shared helpers were rewritten")
	}

	builder := p.Read(t, "internal/controller/druid_broker.go")
	assertContains(t, "builder", builder, "deployment := &appsv1.Deployment{", "Replicas: group.replicas(spec.Replicas),")
	for _, notWanted := range []string{"StatefulSet", "headless", "VolumeClaimTemplates", "DataDir", "persistentvolumeclaims", "controllerrevisions"} {
		if strings.Contains(builder, notWanted) {
			t.Errorf("a Deployment node type's builder mentions %s", notWanted)
		}
	}
	assertContains(t, "spec", p.Read(t, "api/v1alpha1/druid_broker_types.go"),
		"// +kubebuilder:default=2", "// +kubebuilder:default=8082")
	if strings.Contains(p.Read(t, "api/v1alpha1/druid_broker_types.go"), "Storage") {
		t.Error("a node type without --storage has a storage field")
	}
	assertContains(t, "types", p.Read(t, "api/v1alpha1/druid_types.go"),
		"Historicals []HistoricalSpec", "Brokers []BrokerSpec", "// +opbuilder:scaffold:nodetype-fields",
		`"historical",`, `"broker",`, "// +opbuilder:scaffold:deployment-order")
	assertContains(t, "controller", p.Read(t, "internal/controller/druid_controller.go"),
		"druidHistoricalNodeType(),", "druidBrokerNodeType(),", "// +opbuilder:scaffold:nodetypes")
	assertContains(t, "sample", p.Read(t, "config/samples/data_v1alpha1_druid.yaml"),
		"historicals:", "brokers:\n    - name: default\n      replicas: 2\n      port: 8082\n")
	assertContains(t, "node type test", p.Read(t, "internal/controller/druid_broker_test.go"),
		`&appsv1.Deployment{ObjectMeta: key(name)},`)
	assertGoParses(t, p)
}

func TestCreateNodeTypeNamesWithDashes(t *testing.T) {
	p := withNodeTypes(t, []string{"--kind", "Druid", "--name", "middle-manager", "--workload", "statefulset",
		"--port", "8091"})
	assertContains(t, "types", p.Read(t, "api/v1alpha1/druid_types.go"),
		"// +opbuilder:nodetype=middle-manager", "MiddleManagers []MiddleManagerSpec `json:\"middleManagers,omitempty\"`",
		`"middle-manager",`)
	assertContains(t, "builder", p.Read(t, "internal/controller/druid_middle_manager.go"),
		`druidMiddleManagerName = "middle-manager"`, "func buildDruidMiddleManagers(")
	assertGoParses(t, p)
}

func TestCreateNodeTypeRejectsBadInputAndWritesNothing(t *testing.T) {
	with := func(name string, extra ...string) []string {
		return append([]string{"--kind", "Druid", "--name", name, "--workload", "statefulset", "--port", "8080"},
			extra...)
	}
	tests := []struct {
		name  string
		setup func(*testing.T, *projecttest.Project)
		args  []string
		wants []string
	}{
		{"missing name", nil, []string{"--kind", "Druid", "--workload", "deployment", "--port", "80"},
			[]string{"--name is required"}},
		{"uppercase name", nil, with("Historical"),
			[]string{`invalid node type name "Historical"`, "DNS-1123 label"}},
		{"name starting with a digit", nil, with("1st"),
			[]string{`invalid node type name "1st"`, "starts with a letter"}},
		{"name with an underscore", nil, with("middle_manager"),
			[]string{`invalid node type name "middle_manager"`}},
		{"name too long", nil, with("averyveryverylongnodetype"),
			[]string{"use at most 20 characters"}},
		{"name whose spec type is declared", nil, with("storage"),
			[]string{"would declare the Go type StorageSpec", "api/v1alpha1/opbuilder_types.go", "choose another --name"}},
		{"name whose spec type is the kind's", nil, with("druid"),
			[]string{"would declare the Go type DruidSpec", "api/v1alpha1/druid_types.go"}},
		{"name of the kind's controller", nil, with("controller"),
			[]string{`node type "controller" would write internal/controller/druid_controller.go`, "one of kind Druid's own files", "choose another --name"}},
		{"name of the kind's shared helpers", nil, with("objects"),
			[]string{"would write internal/controller/druid_objects.go", "one of kind Druid's own files"}},
		{"name whose field is on the spec", nil, with("toleration"),
			[]string{"would add the field Tolerations", "already has the field Tolerations"}},
		{"duplicate node type", addHistorical, historical,
			[]string{`kind Druid already has the node type "historical"`, "add groups to spec.historicals"}},
		{"unknown kind", nil, []string{"--kind", "Pinot", "--name", "broker", "--workload", "deployment", "--port", "1"},
			[]string{"kind Pinot does not exist in PROJECT", "Druid (data/v1alpha1)", "create api"}},
		{"missing kind", nil, []string{"--name", "broker", "--workload", "deployment", "--port", "1"},
			[]string{"--kind is required"}},
		{"kind not created with opbuilder", addGoV4Kind, []string{"--kind", "Plain", "--name", "broker",
			"--workload", "deployment", "--port", "1"},
			[]string{"kind Plain was not created with opbuilder", "+opbuilder:scaffold:nodetype-fields"}},
		{"unknown workload", nil, []string{"--kind", "Druid", "--name", "broker", "--workload", "daemonset", "--port", "1"},
			[]string{`unknown --workload "daemonset"`, "statefulset or deployment"}},
		{"missing workload", nil, []string{"--kind", "Druid", "--name", "broker", "--port", "1"},
			[]string{"--workload is required"}},
		{"port zero", nil, []string{"--kind", "Druid", "--name", "broker", "--workload", "deployment"},
			[]string{"invalid --port 0", "1 to 65535"}},
		{"port too large", nil, with("broker", "--port", "70000"),
			[]string{"invalid --port 70000", "1 to 65535"}},
		{"bad storage", nil, with("historical", "--storage", "10GB"),
			[]string{`invalid --storage "10GB"`, "10Gi"}},
		{"zero storage", nil, with("historical", "--storage", "0"),
			[]string{`invalid --storage "0"`, "greater than zero"}},
		{"storage on a deployment", nil, []string{"--kind", "Druid", "--name", "broker", "--workload", "deployment",
			"--port", "1", "--storage", "1Gi"},
			[]string{"--storage 1Gi needs --workload statefulset"}},
		{"negative replicas", nil, with("broker", "--replicas", "-1"),
			[]string{"invalid --replicas -1"}},
		{"bad group", nil, with("broker", "--groups", "Hot"),
			[]string{`invalid group name "Hot"`}},
		{"duplicate group", nil, with("broker", "--groups", "hot,hot"),
			[]string{`group "hot" appears twice`}},
		{"file left over", func(t *testing.T, p *projecttest.Project) {
			p.Write(t, "internal/controller/druid_broker.go", "package controller\n")
		}, with("broker"),
			[]string{"internal/controller/druid_broker.go already exists", "move the file away"}},
		{"project without opbuilder", func(t *testing.T, p *projecttest.Project) {
			if err := p.Config.SetPluginChain([]string{"go.kubebuilder.io/v4"}); err != nil {
				t.Fatal(err)
			}
		}, with("broker"),
			[]string{"the project does not use opbuilder/v1", "init --plugins go/v4,opbuilder/v1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := withDruid(t)
			if tc.setup != nil {
				tc.setup(t, p)
			}
			before := p.Snapshot(t)
			assertFailsCleanly(t, p, before, runNodeType(p, tc.args...), tc.wants...)
		})
	}
}

func addHistorical(t *testing.T, p *projecttest.Project) {
	t.Helper()
	if err := runNodeType(p, historical...); err != nil {
		t.Fatal(err)
	}
}

func addGoV4Kind(t *testing.T, p *projecttest.Project) {
	t.Helper()
	p.GoV4API(t, "data", "v1alpha1", "Plain")
}

func TestCreateNodeTypeReportsEveryFlagProblemAtOnce(t *testing.T) {
	p := withDruid(t)
	before := p.Snapshot(t)
	assertFailsCleanly(t, p, before, runNodeType(p, "--kind", "Druid", "--name", "X", "--workload", "job",
		"--port", "0", "--replicas", "-2"),
		`invalid node type name "X"`, `unknown --workload "job"`, "invalid --port 0", "invalid --replicas -2")
}
