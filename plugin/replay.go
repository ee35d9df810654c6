package plugin

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
	"sigs.k8s.io/yaml"

	"github.com/opbuilder/opbuilder/scaffolds"
)

// helmKey is the helm/v2-alpha plugin's key in PROJECT.
const helmKey = "helm.kubebuilder.io/v2-alpha"

// helmConfig is what helm/v2-alpha records in PROJECT: its edit's
// --manifests and --output-dir.
type helmConfig struct {
	Manifests string `json:"manifests,omitempty"`
	Output    string `json:"output,omitempty"`
}

// ReplayOptions change what ReplayCommands replays.
type ReplayOptions struct {
	// LicenseFile, when not empty, is given to init as the license header
	// to use, so that the header of the project's files is kept.
	LicenseFile string
	// RuntimeVersion, when not empty, replaces the runtime version PROJECT
	// records, for a scaffold that moves the project to another runtime.
	RuntimeVersion string
}

// ReplayCommands returns the commands, each as the arguments of a
// kubebuilder-opbuilder invocation, that scaffold again the project cfg
// describes: init, then for each kind create api followed by create
// nodetype for each of its node types, in the order PROJECT records them,
// then edit --plugins helm/v2-alpha when PROJECT records the chart. Only the
// last create nodetype runs make: generate and manifests rewrite
// their output from the whole source, so running them once at the end
// writes what running them after each node type does.
//
// It returns an error, saying what to do, when PROJECT records something
// it cannot replay; nothing should be written then.
func ReplayCommands(cfg config.Config, opts ReplayOptions) ([][]string, error) {
	if err := checkOpbuilderProject(cfg); err != nil {
		return nil, err
	}
	if err := checkReplayable(cfg); err != nil {
		return nil, err
	}
	pc, err := loadPluginConfig(cfg)
	if err != nil {
		return nil, err
	}
	if pc.Runtime == nil {
		return nil, fmt.Errorf("PROJECT has no runtime under plugins.%s (stock kubebuilder cannot write it when "+
			"it runs %s as an external plugin, and kubebuilder-opbuilder before this version did not): add "+
			"`runtime: {module: %s, path: <runtime dir>}` or `runtime: {module: %[3]s, version: <version>}` "+
			"there, as the project's go.mod has it", Key, Key, scaffolds.RuntimeModule)
	}
	resources, err := cfg.GetResources()
	if err != nil {
		return nil, fmt.Errorf("reading the kinds in PROJECT: %w", err)
	}

	rc := *pc.Runtime
	if opts.RuntimeVersion != "" {
		rc.Version = opts.RuntimeVersion
	}
	cmds := [][]string{initArgs(cfg, rc, opts.LicenseFile)}
	last := -1
	for _, res := range resources {
		i := pc.find(res.GVK)
		var rc ResourceConfig
		if i >= 0 {
			rc = pc.Resources[i]
		}
		cmds = append(cmds, createAPIArgs(res, rc.Image))
		for _, nt := range rc.NodeTypes {
			cmds = append(cmds, append(createNodeTypeArgs(res.GVK, nt), "--make=false"))
			last = len(cmds) - 1
		}
	}
	if last >= 0 {
		cmds[last] = cmds[last][:len(cmds[last])-1]
	}
	helm, err := helmEditArgs(cfg)
	if err != nil {
		return nil, err
	}
	if helm != nil {
		cmds = append(cmds, helm)
	}
	return cmds, nil
}

// checkReplayable returns an error naming what PROJECT records that
// ReplayCommands does not replay: webhooks, external APIs, named
// controllers and the configuration of plugins other than this one and
// helm/v2-alpha.
func checkReplayable(cfg config.Config) error {
	resources, err := cfg.GetResources()
	if err != nil {
		return fmt.Errorf("reading the kinds in PROJECT: %w", err)
	}
	var problems []string
	for _, res := range resources {
		if res.Webhooks != nil && !res.Webhooks.IsEmpty() {
			problems = append(problems, "the webhooks of "+describeKind(res.GVK))
		}
		if res.IsExternal() {
			problems = append(problems, "the external API "+describeKind(res.GVK))
		}
		if res.Controllers != nil && !res.Controllers.IsEmpty() {
			problems = append(problems, "the named controllers of "+describeKind(res.GVK))
		}
	}
	others, err := otherPluginKeys(cfg)
	if err != nil {
		return err
	}
	for _, key := range others {
		problems = append(problems, "the "+key+" plugin's configuration")
	}
	if len(problems) > 0 {
		return fmt.Errorf("PROJECT records %s, which opbuilder cannot scaffold again yet: run `alpha generate "+
			"--output-dir <dir>` without them in PROJECT and add them to the result with their own commands",
			strings.Join(problems, ", "))
	}
	return nil
}

