package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/opbuilder/opbuilder/test/internal/scenario"
)

// Generous bounds for waits on a loaded 2-core machine; every wait ends as
// soon as its condition holds.
const (
	buildTimeout   = 20 * time.Minute
	installTimeout = 5 * time.Minute
	stepTimeout    = 5 * time.Minute
	poll           = time.Second
	// idleWindow is how long the operator must stay silent.
	idleWindow = 20 * time.Second
)

// The steps use these node types; Druid() declares them.
const (
	configNodeType  = "broker"      // step 2: its config changes
	removedNodeType = "router"      // step 4: removed while the operator runs
	restartNodeType = "coordinator" // step 5: removed while the operator is down
	// takenNodeType is the node type whose ConfigMap's name a user takes
	// first (step 9): the last in deployment order, so that no other node
	// type waits for it.
	takenNodeType = "router"
)

// The namespace-scoped operator serves servedNamespace, where the sample
// goes, and must leave the CR it finds in outsideNamespace alone.
const (
	servedNamespace  = "default"
	outsideNamespace = "elsewhere"
)

// The Secret every node type's pods consume from step 10 on.
const (
	credentialsSecret = "druid-credentials"
	credentialsKey    = "password"
	credentialsEnv    = "DRUID_PASSWORD"
)

// Issue 12's steps (11 to 16) use these.
const (
	// overrideNodeType's overrideGroup gets a podTemplate (step 13) whose
	// sidecar mounts overrideSecret (step 14): its other group, cold, must
	// not roll.
	overrideNodeType = "historical"
	overrideGroup    = "hot"
	overrideSecret   = "druid-exporter-tls"
	// autoscaledNodeType's first group autoscales (step 16) between
	// autoscaledMin and autoscaledMax: its minimum is above the sample's 2
	// replicas, so that the autoscaler scales it up without a metrics
	// server.
	autoscaledNodeType = "broker"
	autoscaledMin      = 3
	autoscaledMax      = 4
	// settleWindow is how long a check must keep holding after a change
	// that should cause no further writes.
	settleWindow = 5 * time.Second
)

// untilOK adapts a scenario check for Eventually: a permanent failure stops
// the polling at once.
func untilOK(check func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		err := check(ctx)
		if scenario.IsPermanent(err) {
			return StopTrying("a check failed for good").Wrap(err)
		}
		return err
	}
}

