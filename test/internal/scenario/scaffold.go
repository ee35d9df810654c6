package scenario

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// CLIName is the name of the project's CLI binary.
const CLIName = "kubebuilder-opbuilder"

// ProjectName is the directory name the scenario scaffolds into; kubebuilder
// makes it the project name, and opbuilder the operator's field owner.
const ProjectName = "druid-operator"

// Path is one of the two ways of scaffolding an operator.
type Path string

const (
	// PathCLI scaffolds with kubebuilder-opbuilder, which bundles go/v4 and
	// opbuilder/v1 and has a `create nodetype` command.
	PathCLI Path = "kubebuilder-opbuilder"
	// PathStock scaffolds with stock kubebuilder, which runs
	// kubebuilder-opbuilder as the external plugin opbuilder/v1.
	PathStock Path = "kubebuilder"
)

// Toolchain is the set of CLIs the scenario scaffolds with.
type Toolchain struct {
	// CLI is the kubebuilder-opbuilder binary.
	CLI string
	// Kubebuilder is the stock kubebuilder binary; "" when not installed.
	Kubebuilder string
	// PluginsDir is the EXTERNAL_PLUGINS_PATH where CLI installed itself as
	// the external plugin; "" when not installed.
	PluginsDir string
}

// BuildCLI builds kubebuilder-opbuilder from the checkout into binDir.
func BuildCLI(ctx context.Context, r Runner, repo *Repo, binDir string) (string, error) {
	out := filepath.Join(binDir, CLIName)
	err := r.Run(ctx, Command{Dir: repo.Root, Name: "go", Args: []string{"build", "-o", out, "./cmd/" + CLIName}})
	if err != nil {
		return "", fmt.Errorf("building %s: %w", CLIName, err)
	}
	return out, nil
}

// InstallKubebuilder installs stock kubebuilder, at the version pinned in
// hack/versions.env, from the Go module proxy into binDir.
func InstallKubebuilder(ctx context.Context, r Runner, repo *Repo, binDir string) (string, error) {
	version, err := repo.Version("KUBEBUILDER_VERSION")
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", binDir, err)
	}
	// `go install pkg@version` ignores any go.mod or go.work around it; run
	// it in binDir anyway so that nothing of the checkout is involved.
	err = r.Run(ctx, Command{
		Dir:  abs,
		Name: "go",
		Args: []string{"install", "sigs.k8s.io/kubebuilder/v4@" + version},
		Env:  []string{"GOBIN=" + abs, "GOWORK=off"},
	})
	if err != nil {
		return "", fmt.Errorf("installing kubebuilder %s: %w", version, err)
	}
	return filepath.Join(abs, "kubebuilder"), nil
}

// InstallPlugin installs cli as kubebuilder's external plugin opbuilder/v1
// under pluginsDir, the EXTERNAL_PLUGINS_PATH stock kubebuilder is then run
// with.
func InstallPlugin(ctx context.Context, r Runner, cli, pluginsDir string) error {
	if err := os.MkdirAll(pluginsDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", pluginsDir, err)
	}
	err := r.Run(ctx, Command{
		Dir:  pluginsDir,
		Name: cli,
		Args: []string{"install-plugin"},
		Env:  []string{"EXTERNAL_PLUGINS_PATH=" + pluginsDir},
	})
	if err != nil {
		return fmt.Errorf("installing the opbuilder/v1 external plugin: %w", err)
	}
	return nil
}

// ScaffoldCommands returns, in order, the commands that scaffold op into dir
// on the given path, with the runtime module replaced by runtimeDir.
func (t Toolchain) ScaffoldCommands(op Operator, path Path, dir, runtimeDir string) ([]Command, error) {
	bin, env, err := t.cli(path)
	if err != nil {
		return nil, err
	}
	cmd := func(args ...string) Command { return Command{Dir: dir, Name: bin, Args: args, Env: env} }

	cmds := []Command{
		cmd("init", "--plugins", "go/v4,opbuilder/v1", "--domain", op.Domain, "--repo", op.Repo,
			"--runtime-path", runtimeDir),
		cmd("create", "api", "--group", op.Group, "--version", op.Version, "--kind", op.Kind,
			"--resource", "--controller"),
	}
	for _, n := range op.NodeTypes {
		c, err := t.NodeTypeCommand(op, path, dir, n)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

// NodeTypeCommand returns the command that adds node type n to op's kind in
// the project in dir, on the given path: `create nodetype` with
// kubebuilder-opbuilder, `create api --plugins opbuilder/v1 --nodetype` with
// stock kubebuilder.
func (t Toolchain) NodeTypeCommand(op Operator, path Path, dir string, n NodeType) (Command, error) {
	bin, env, err := t.cli(path)
	if err != nil {
		return Command{}, err
	}
	var args []string
	if path == PathCLI {
		args = append([]string{"create", "nodetype", "--kind", op.Kind, "--name", n.Name}, n.flags()...)
	} else {
		args = append([]string{"create", "api", "--plugins", "opbuilder/v1", "--group", op.Group,
			"--version", op.Version, "--kind", op.Kind, "--nodetype", n.Name}, n.flags()...)
	}
	return Command{Dir: dir, Name: bin, Args: args, Env: env}, nil
}

// cli returns the binary of a path and the environment it runs with.
func (t Toolchain) cli(path Path) (string, []string, error) {
	// A project inside the opbuilder checkout (the demo's ./demo) must not
	// be built as part of the checkout's go.work.
	env := []string{"GOWORK=off"}
	switch path {
	case PathCLI:
		return t.CLI, env, nil
	case PathStock:
		if t.Kubebuilder == "" || t.PluginsDir == "" {
			return "", nil, fmt.Errorf("the %s path needs stock kubebuilder and the installed external plugin", path)
		}
		return t.Kubebuilder, append(env, "EXTERNAL_PLUGINS_PATH="+t.PluginsDir), nil
	}
	return "", nil, fmt.Errorf("unknown scaffolding path %q", path)
}

// ProjectEnv is the environment for make targets of a scaffolded project:
// outside any go.work, with the control-plane binaries of the checkout so
// that `make test` downloads none.
func ProjectEnv(assetsDir string) []string {
	return []string{"GOWORK=off", "KUBEBUILDER_ASSETS=" + assetsDir}
}

// Make runs make with the given targets in a scaffolded project.
func Make(ctx context.Context, r Runner, dir, assetsDir string, targets ...string) error {
	return r.Run(ctx, Command{Dir: dir, Name: "make", Args: targets, Env: ProjectEnv(assetsDir)})
}