// otherPluginKeys returns the keys under PROJECT's plugins other than this
// plugin's and helm/v2-alpha's.
func otherPluginKeys(cfg config.Config) ([]string, error) {
	raw, err := cfg.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("reading PROJECT: %w", err)
	}
	var project struct {
		Plugins map[string]any `json:"plugins"`
	}
	if err := yaml.Unmarshal(raw, &project); err != nil {
		return nil, fmt.Errorf("reading PROJECT's plugins: %w", err)
	}
	var keys []string
	for key := range project.Plugins {
		if !isOpbuilderKey(key) && key != helmKey {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// initArgs returns the init command that made the project.
func initArgs(cfg config.Config, rc RuntimeConfig, licenseFile string) []string {
	args := []string{"init", "--plugins", strings.Join(cfg.GetPluginChain(), ",")}
	if v := cfg.GetDomain(); v != "" {
		args = append(args, "--domain", v)
	}
	if v := cfg.GetRepository(); v != "" {
		args = append(args, "--repo", v)
	}
	if v := cfg.GetProjectName(); v != "" {
		args = append(args, "--project-name", v)
	}
	if cfg.IsMultiGroup() {
		args = append(args, "--multigroup")
	}
	if cfg.IsNamespaced() {
		args = append(args, "--namespaced")
	}
	if licenseFile != "" {
		args = append(args, "--license-file", licenseFile)
	}
	// An empty --runtime-version is what a development build defaults to;
	// giving it explicitly keeps a released binary's default from replacing
	// it.
	args = append(args, "--runtime-version", rc.Version)
	if rc.Path != "" {
		args = append(args, "--runtime-path", rc.Path)
	}
	return args
}

// createAPIArgs returns the create api command that made the kind res;
// image is the sample's image as it was given, empty for the default.
func createAPIArgs(res resource.Resource, image string) []string {
	args := []string{"create", "api", "--group", res.Group, "--version", res.Version, "--kind", res.Kind}
	hasAPI := res.API != nil && !res.API.IsEmpty()
	args = append(args, "--resource="+strconv.FormatBool(hasAPI), "--controller="+strconv.FormatBool(res.Controller))
	if hasAPI {
		args = append(args, "--namespaced="+strconv.FormatBool(res.API.Namespaced))
	}
	if res.Plural != "" && res.Plural != resource.RegularPlural(res.Kind) {
		args = append(args, "--plural", res.Plural)
	}
	if image != "" {
		args = append(args, "--image", image)
	}
	return args
}

// createNodeTypeArgs returns the create nodetype command that added nt to
// the kind gvk.
func createNodeTypeArgs(gvk resource.GVK, nt NodeTypeConfig) []string {
	args := []string{"create", "nodetype", "--group", gvk.Group, "--version", gvk.Version, "--kind", gvk.Kind,
		"--" + flagName, nt.Name, "--" + flagWorkload, nt.Workload,
		"--" + flagPort, strconv.Itoa(int(nt.Port)), "--" + flagReplicas, strconv.Itoa(int(nt.Replicas))}
	if nt.Storage != "" {
		args = append(args, "--"+flagStorage, nt.Storage)
	}
	if len(nt.Groups) > 0 {
		args = append(args, "--"+flagGroups, strings.Join(nt.Groups, ","))
	}
	return args
}

// helmEditArgs returns the edit command that made the project's helm
// chart, or nil when PROJECT records none.
func helmEditArgs(cfg config.Config) ([]string, error) {
	var hc helmConfig
	err := cfg.DecodePluginConfig(helmKey, &hc)
	switch {
	case errors.As(err, &config.PluginKeyNotFoundError{}), errors.As(err, &config.UnsupportedFieldError{}):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the %s record in PROJECT: %w", helmKey, err)
	}
	args := []string{"edit", "--plugins", helmKey}
	if hc.Manifests != "" {
		args = append(args, "--manifests", hc.Manifests)
	}
	if hc.Output != "" {
		args = append(args, "--output-dir", hc.Output)
	}
	return args, nil
}