var _ = Describe("A Druid-style operator scaffolded by opbuilder", Ordered, func() {
	var (
		repo     *scenario.Repo
		runner   scenario.Runner
		tools    scenario.Toolchain
		assets   string
		work     string
		op       = scenario.Druid()
		projects = map[scenario.Path]string{}
	)

	BeforeAll(func(ctx SpecContext) {
		assets = os.Getenv("KUBEBUILDER_ASSETS")
		Expect(assets).NotTo(BeEmpty(),
			"KUBEBUILDER_ASSETS is not set: run `make test`, or `export $(make -s test-binaries | tail -1)` first")

		var err error
		repo, err = scenario.FindRepo(".")
		Expect(err).NotTo(HaveOccurred())
		work = GinkgoT().TempDir()
		runner = scenario.Runner{Log: GinkgoWriter}

		bin := filepath.Join(work, "bin")
		Expect(os.MkdirAll(bin, 0o755)).To(Succeed())
		By("building kubebuilder-opbuilder")
		tools.CLI, err = scenario.BuildCLI(ctx, runner, repo, bin)
		Expect(err).NotTo(HaveOccurred())

		By("installing stock kubebuilder " + repo.Versions["KUBEBUILDER_VERSION"] + " from the Go module proxy")
		tools.Kubebuilder, err = scenario.InstallKubebuilder(ctx, runner, repo, bin)
		Expect(err).NotTo(HaveOccurred())

		By("installing kubebuilder-opbuilder as kubebuilder's external plugin")
		tools.PluginsDir = filepath.Join(work, "plugins")
		Expect(scenario.InstallPlugin(ctx, runner, tools.CLI, tools.PluginsDir)).To(Succeed())
	}, NodeTimeout(buildTimeout))

	for _, path := range []scenario.Path{scenario.PathCLI, scenario.PathStock} {
		Context("scaffolded with "+string(path), func() {
			It("scaffolds the project: init, create api, and a node type per Druid node type", func(ctx SpecContext) {
				// Both projects get the same directory name, which kubebuilder
				// makes the project name, so that their files can be compared.
				dir := filepath.Join(work, string(path), scenario.ProjectName)
				Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
				cmds, err := tools.ScaffoldCommands(op, path, dir, repo.RuntimeDir())
				Expect(err).NotTo(HaveOccurred())
				for _, c := range cmds {
					By(c.String())
					Expect(runner.Run(ctx, c)).To(Succeed())
				}
				projects[path] = dir
			}, NodeTimeout(buildTimeout))

			// The project's controller suite runs on kwok nodes: its specs
			// wait for pods to become Ready, for one group's pods to be
			// replaced and for a removed group to be pruned, none of which
			// happens on envtest's bare API server. On the CLI path the
			// Makefile finds the binaries itself with opbuilder-testbin (in
			// the cache this suite's own binaries are in, so nothing is
			// rebuilt); on the stock path it is handed KUBEBUILDER_ASSETS.
			It("passes make generate manifests build test against the local runtime, downloading no envtest binaries", func(ctx SpecContext) {
				dir := projects[path]
				Expect(dir).NotTo(BeEmpty())
				Expect(runtimeReplacement(dir)).To(Equal(repo.RuntimeDir()),
					"go.mod must replace the runtime module with the local checkout")

				env := scenario.ProjectEnv(assets)
				if path == scenario.PathCLI {
					env = append(env, "KUBEBUILDER_ASSETS=")
				}
				Expect(runner.Run(ctx, scenario.Command{Dir: dir, Name: "make", Env: env,
					Args: []string{"generate", "manifests", "build", "test"}})).To(Succeed())

				Expect(filepath.Join(dir, "bin", "manager")).To(BeAnExistingFile())
				Expect(filepath.Join(dir, "bin", "k8s")).NotTo(BeAnExistingFile(),
					"`make test` downloaded envtest binaries")
				Expect(filepath.Join(dir, "bin", "setup-envtest")).NotTo(BeAnExistingFile(),
					"`make test` installed setup-envtest")
			}, NodeTimeout(buildTimeout))

			It("passes make lint, with linters installed from the Go module proxy and no git", func(ctx SpecContext) {
				dir := projects[path]
				Expect(dir).NotTo(BeEmpty())
				// git may use no network protocol: a golangci-lint built with
				// module plugins would clone golangci-lint's repository.
				env := append(scenario.ProjectEnv(assets), "GIT_ALLOW_PROTOCOL=file")
				Expect(runner.Run(ctx, scenario.Command{Dir: dir, Name: "make", Args: []string{"lint"}, Env: env})).To(Succeed())
			}, NodeTimeout(buildTimeout))
		})
	}

	It("scaffolds the same code on both paths", func() {
		one, two := projects[scenario.PathCLI], projects[scenario.PathStock]
		Expect(one).NotTo(BeEmpty())
		Expect(two).NotTo(BeEmpty())
		for _, sub := range []string{"api", "internal", "cmd", filepath.Join("config", "crd", "bases"), filepath.Join("config", "rbac", "role.yaml"), filepath.Join("config", "samples"),
			"Makefile", ".golangci.yml", ".custom-gcl.yml"} {
			Expect(sameTree(filepath.Join(one, sub), filepath.Join(two, sub))).To(Succeed(), "the two projects differ in %s", sub)
		}
	})

	It("keeps a project working the other way: each CLI adds a node type to a copy of the other's project", func(ctx SpecContext) {
		// An extra node type, added after the five of Druid().
		extra := scenario.NodeType{Name: "overlord", Workload: "deployment", Port: 8090}
		for _, from := range []scenario.Path{scenario.PathCLI, scenario.PathStock} {
			other := scenario.PathStock
			if from == scenario.PathStock {
				other = scenario.PathCLI
			}
			dir := filepath.Join(work, "cross-"+string(from), scenario.ProjectName)
			Expect(os.MkdirAll(filepath.Dir(dir), 0o755)).To(Succeed())
			Expect(runner.Run(ctx, scenario.Command{Dir: work, Name: "cp", Args: []string{"-a", projects[from], dir}})).To(Succeed())

			c, err := tools.NodeTypeCommand(op, other, dir, extra)
			Expect(err).NotTo(HaveOccurred())
			By(fmt.Sprintf("%s, in a project made with %s", c, from))
			Expect(runner.Run(ctx, c)).To(Succeed())
			Expect(filepath.Join(dir, "internal", "controller", "druid_overlord.go")).To(BeAnExistingFile())
			Expect(scenario.Make(ctx, runner, dir, assets, "build")).To(Succeed())
		}
	}, NodeTimeout(buildTimeout))

	It("takes the added node type out again with delete nodetype: each project is as it was", func(ctx SpecContext) {
		// Stock kubebuilder has no delete command: the bundled CLI removes,
		// from both copies, the node type the other CLI added above.
		for _, from := range []scenario.Path{scenario.PathCLI, scenario.PathStock} {
			dir := filepath.Join(work, "cross-"+string(from), scenario.ProjectName)
			Expect(filepath.Join(dir, "internal", "controller", "druid_overlord.go")).To(BeAnExistingFile())
			c := scenario.Command{Dir: dir, Name: tools.CLI, Env: scenario.ProjectEnv(assets),
				Args: []string{"delete", "nodetype", "--kind", op.Kind, "--name", "overlord"}}
			By(fmt.Sprintf("%s, in a copy of the project made with %s", c, from))
			Expect(runner.Run(ctx, c)).To(Succeed())
			for _, sub := range []string{"api", "internal", "cmd", filepath.Join("config", "crd", "bases"),
				filepath.Join("config", "rbac", "role.yaml"), filepath.Join("config", "samples")} {
				Expect(sameTree(filepath.Join(projects[from], sub), filepath.Join(dir, sub))).To(Succeed(),
					"after create and delete nodetype, the project made with %s differs in %s", from, sub)
			}
			Expect(scenario.Make(ctx, runner, dir, assets, "build")).To(Succeed())
		}
	}, NodeTimeout(buildTimeout))

	It("scaffolds the CLI's project again with alpha generate, to the byte: git status is clean", func(ctx SpecContext) {
		dir := filepath.Join(work, "generate", scenario.ProjectName)
		Expect(os.MkdirAll(filepath.Dir(dir), 0o755)).To(Succeed())
		Expect(runner.Run(ctx, scenario.Command{Dir: work, Name: "cp", Args: []string{"-a", projects[scenario.PathCLI], dir}})).To(Succeed())
		git := func(args ...string) scenario.Command {
			return scenario.Command{Dir: dir, Name: "git",
				Args: append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@example.com"}, args...)}
		}
		for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-qm", "Scaffold"}} {
			Expect(runner.Run(ctx, git(args...))).To(Succeed())
		}

		Expect(runner.Run(ctx, scenario.Command{Dir: dir, Name: tools.CLI, Args: []string{"alpha", "generate"},
			Env: scenario.ProjectEnv(assets)})).To(Succeed())
		Expect(runner.Output(ctx, git("status", "--porcelain"))).To(BeEmpty())
	}, NodeTimeout(buildTimeout))

	It("builds the CLI's project once its user gives the historicals a health gate and a drain hook, with the RBAC marker they need", func(ctx SpecContext) {
		dir := projects[scenario.PathCLI]
		Expect(dir).NotTo(BeEmpty())
		Expect(giveHooks(dir)).To(Succeed())
		Expect(scenario.Make(ctx, runner, dir, assets, "manifests", "build")).To(Succeed())
		role, err := os.ReadFile(filepath.Join(dir, "config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(role)).To(ContainSubstring("- pods"))
	}, NodeTimeout(buildTimeout))

	Describe("running the operator against a control plane with kube-controller-manager, kube-scheduler and 3 kwok nodes", Ordered, func() {
		var (
			s *scenario.Scenario
			// rolloutEvents is how often each node type's rollout state has
			// changed so far: the RolloutStarted, RolloutBlocked and
			// RolloutCompleted events the CR must carry, once per change.
			rolloutEvents = scenario.EventTally{}
		)
		// expectRolloutEvents waits until the CR carries exactly the events
		// of rolloutEvents, failing at once when any occurred more often.
		// An Event whose series counts n counts n times: that is what
		// `kubectl events` shows as "xN".
		expectRolloutEvents := func(ctx context.Context) {
			GinkgoHelper()
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckRolloutEvents(ctx, rolloutEvents) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed(), "each rollout state change is recorded exactly once")
		}

		BeforeAll(func(ctx SpecContext) {
			dir := projects[scenario.PathCLI]
			Expect(dir).NotTo(BeEmpty())
			s = startScenario(ctx, op, filepath.Join(work, "run"),
				scenario.Options{ProjectDir: dir, AssetsDir: assets, Nodes: 3})
		}, NodeTimeout(installTimeout))

		AfterEach(func() { attachLogTail(s) })

		It("1. creates every node type's objects from the sample, with owner references and labels; pods become Ready, Ready turns True, Created events are recorded and no rollout event, since a creation is no rollout", func(ctx SpecContext) {
			Expect(s.ApplySample(ctx)).To(Succeed())

			groups, _, err := s.Groups(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(groups).To(HaveKeyWithValue("historical", []string{"hot", "cold"}), "the sample has hot and cold historicals")
			Expect(groups).To(HaveLen(len(op.NodeTypes)), "the sample has every node type")

			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckCreatedEvents)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())

			// A first install creates every node type at once, none is
			// blocked, and the Created events tell it: the tally stays empty.
			expectRolloutEvents(ctx)
		}, NodeTimeout(3*stepTimeout))

		It("2. rolls exactly the workload whose config changed, once", func(ctx SpecContext) {
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.ChangeConfig(ctx, configNodeType, "druid.broker.cache.sizeInBytes=268435456\n")).To(Succeed())

			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckOnlyRolled(ctx, before, configNodeType) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			// Still exactly one new revision once everything has settled.
			Expect(s.CheckOnlyRolled(ctx, before, configNodeType)).To(Succeed())

			rolloutEvents.Add(scenario.ReasonRolloutStarted, configNodeType, 1)
			rolloutEvents.Add(scenario.ReasonRolloutCompleted, configNodeType, 1)
			expectRolloutEvents(ctx)
		}, NodeTimeout(3*stepTimeout))

		It("3. rolls a shared image change out in deployment order, each node type after the previous one is ready", func(ctx SpecContext) {
			const image = "apache/druid:99.0.0-e2e"
			since, err := s.ChangeImage(ctx, image)
			Expect(err).NotTo(HaveOccurred())

			var rollouts []scenario.Rollout
			Eventually(ctx, untilOK(func(ctx context.Context) error {
				var err error
				rollouts, err = s.CheckOrderedRollout(ctx, since, image, op.NodeTypeNames())
				return err
			})).WithTimeout(2 * stepTimeout).WithPolling(poll).Should(Succeed())
			AddReportEntry("rollout order (resourceVersions)", scenario.FormatRollouts(rollouts))
			GinkgoWriter.Printf("rollout order:\n%s\n", scenario.FormatRollouts(rollouts))

			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())

			// Each node type starts and completes once more. While one rolls,
			// the later ones are blocked, each state once: the i-th node type
			// in deployment order waits for each of the i before it in turn.
			for i, nt := range op.NodeTypeNames() {
				rolloutEvents.Add(scenario.ReasonRolloutStarted, nt, 1)
				rolloutEvents.Add(scenario.ReasonRolloutCompleted, nt, 1)
				rolloutEvents.Add(scenario.ReasonRolloutBlocked, nt, i)
			}
			expectRolloutEvents(ctx)
		}, NodeTimeout(4*stepTimeout))

		It("4. prunes a node type removed from the CR, with Pruned events, and leaves the others untouched", func(ctx SpecContext) {
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(before.Children.OfNodeType(removedNodeType)).NotTo(BeEmpty())
			Expect(s.RemoveNodeType(ctx, removedNodeType)).To(Succeed())

			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckPruned(ctx, before, removedNodeType) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
		}, NodeTimeout(2*stepTimeout))

		It("5. still prunes a node type removed while the operator was down", func(ctx SpecContext) {
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(before.Children.OfNodeType(restartNodeType)).NotTo(BeEmpty())

			Expect(s.StopOperator()).To(Succeed())
			Expect(s.RemoveNodeType(ctx, restartNodeType)).To(Succeed())
			Expect(s.StartOperator(ctx)).To(Succeed())

			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckPruned(ctx, before, restartNodeType) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
		}, NodeTimeout(2*stepTimeout))

		It("6. makes zero write requests while the CR is unchanged, across a restart and a reconcile", func(ctx SpecContext) {
			Expect(s.CheckRunning(ctx)).To(Succeed())
			Expect(s.StopOperator()).To(Succeed())
			since := time.Now()
			Expect(s.StartOperator(ctx)).To(Succeed())

			reconciles := func(ctx context.Context) (float64, error) { return s.Process.Reconciles(ctx) }
			By("waiting for the restarted operator to reconcile the CR")
			Eventually(ctx, reconciles).WithTimeout(stepTimeout).WithPolling(poll).Should(BeNumerically(">=", 1))
			afterStart, err := s.Process.Reconciles(ctx)
			Expect(err).NotTo(HaveOccurred())

			By("changing an annotation the runtime does not read, so that it reconciles again with nothing to do")
			Expect(s.Poke(ctx)).To(Succeed())
			Eventually(ctx, reconciles).WithTimeout(stepTimeout).WithPolling(poll).Should(BeNumerically(">", afterStart))

			By(fmt.Sprintf("watching the API server's audit log for %s", idleWindow))
			Consistently(ctx, func() ([]string, error) {
				writes, err := s.OperatorWrites(since)
				return describeAll(writes), err
			}).WithTimeout(idleWindow).WithPolling(poll).Should(BeEmpty(), "write requests by %s", s.Identity.Username)

			reads, err := s.Cluster.RequestsBy(s.Identity.Username, since)
			Expect(err).NotTo(HaveOccurred())
			Expect(reads).NotTo(BeEmpty(), "the audit log holds no request of the operator at all, so it proves nothing")

			// Pruning, the restarts and the idle reconciles changed no
			// remaining node type's rollout state.
			Expect(s.CheckRolloutEvents(ctx, rolloutEvents)).To(Succeed())
		}, NodeTimeout(3*stepTimeout))

		It("7. garbage-collects everything once the CR is deleted", func(ctx SpecContext) {
			descendants, err := s.Descendants(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(descendants).To(ContainElement(HavePrefix("Pod ")))
			Expect(descendants).To(ContainElement(HavePrefix("StatefulSet ")))
			Expect(descendants).To(ContainElement(HavePrefix("Deployment ")))

			Expect(s.Instance.Delete(ctx)).To(Succeed())
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckGone(ctx, descendants) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
		}, NodeTimeout(2*stepTimeout))

		It("8. rejects an invalid node-type spec through CRD validation, with a clear message", func(ctx SpecContext) {
			field, err := s.CreateInvalid(ctx)
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
			Expect(err.Error()).To(And(
				ContainSubstring("spec."+field+"[0].replicas"),
				ContainSubstring("greater than or equal to 0"),
				ContainSubstring("spec."+field+"[0].name"),
			))
			AddReportEntry("validation message", err.Error())
		}, NodeTimeout(stepTimeout))

		It("9. refuses a user's ConfigMap that has a child's name, and adopts it only when annotated", func(ctx SpecContext) {
			name, err := s.SampleChildName(takenNodeType)
			Expect(err).NotTo(HaveOccurred())
			By("creating, as a user, ConfigMap " + name + " before the CR that wants the name")
			theirs, err := s.CreateUserConfigMap(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			applied, err := s.Process.Reconciles(ctx)
			Expect(err).NotTo(HaveOccurred())
			// The CR of step 7 is gone: this is a new one under its name.
			Expect(s.ApplySample(ctx)).To(Succeed())

			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckNameTaken(ctx, takenNodeType, theirs) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed(), "the other node types go on while %s is refused", takenNodeType)
			Expect(s.CheckUntouched(ctx, theirs)).To(Succeed())
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckNameTakenEvent(ctx, theirs) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			// Its pods would consume the user's data: the workload waits.
			Expect(s.WorkloadExists(ctx, takenNodeType, name)).To(BeFalse(), "%s's workload was created although its ConfigMap is the user's", takenNodeType)
			Expect(s.CheckNotReady(ctx, scenario.ReasonNameTaken)).To(Succeed())

			By("letting the operator retry the refusal")
			reconciles := retryPass(ctx, s)
			Consistently(ctx, untilOK(func(ctx context.Context) error {
				return errors.Join(s.CheckNameTakenEvent(ctx, theirs), s.CheckUntouched(ctx, theirs))
			})).WithTimeout(5*time.Second).WithPolling(poll).Should(Succeed(), "a retried refusal writes nothing and records no second event")
			AddReportEntry("refused", fmt.Sprintf("ConfigMap %s untouched (resourceVersion %s) across %.0f reconciles of the new %s",
				name, theirs.ResourceVersion, reconciles-applied, op.Kind))

			By("annotating the ConfigMap to hand it over")
			adoptAsked := time.Now()
			Expect(s.Adopt(ctx, theirs)).To(Succeed())
			// The ConfigMap is outside the operator's cache until adopted:
			// a retry, within 30s, finds the annotation.
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckAdopted(ctx, theirs) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			AddReportEntry("adopted", fmt.Sprintf("%s running %s after the annotation", takenNodeType, time.Since(adoptAsked).Round(time.Second)))
		}, NodeTimeout(3*stepTimeout))

		It("10. holds every workload whose Secret is missing, and rolls nothing when it comes back unchanged", func(ctx SpecContext) {
			credentials := map[string][]byte{credentialsKey: []byte("e2e-not-a-secret")}
			Expect(s.CreateSecret(ctx, credentialsSecret, credentials)).To(Succeed())
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("workloads before the env change", before.Summary())
			By("making every node type's pods read " + credentialsEnv + " from Secret " + credentialsSecret)
			Expect(s.SetSecretEnv(ctx, credentialsEnv, credentialsSecret, credentialsKey)).To(Succeed())
			everyNodeType := op.NodeTypeNames()
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckOnlyRolled(ctx, before, everyNodeType...) })).
				WithTimeout(2 * stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			// Each workload rolled exactly once.
			Expect(s.CheckOnlyRolled(ctx, before, everyNodeType...)).To(Succeed())

			held, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("workloads before the Secret is deleted", held.Summary())
			By("deleting Secret " + credentialsSecret)
			Expect(s.DeleteSecret(ctx, credentialsSecret)).To(Succeed())
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckHeldForMissing(ctx, held, credentialsSecret) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			var missing []scenario.Event
			Eventually(ctx, untilOK(func(ctx context.Context) error {
				missing, err = s.CheckConfigMissingEvents(ctx, held, credentialsSecret)
				return err
			})).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			deleted, err := s.Process.Reconciles(ctx)
			Expect(err).NotTo(HaveOccurred())
			By("letting the operator retry the held workloads")
			reconciles := retryPass(ctx, s)
			Consistently(ctx, untilOK(func(ctx context.Context) error {
				_, err := s.CheckConfigMissingEvents(ctx, held, credentialsSecret)
				return errors.Join(err, s.CheckHeldForMissing(ctx, held, credentialsSecret))
			})).WithTimeout(5*time.Second).WithPolling(poll).Should(Succeed(), "a retried hold writes nothing and records no second event")
			blocked, err := s.BlockedSummary(ctx)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("RolloutBlocked while the Secret is missing", blocked)
			AddReportEntry("ConfigMissing events", fmt.Sprintf("%s\n(and no other across %.0f more reconciles)", strings.Join(describeAll(missing), "\n"), reconciles-deleted))

			By("creating Secret " + credentialsSecret + " again, with the content the pods last read")
			Expect(s.CreateSecret(ctx, credentialsSecret, credentials)).To(Succeed())
			// Created without the watch label, the Secret is outside the
			// operator's cache: a retry, within 30s, finds it.
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Expect(s.CheckNothingRolled(ctx, held)).To(Succeed())
			Expect(s.CheckSecretWatched(ctx, credentialsSecret)).To(Succeed())
			writes, err := s.WorkloadWrites(held.Taken)
			Expect(err).NotTo(HaveOccurred())
			Expect(describeAll(writes)).To(BeEmpty(), "write requests to workloads by %s while they were held or unchanged", s.Identity.Username)
			after, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("workloads after the Secret is back", after.Summary())
		}, NodeTimeout(5*stepTimeout))

		It("11. refuses each bad spec of the admission rules at kubectl apply or update, naming the field, and creates nothing", func(ctx SpecContext) {
			cases, err := s.AdmissionCases()
			Expect(err).NotTo(HaveOccurred())
			for _, c := range cases {
				By(c.Rule)
				message := expectRefused(ctx, s, c)
				AddReportEntry("refused: "+c.Rule, message)
			}
		}, NodeTimeout(stepTimeout))

		It("12. shows the printer columns Ready, Node Types, Rolling and Age in kubectl get", func(ctx SpecContext) {
			names, values, err := s.GetColumns(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(names).To(Equal([]string{"NAME", "READY", "NODE TYPES", "ROLLING", "AGE"}))
			Expect(values).To(HaveKeyWithValue("NAME", s.Instance.Name))
			Expect(values).To(HaveKeyWithValue("READY", "True"), "the CR has been Ready since step 10")
			Expect(values["AGE"]).NotTo(BeEmpty())
			// The status fields behind these two columns are new; where the
			// runtime sets one, its column must show it.
			for column, field := range map[string]string{"NODE TYPES": "readyNodeTypes", "ROLLING": "rollingNodeType"} {
				value, set, err := s.StatusString(ctx, field)
				Expect(err).NotTo(HaveOccurred())
				if !set {
					AddReportEntry("not checked: "+column, fmt.Sprintf("status.%s is not set by this runtime; only the column's header is checked", field))
					continue
				}
				Expect(values).To(HaveKeyWithValue(column, value), "the %s column shows status.%s", column, field)
			}
			AddReportEntry("kubectl get columns", fmt.Sprint(values))
		}, NodeTimeout(stepTimeout))

		It("13. merges a group's podTemplate over its pods: a sidecar mounting a Secret, an initContainer and a topology spread constraint; the main container keeps its settings and only that group rolls, once", func(ctx SpecContext) {
			Expect(s.CreateSecret(ctx, overrideSecret, map[string][]byte{"tls.crt": []byte("e2e-certificate-1")})).To(Succeed())
			main, err := s.MainContainer(ctx, overrideNodeType, overrideGroup)
			Expect(err).NotTo(HaveOccurred())
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			override := s.SidecarOverride(overrideNodeType, overrideGroup, overrideSecret)
			Expect(s.SetPodTemplate(ctx, overrideNodeType, override)).To(Succeed())

			// The template changes, not what it consumes: no new config hash
			// is required.
			onlyThisGroup := func(ctx context.Context) error {
				return s.CheckOnlyGroupRolled(ctx, before, overrideNodeType, overrideGroup, false)
			}
			Eventually(ctx, untilOK(onlyThisGroup)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(func(ctx context.Context) error {
				return s.CheckPodOverride(ctx, overrideNodeType, overrideGroup, main, override)
			})).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Expect(onlyThisGroup(ctx)).To(Succeed(), "still exactly one new revision once everything has settled")
			// The Secret is the user's: watched, so that rotating it rolls the
			// group, but never owned.
			Expect(s.CheckSecretWatched(ctx, overrideSecret)).To(Succeed())
			Expect(s.CheckNotOwned(ctx, overrideSecret)).To(Succeed())
		}, NodeTimeout(3*stepTimeout))

		It("14. rolls only that group, once, when the Secret its podTemplate mounts is rotated", func(ctx SpecContext) {
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.RotateSecret(ctx, overrideSecret, map[string][]byte{"tls.crt": []byte("e2e-certificate-2")})).To(Succeed())

			onlyThisGroup := func(ctx context.Context) error {
				return s.CheckOnlyGroupRolled(ctx, before, overrideNodeType, overrideGroup, true)
			}
			Eventually(ctx, untilOK(onlyThisGroup)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Expect(onlyThisGroup(ctx)).To(Succeed(), "still exactly one new revision once everything has settled")
			Expect(s.CheckSecretWatched(ctx, overrideSecret)).To(Succeed())
			Expect(s.CheckNotOwned(ctx, overrideSecret)).To(Succeed())
			writes, err := s.OperatorWritesTo(before.Taken, "secrets", overrideSecret)
			Expect(err).NotTo(HaveOccurred())
			Expect(describeAll(writes)).To(BeEmpty(), "the operator only reads a Secret it already watches")
		}, NodeTimeout(3*stepTimeout))

		It("15. rolls a change of the shared config out to every node type once, in deployment order", func(ctx SpecContext) {
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			const content = "druid.zk.service.host=zookeeper-e2e\n"
			since, err := s.ChangeSharedConfig(ctx, scenario.SharedConfigFile, content)
			Expect(err).NotTo(HaveOccurred())
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckSharedConfig(ctx, scenario.SharedConfigFile, content) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())

			var rollouts []scenario.Rollout
			Eventually(ctx, untilOK(func(ctx context.Context) error {
				var err error
				rollouts, err = s.CheckConfigRollout(ctx, before, since, op.NodeTypeNames())
				return err
			})).WithTimeout(2 * stepTimeout).WithPolling(poll).Should(Succeed())
			AddReportEntry("shared config rollout order (resourceVersions)", scenario.FormatRollouts(rollouts))
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Expect(s.CheckOnlyRolled(ctx, before, op.NodeTypeNames()...)).To(Succeed(), "each workload rolled exactly once")
		}, NodeTimeout(4*stepTimeout))

		It("16. leaves an autoscaled group's replicas to its HorizontalPodAutoscaler, writing nothing when it scales, and takes them back without a rollout", func(ctx SpecContext) {
			groups, err := s.SampleGroups()
			Expect(err).NotTo(HaveOccurred())
			w, err := s.GroupWorkload(ctx, autoscaledNodeType, groups[autoscaledNodeType][0])
			Expect(err).NotTo(HaveOccurred())
			before, err := s.Snapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.SetAutoscaling(ctx, autoscaledNodeType, autoscaledMin, autoscaledMax)).To(Succeed())

			// kube-controller-manager's autoscaler, without a metrics server,
			// still scales a workload below its minimum up to it.
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckAutoscaled(ctx, w, autoscaledMin, autoscaledMax) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Expect(s.CheckNoRollout(ctx, before, w.String())).To(Succeed())
			scales, err := s.AutoscalerScales(before.Taken, w)
			Expect(err).NotTo(HaveOccurred())
			Expect(scales).NotTo(BeEmpty(), "%s reached %d replicas without a write of the autoscaler to its scale", w, autoscaledMin)
			scaled := scales[0].StageTimestamp.Time
			handover, err := s.OperatorWritesTo(before.Taken, strings.ToLower(w.Kind)+"s", w.Object.GetName())
			Expect(err).NotTo(HaveOccurred())

			By("letting the operator reconcile the scaled workload")
			retryPass(ctx, s)
			Consistently(ctx, func() ([]string, error) {
				writes, err := s.WorkloadWrites(scaled)
				return describeAll(writes), err
			}).WithTimeout(settleWindow).WithPolling(poll).Should(BeEmpty(), "write requests to workloads by %s after the autoscaler scaled %s", s.Identity.Username, w)
			Expect(s.CheckAutoscaled(ctx, w, autoscaledMin, autoscaledMax)).To(Succeed(), "the operator left the autoscaler's replicas alone")
			AddReportEntry("autoscaling", fmt.Sprintf("autoscaler: %s (%s)\noperator writes to workloads since: none\nbefore it, turning autoscaling on: %v",
				strings.Join(describeAll(scales), ", "), scales[0].UserAgent, describeAll(handover)))

			By("turning autoscaling off")
			Expect(s.RemoveAutoscaling(ctx, autoscaledNodeType)).To(Succeed())
			_, replicas, err := s.Groups(ctx)
			Expect(err).NotTo(HaveOccurred())
			want := replicas[autoscaledNodeType+"/"+groups[autoscaledNodeType][0]]
			Expect(want).NotTo(BeNil(), "the sample sets the group's replicas")
			Eventually(ctx, untilOK(func(ctx context.Context) error { return s.CheckHandedBack(ctx, w, int32(*want)) })).
				WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Expect(s.CheckNoRollout(ctx, before, w.String())).To(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
		}, NodeTimeout(3*stepTimeout))

		It("17. serves each node type's state on the metrics endpoint", func(ctx SpecContext) {
			_, st, err := s.Instance.ReadStatus(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.NodeTypes).NotTo(BeEmpty())
			want := map[string]string{}
			for _, nt := range st.NodeTypes {
				want[nt.Name] = "ready"
			}
			Eventually(ctx, func(ctx context.Context) (map[string]string, error) {
				return s.Process.NodeTypeStates(ctx, s.Instance.Name)
			}).WithTimeout(stepTimeout).WithPolling(poll).Should(Equal(want))
		}, NodeTimeout(stepTimeout))

		It("18. holds an image change at the first historical pod its health gate says no to, naming it, until the gate says yes", func(ctx SpecContext) {
			groups, err := s.SampleGroups()
			Expect(err).NotTo(HaveOccurred())
			first, second := groups[hookedNodeType][0], groups[hookedNodeType][1]
			pod := fmt.Sprintf("%s-%s-%s-0", s.Instance.Name, hookedNodeType, first)
			later, err := s.GroupWorkload(ctx, hookedNodeType, second)
			Expect(err).NotTo(HaveOccurred())

			_, err = s.Kubectl(ctx, "annotate", "--overwrite", s.Operator.Resource(), s.Instance.Name, unhealthyAnnotation+"="+pod)
			Expect(err).NotTo(HaveOccurred())
			_, err = s.ChangeImage(ctx, "apache/druid:99.0.1-e2e")
			Expect(err).NotTo(HaveOccurred())
			Eventually(ctx, func(ctx context.Context) (string, error) {
				c, err := s.NodeTypeCondition(ctx, hookedNodeType, "RolloutBlocked")
				if err != nil || c == nil {
					return "", err
				}
				return c.Reason + ": " + c.Message, nil
			}).WithTimeout(stepTimeout).WithPolling(poll).Should(And(HavePrefix("WaitingForHook: "), ContainSubstring(pod),
				ContainSubstring("the e2e says it is not healthy")))
			Consistently(ctx, func(ctx context.Context) (int64, error) {
				w, err := s.GroupWorkload(ctx, hookedNodeType, second)
				return w.Object.GetGeneration(), err
			}).WithTimeout(settleWindow).WithPolling(poll).Should(Equal(later.Object.GetGeneration()),
				"group %s changed while %s failed its health gate", second, pod)
			states, err := s.Process.NodeTypeStates(ctx, s.Instance.Name)
			Expect(err).NotTo(HaveOccurred())
			Expect(states).To(HaveKeyWithValue(hookedNodeType, "blocked"))

			_, err = s.Kubectl(ctx, "annotate", s.Operator.Resource(), s.Instance.Name, unhealthyAnnotation+"-")
			Expect(err).NotTo(HaveOccurred())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			w, err := s.GroupWorkload(ctx, hookedNodeType, second)
			Expect(err).NotTo(HaveOccurred())
			Expect(w.Object.GetGeneration()).To(BeNumerically(">", later.Object.GetGeneration()), "group %s rolled once the gate said yes", second)
		}, NodeTimeout(3*stepTimeout))

		It("19. removes a removed historical group's pod only once its drain hook says yes, and deletes its workload after it", func(ctx SpecContext) {
			groups, err := s.SampleGroups()
			Expect(err).NotTo(HaveOccurred())
			removed := groups[hookedNodeType][1]
			w, err := s.GroupWorkload(ctx, hookedNodeType, removed)
			Expect(err).NotTo(HaveOccurred())
			pod := w.Object.GetName() + "-0"
			since := time.Now()

			_, err = s.Kubectl(ctx, "annotate", "--overwrite", s.Operator.Resource(), s.Instance.Name, keepAnnotation+"="+pod)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.UpdateSpec(ctx, removeGroup(s.Operator, hookedNodeType, removed), false)).To(Succeed())
			Eventually(ctx, func(ctx context.Context) (string, error) {
				c, err := s.NodeTypeCondition(ctx, hookedNodeType, "Progressing")
				if err != nil || c == nil {
					return "", err
				}
				return c.Reason, nil
			}).WithTimeout(stepTimeout).WithPolling(poll).Should(Equal("RemovingPods"))
			Consistently(ctx, func(ctx context.Context) (bool, error) {
				return s.WorkloadExists(ctx, hookedNodeType, w.Object.GetName())
			}).WithTimeout(settleWindow).WithPolling(poll).Should(BeTrue(), "%s was deleted while its drain hook said no", w)
			writes, err := s.OperatorWritesTo(since, "statefulsets", w.Object.GetName())
			Expect(err).NotTo(HaveOccurred())
			Expect(describeAll(writes)).To(BeEmpty(), "the operator wrote %s while its only pod was kept", w)

			_, err = s.Kubectl(ctx, "annotate", s.Operator.Resource(), s.Instance.Name, keepAnnotation+"-")
			Expect(err).NotTo(HaveOccurred())
			Eventually(ctx, func(ctx context.Context) (bool, error) {
				return s.WorkloadExists(ctx, hookedNodeType, w.Object.GetName())
			}).WithTimeout(stepTimeout).WithPolling(poll).Should(BeFalse())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			writes, err = s.OperatorWritesTo(since, "statefulsets", w.Object.GetName())
			Expect(err).NotTo(HaveOccurred())
			verbs := describeAll(writes)
			AddReportEntry("writes to the removed group's StatefulSet", strings.Join(verbs, "\n"))
			Expect(verbs).NotTo(BeEmpty())
			Expect(verbs[len(verbs)-1]).To(HavePrefix("delete"), "the workload is deleted last, after its pod: %v", verbs)
			Expect(verbs[0]).NotTo(HavePrefix("delete"), "the workload is scaled down before it is deleted: %v", verbs)
		}, NodeTimeout(3*stepTimeout))
	})

	// A second control plane, started once the first one is gone, runs the
	// same operator binary with --watch-namespaces: its rules are granted as
	// a Role in one namespace only, so every request outside it would be
	// refused. One install, no rollouts: the cluster-wide Describe covers
	// those.
	Describe("running the operator namespace-scoped, with --watch-namespaces and role.yaml's rules as a Role and RoleBinding only", Ordered, func() {
		var s *scenario.Scenario

		BeforeAll(func(ctx SpecContext) {
			dir := projects[scenario.PathCLI]
			Expect(dir).NotTo(BeEmpty())
			s = startScenario(ctx, op, filepath.Join(work, "run-namespaced"),
				scenario.Options{ProjectDir: dir, AssetsDir: assets, Nodes: 3, WatchNamespace: servedNamespace})
		}, NodeTimeout(installTimeout))

		AfterEach(func() { attachLogTail(s) })

		It("1. runs every node type of the sample, pods Ready and Ready True, with no cluster-wide binding, and is refused no request", func(ctx SpecContext) {
			bindings, err := s.Cluster.ClusterBindingsOf(ctx, s.Identity)
			Expect(err).NotTo(HaveOccurred())
			Expect(bindings).To(BeEmpty(), "the namespace-scoped operator must run without a ClusterRoleBinding")

			Expect(s.ApplySample(ctx)).To(Succeed())
			Eventually(ctx, untilOK(s.CheckRunning)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			Eventually(ctx, untilOK(s.CheckCreatedEvents)).WithTimeout(stepTimeout).WithPolling(poll).Should(Succeed())
			// Over the operator's whole life: a refused cluster-wide list or
			// watch is retried by its reflector without failing anything.
			Expect(s.CheckNeverForbidden(time.Time{})).To(Succeed())
		}, NodeTimeout(2*stepTimeout))

		It("2. leaves a CR in a namespace it does not serve alone: no children, no status, no events, no request there", func(ctx SpecContext) {
			since := time.Now()
			other, uid, err := s.CreateOutsider(ctx, outsideNamespace)
			Expect(err).NotTo(HaveOccurred())

			By("poking the served CR, so that the operator finishes a pass after the other CR exists")
			retryPass(ctx, s)
			Consistently(ctx, untilOK(func(ctx context.Context) error { return s.CheckLeftAlone(ctx, other, uid, since) })).
				WithTimeout(5*time.Second).WithPolling(poll).Should(Succeed(), "the operator serves %s only", servedNamespace)
			Expect(s.CheckRunning(ctx)).To(Succeed())
			Expect(s.CheckNeverForbidden(time.Time{})).To(Succeed())
		}, NodeTimeout(stepTimeout))
	})
})

