package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opbuilder/opbuilder/test/internal/scenario"
)

// markerFile marks a directory the demo created, so that a later run may
// replace it; the demo never deletes a directory without it.
const markerFile = ".opbuilder-demo"

// Bounds for the waits; each ends as soon as its condition holds.
const (
	stepTimeout    = 5 * time.Minute
	rolloutTimeout = 10 * time.Minute
)

// The node types the walkthrough changes.
const (
	configNodeType  = "broker"
	removedNodeType = "router"
	newImage        = "apache/druid:34.0.0"
)

type config struct {
	dir   string
	cli   string
	nodes int
}

// demo holds what the walkthrough started, so that close can stop it.
type demo struct {
	cfg     config
	ui      *ui
	op      scenario.Operator
	dir     string // absolute cfg.dir
	project string // the scaffolded project
	logPath string
	log     *os.File
	runner  scenario.Runner
	repo    *scenario.Repo
	assets  string
	s       *scenario.Scenario
	current string // the step running, for failure messages
}

// stepTitles are the walkthrough's steps, in order.
var stepTitles = []string{
	"scaffold a Druid-style operator",
	"build it",
	"start a local control plane and run the operator",
	"create a Druid",
	"change one node type's configuration",
	"change the image every node type runs",
	"remove a node type",
	"delete the Druid",
}

func newDemo(cfg config) *demo {
	return &demo{cfg: cfg, ui: newUI(len(stepTitles)), op: scenario.Druid()}
}

func (d *demo) run(ctx context.Context) error {
	if err := d.prepare(); err != nil {
		return err
	}
	d.intro()
	steps := []func(context.Context) error{
		d.scaffold, d.build, d.startCluster, d.create, d.changeConfig, d.rollout, d.remove, d.deleteCR,
	}
	for i, step := range steps {
		d.current = stepTitles[i]
		if err := step(ctx); err != nil {
			if errors.Is(err, errQuit) || ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("step %d (%s) failed: %w", i+1, d.current, err)
		}
		if i == len(steps)-1 {
			break // the outro has its own prompt
		}
		if err := d.ui.pause(ctx); err != nil {
			return err
		}
	}
	return d.outro(ctx)
}

// prepare checks the environment and (re)creates the demo directory.
func (d *demo) prepare() error {
	var err error
	if d.repo, err = scenario.FindRepo("."); err != nil {
		return fmt.Errorf("run the demo from the opbuilder checkout (`make demo`): %w", err)
	}
	if d.assets = os.Getenv("KUBEBUILDER_ASSETS"); d.assets == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run `make demo`, which builds the control-plane binaries and sets it")
	}
	if d.cfg.cli != "" {
		// Commands run in the project directory: a relative path would
		// not resolve there.
		if d.cfg.cli, err = filepath.Abs(d.cfg.cli); err != nil {
			return fmt.Errorf("resolving %s: %w", d.cfg.cli, err)
		}
	}
	if d.dir, err = filepath.Abs(d.cfg.dir); err != nil {
		return fmt.Errorf("resolving %s: %w", d.cfg.dir, err)
	}
	entries, err := os.ReadDir(d.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading %s: %w", d.dir, err)
	case len(entries) == 0:
	default:
		if _, err := os.Stat(filepath.Join(d.dir, markerFile)); err != nil {
			return fmt.Errorf("%s exists and was not made by the demo; choose another directory with DEMO_DIR=<dir> (make) or -dir <dir>", d.dir)
		}
		if err := os.RemoveAll(d.dir); err != nil {
			return fmt.Errorf("removing the previous demo in %s: %w", d.dir, err)
		}
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", d.dir, err)
	}
	if err := os.WriteFile(filepath.Join(d.dir, markerFile), []byte("made by `make demo`; the next run replaces this directory\n"), 0o644); err != nil {
		return fmt.Errorf("marking %s: %w", d.dir, err)
	}
	d.logPath = filepath.Join(d.dir, "demo.log")
	if d.log, err = os.Create(d.logPath); err != nil {
		return fmt.Errorf("creating the demo log: %w", err)
	}
	d.runner = scenario.Runner{Log: d.log}
	d.project = filepath.Join(d.dir, scenario.ProjectName)
	return nil
}