// retryPass makes the operator of s run one more pass over the CR, which
// retries whatever it refused or held, and waits until that pass is done;
// it returns how many reconciles the operator has run.
func retryPass(ctx context.Context, s *scenario.Scenario) float64 {
	GinkgoHelper()
	done, err := s.Process.Reconciles(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(s.Poke(ctx)).To(Succeed())
	reconciles := func(ctx context.Context) (float64, error) { return s.Process.Reconciles(ctx) }
	Eventually(ctx, reconciles).WithTimeout(stepTimeout).WithPolling(poll).Should(BeNumerically(">", done))
	n, err := s.Process.Reconciles(ctx)
	Expect(err).NotTo(HaveOccurred())
	return n
}

// expectRefused sends c's valid spec as a server-side dry run, which must
// be accepted, and then its bad spec, which must be refused with a message
// naming c.Field; a refused new CR must not exist, a refused change must
// leave the CR's generation. It returns the refusal.
func expectRefused(ctx context.Context, s *scenario.Scenario, c scenario.AdmissionCase) string {
	GinkgoHelper()
	if c.Update {
		gen, _, err := s.Instance.ReadStatus(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.UpdateSpec(ctx, c.Good, true)).To(Succeed(), "the valid change is accepted")
		refused := s.UpdateSpec(ctx, c.Bad, false)
		Expect(apierrors.IsInvalid(refused)).To(BeTrue(), "want 422 Invalid, got %v", refused)
		Expect(refused.Error()).To(And(ContainSubstring(c.Field), ContainSubstring(c.Says)))
		after, _, err := s.Instance.ReadStatus(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(after).To(Equal(gen), "a refused change leaves the CR as it was")
		return refused.Error()
	}
	_, err := s.ApplyVariant(ctx, cmp.Or(c.NameOK, c.Name), c.Good, true)
	Expect(err).NotTo(HaveOccurred(), "the valid spec is accepted")
	out, err := s.ApplyVariant(ctx, c.Name, c.Bad, false)
	Expect(err).To(HaveOccurred(), "kubectl apply accepted the bad spec:\n%s", out)
	Expect(out).To(And(ContainSubstring(c.Field), ContainSubstring(c.Says)))
	Expect(s.CheckNotCreated(ctx, c.Name)).To(Succeed())
	return out
}

// describeAll renders audit events for assertion messages.
func describeAll[T fmt.Stringer](items []T) []string {
	out := make([]string, 0, len(items))
	for _, i := range items {
		out = append(out, i.String())
	}
	return out
}