func (d *demo) intro() {
	d.ui.printf("%s\n", d.ui.bold("opbuilder demo"))
	d.ui.say(`This demo scaffolds a Druid-style operator with kubebuilder-opbuilder, runs it
against a local Kubernetes control plane, and walks through what the opbuilder runtime
does for it: create, a configuration change, an ordered rollout, removing a node type,
and deleting the cluster.`)
	d.ui.printf("\n  Working directory: %s\n  Full command output: %s\n", d.rel(d.dir), d.rel(d.logPath))
	if d.ui.interactive {
		d.ui.say("It pauses after every step. Press Ctrl-C at any time to stop; everything it started is stopped.")
	} else {
		d.ui.say("No terminal on stdin: running straight through without pausing.")
	}
}

// close stops everything the demo started.
func (d *demo) close() error {
	var errs []error
	if d.s != nil {
		errs = append(errs, d.s.Close())
		d.s = nil
		if d.dir != "" {
			// The kubeconfig points at a control plane that is gone.
			if err := os.Remove(filepath.Join(d.dir, "kubeconfig")); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if d.log != nil {
		errs = append(errs, d.log.Close())
		d.log = nil
	}
	return errors.Join(errs...)
}

// rel shortens a path under the working directory for display.
func (d *demo) rel(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// runShown runs a command, showing it and a spinner while it runs.
func (d *demo) runShown(ctx context.Context, c scenario.Command, shown string) error {
	d.ui.command(shown)
	return d.ui.during(ctx, "running", func(ctx context.Context) error { return d.runner.Run(ctx, c) })
}

// kubectl runs the control plane's kubectl as the admin user, in the
// project directory, and shows the command and its output.
func (d *demo) kubectl(ctx context.Context, args ...string) error {
	c := scenario.Command{
		Dir:  d.project,
		Name: filepath.Join(d.assets, "kubectl"),
		Args: args,
		Env:  []string{"KUBECONFIG=" + filepath.Join(d.dir, "kubeconfig")},
	}
	d.ui.command(c.String())
	out, err := d.runner.Output(ctx, c)
	if err != nil {
		return err
	}
	d.ui.show(out)
	return nil
}

// look runs kubectl commands for display; a failing one fails the step.
func (d *demo) look(ctx context.Context, cmds ...[]string) error {
	for _, args := range cmds {
		if err := d.kubectl(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// ---- steps ----

func (d *demo) scaffold(ctx context.Context) error {
	d.ui.step(stepTitles[0], `kubebuilder-opbuilder is kubebuilder's CLI with the opbuilder/v1 plugin bundled.
"init" and "create api" make a normal kubebuilder project whose Druid kind holds the
settings all node types share; each "create nodetype" adds one node type: a typed
spec, a builder for its Kubernetes objects, a test, and its place in the rollout order.`)
	tools := scenario.Toolchain{CLI: d.cfg.cli}
	if tools.CLI == "" {
		bin := filepath.Join(d.dir, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return err
		}
		d.ui.command("go build -o " + d.rel(filepath.Join(bin, scenario.CLIName)) + " ./cmd/" + scenario.CLIName)
		err := d.ui.during(ctx, "building", func(ctx context.Context) error {
			var err error
			tools.CLI, err = scenario.BuildCLI(ctx, d.runner, d.repo, bin)
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := os.MkdirAll(d.project, 0o755); err != nil {
		return err
	}
	d.ui.printf("\n  In %s:\n", d.rel(d.project))
	cmds, err := tools.ScaffoldCommands(d.op, scenario.PathCLI, d.project, d.repo.RuntimeDir())
	if err != nil {
		return err
	}
	for _, c := range cmds {
		shown := strings.Replace(c.String(), d.repo.RuntimeDir(), d.rel(d.repo.RuntimeDir()), 1)
		if err := d.runShown(ctx, c, shown); err != nil {
			return err
		}
	}
	d.ui.say(`
--runtime-path points the project's go.mod at this checkout's runtime module; a
released runtime needs no flag. Among the generated files, the ones you edit:`)
	for _, pattern := range []string{"api/*/*.go", "internal/controller/*.go"} {
		files, err := filepath.Glob(filepath.Join(d.project, pattern))
		if err != nil {
			return err
		}
		for _, f := range files {
			base := filepath.Base(f)
			if strings.HasPrefix(base, "zz_generated") || strings.HasSuffix(base, "_test.go") || base == "groupversion_info.go" {
				continue
			}
			rel, _ := filepath.Rel(d.project, f)
			d.ui.printf("    %s\n", rel)
		}
	}
	return nil
}

func (d *demo) build(ctx context.Context) error {
	d.ui.step(stepTitles[1], `The project's own Makefile generates the deepcopy code, the CRD and the RBAC
role from the markers in the code, and builds the manager binary.`)
	c := scenario.Command{Dir: d.project, Name: "make", Args: []string{"generate", "manifests", "build"}, Env: scenario.ProjectEnv(d.assets)}
	return d.runShown(ctx, c, "make generate manifests build")
}

func (d *demo) startCluster(ctx context.Context) error {
	d.ui.step(stepTitles[2], fmt.Sprintf(`A real control plane, built from source like the rest of the test binaries:
etcd, kube-apiserver, kube-controller-manager (it makes ReplicaSets and pods and collects
garbage), kube-scheduler, and kwok, which plays %d nodes whose pods become Running and Ready
without running containers. The Druid CRD is installed, and the operator runs as a
ServiceAccount bound to the role generated from its RBAC markers, as it would in a cluster.`, d.cfg.nodes))
	work := filepath.Join(d.dir, "run")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	err := d.ui.during(ctx, "starting", func(ctx context.Context) error {
		var err error
		d.s, err = scenario.Setup(ctx, d.op, scenario.Options{ProjectDir: d.project, AssetsDir: d.assets, WorkDir: work, Nodes: d.cfg.nodes})
		return err
	})
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(d.dir, "kubeconfig")
	if err := d.s.Cluster.WriteAdminKubeconfig(kubeconfig); err != nil {
		return err
	}
	d.ui.ok("control plane up; operator running (its log: " + d.rel(d.s.OperatorLog()) + ")")
	d.ui.say(`To look around yourself while the demo runs, in another terminal:`)
	d.ui.printf("    export KUBECONFIG=%s\n    alias kubectl=%s\n", kubeconfig, filepath.Join(d.assets, "kubectl"))
	return d.look(ctx, []string{"get", "nodes"})
}

func (d *demo) create(ctx context.Context) error {
	d.ui.step(stepTitles[3], `The sample Druid lists every node type; historicals come in two groups, hot and
cold, each with its own StatefulSet. Because nothing exists yet, the operator creates all node
types at once. It labels every object, makes the Druid its owner, and records an event for
every object it creates.`)
	if err := d.kubectl(ctx, "apply", "-f", d.op.SampleFile()); err != nil {
		return err
	}
	if err := d.s.Track(ctx); err != nil {
		return err
	}
	if err := d.ui.waitUntil(ctx, "every node type running, pods Ready, Druid Ready", stepTimeout, d.s.CheckRunning); err != nil {
		return err
	}
	if err := d.ui.waitUntil(ctx, "a Created event for every object", stepTimeout, d.s.CheckCreatedEvents); err != nil {
		return err
	}
	if err := d.look(ctx,
		[]string{"get", d.op.Resource()},
		[]string{"get", "statefulsets,deployments,services,configmaps,poddisruptionbudgets", "-l", d.instanceLabel()},
		d.conditionsCmd(),
	); err != nil {
		return err
	}
	return d.events(ctx, 8)
}

func (d *demo) changeConfig(ctx context.Context) error {
	d.ui.step(stepTitles[4], fmt.Sprintf(`Each group's config is rendered into its own ConfigMap, and a hash of what a pod
template consumes is stamped on it. Changing the %s's config changes exactly one hash,
so exactly one workload rolls, once; the others are not written to at all.`, configNodeType))
	before, err := d.s.Snapshot(ctx)
	if err != nil {
		return err
	}
	patch, err := d.op.ConfigPatch(configNodeType, "druid.broker.cache.sizeInBytes=268435456\n")
	if err != nil {
		return err
	}
	if err := d.kubectl(ctx, "patch", strings.ToLower(d.op.Kind), d.s.Instance.Name, "--type=json", "-p", patch); err != nil {
		return err
	}
	check := func(ctx context.Context) error { return d.s.CheckOnlyRolled(ctx, before, configNodeType) }
	if err := d.ui.waitUntil(ctx, "only the "+configNodeType+" rolled, once", stepTimeout, check); err != nil {
		return err
	}
	if err := d.ui.waitUntil(ctx, "the Druid is Ready again", stepTimeout, d.s.CheckRunning); err != nil {
		return err
	}
	d.ui.say("Every Deployment keeps one ReplicaSet per pod template it ever had: the " + configNodeType + " now has two, the others one.")
	return d.look(ctx,
		[]string{"get", "replicasets", "-l", d.instanceLabel()},
		[]string{"get", "controllerrevisions", "-l", d.instanceLabel()},
	)
}

func (d *demo) rollout(ctx context.Context) error {
	order := d.op.NodeTypeNames()
	d.ui.step(stepTitles[5], fmt.Sprintf(`spec.image is shared by every node type, so every workload must roll. The runtime
rolls them one at a time in the deployment order (%s), and starts a node type only once
the one before it is fully rolled out and Ready; the hot and cold historicals roll one
after the other too. Below, every workload is listed as it starts and finishes.`, strings.Join(order, " → ")))
	patch, err := d.op.ImagePatch(newImage)
	if err != nil {
		return err
	}
	if err := d.kubectl(ctx, "patch", strings.ToLower(d.op.Kind), d.s.Instance.Name, "--type=json", "-p", patch); err != nil {
		return err
	}
	reported := map[string]bool{}
	var final []scenario.Rollout
	check := func(ctx context.Context) error {
		rollouts, err := d.s.CheckOrderedRollout(ctx, 0, newImage, order)
		for _, r := range rollouts {
			key := r.NodeType + "/" + r.Group
			if !reported["start "+key] {
				reported["start "+key] = true
				d.ui.clearLine()
				d.ui.printf("    → %-26s started\n", key)
			}
			if r.Done > 0 && !reported["done "+key] {
				reported["done "+key] = true
				d.ui.clearLine()
				d.ui.printf("    ✓ %-26s rolled out and Ready\n", key)
			}
		}
		final = rollouts
		return err
	}
	if err := d.ui.waitUntil(ctx, "every workload rolled out, in order", rolloutTimeout, check); err != nil {
		return err
	}
	d.ui.say("The order, by the API server's own clock (resourceVersions): each workload's spec changed only after the previous one was done.")
	d.ui.show(scenario.FormatRollouts(final))
	if err := d.ui.waitUntil(ctx, "the Druid is Ready again", stepTimeout, d.s.CheckRunning); err != nil {
		return err
	}
	if err := d.look(ctx, d.nodeTypesCmd()); err != nil {
		return err
	}
	return d.events(ctx, 10)
}

func (d *demo) remove(ctx context.Context) error {
	d.ui.step(stepTitles[6], fmt.Sprintf(`Removing the %ss from the Druid's spec leaves their objects undesired. The runtime
keeps an inventory of what it created in the Druid's status; it deletes what is no longer
desired, records a Pruned event for each object, and does not touch anything else.`, removedNodeType))
	before, err := d.s.Snapshot(ctx)
	if err != nil {
		return err
	}
	patch, err := d.op.RemovePatch(removedNodeType)
	if err != nil {
		return err
	}
	if err := d.kubectl(ctx, "patch", strings.ToLower(d.op.Kind), d.s.Instance.Name, "--type=json", "-p", patch); err != nil {
		return err
	}
	check := func(ctx context.Context) error { return d.s.CheckPruned(ctx, before, removedNodeType) }
	if err := d.ui.waitUntil(ctx, "the "+removedNodeType+"'s objects pruned, nothing else touched", stepTimeout, check); err != nil {
		return err
	}
	if err := d.look(ctx, []string{"get", "deployments,statefulsets", "-l", d.instanceLabel()}); err != nil {
		return err
	}
	return d.events(ctx, 6)
}

func (d *demo) deleteCR(ctx context.Context) error {
	d.ui.step(stepTitles[7], `Every object the operator made has the Druid as its owner, so deleting the Druid is
enough: Kubernetes' garbage collector removes the workloads, their pods, Services,
ConfigMaps and PodDisruptionBudgets. (The historicals' data volumes stay, as a
StatefulSet's volumes always do.)`)
	descendants, err := d.s.Descendants(ctx)
	if err != nil {
		return err
	}
	if err := d.kubectl(ctx, "delete", strings.ToLower(d.op.Kind), d.s.Instance.Name, "--wait=false"); err != nil {
		return err
	}
	check := func(ctx context.Context) error { return d.s.CheckGone(ctx, descendants) }
	if err := d.ui.waitUntil(ctx, fmt.Sprintf("all %d objects garbage-collected", len(descendants)), stepTimeout, check); err != nil {
		return err
	}
	return d.look(ctx, []string{"get", "all", "-l", d.instanceLabel()})
}

func (d *demo) outro(ctx context.Context) error {
	d.ui.printf("\n%s\n", d.ui.bold("Every step behaved as described."))
	if !d.ui.interactive {
		return nil
	}
	d.ui.say(`The control plane and the operator are still running. Try it yourself in another
terminal, for example:`)
	d.ui.printf("    export KUBECONFIG=%s\n    %s apply -f %s\n",
		filepath.Join(d.dir, "kubeconfig"), filepath.Join(d.assets, "kubectl"), filepath.Join(d.project, d.op.SampleFile()))
	d.ui.say("The project in " + d.rel(d.project) + " is yours to read and change; docs/tutorial.md walks through it.")
	err := d.ui.prompt(ctx, "Press Enter (or Ctrl-C) to stop everything and exit. ")
	if errors.Is(err, errQuit) {
		return nil
	}
	return err
}

// ---- what a user looks at ----

func (d *demo) instanceLabel() string {
	return "app.kubernetes.io/instance=" + d.s.Instance.Name
}

// conditionsCmd shows the Druid's status conditions, one per line.
func (d *demo) conditionsCmd() []string {
	return []string{"get", strings.ToLower(d.op.Kind), d.s.Instance.Name, "-o",
		`jsonpath={range .status.conditions[*]}{.type}={.status} ({.reason}) {.message}{"\n"}{end}`}
}

// nodeTypesCmd shows the per-node-type status, one per line.
func (d *demo) nodeTypesCmd() []string {
	return []string{"get", strings.ToLower(d.op.Kind), d.s.Instance.Name, "-o",
		`jsonpath={range .status.nodeTypes[*]}{.name}: {.readyReplicas}/{.replicas} ready; {range .conditions[*]}{.type}={.status} {end}{"\n"}{end}`}
}

// events shows the last n events recorded on the Druid, oldest first.
func (d *demo) events(ctx context.Context, n int) error {
	c := scenario.Command{
		Dir:  d.project,
		Name: filepath.Join(d.assets, "kubectl"),
		Args: []string{"events", "--for", strings.ToLower(d.op.Kind) + "." + d.op.APIGroup() + "/" + d.s.Instance.Name},
		Env:  []string{"KUBECONFIG=" + filepath.Join(d.dir, "kubeconfig")},
	}
	d.ui.command(c.String() + fmt.Sprintf("   # the last %d", n))
	out, err := d.runner.Output(ctx, c)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > n+1 {
		lines = append(lines[:1], lines[len(lines)-n:]...)
	}
	d.ui.show(strings.Join(lines, "\n"))
	return nil
}
