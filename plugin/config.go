package plugin

import (
	"errors"
	"fmt"
	"slices"

	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"

	"github.com/opbuilder/opbuilder/scaffolds/model"
)

// Config is what the plugin records under its key in PROJECT when it
// runs in-process: every option of init, create api and create nodetype
// that shapes the scaffold, so that alpha generate can replay them. The
// plugin itself reads a project's state from the markers in its files,
// because it cannot write PROJECT when it runs as an external plugin.
type Config struct {
	// Runtime is the runtime module go.mod was wired to by init.
	Runtime *RuntimeConfig `json:"runtime,omitempty"`
	// Resources are the kinds created with opbuilder.
	Resources []ResourceConfig `json:"resources,omitempty"`
}

// RuntimeConfig records init's runtime options.
type RuntimeConfig struct {
	// Module is the runtime's module path.
	Module string `json:"module"`
	// Version is --runtime-version; empty for a development build's default.
	Version string `json:"version,omitempty"`
	// Path is --runtime-path as given, relative to the project when it was.
	Path string `json:"path,omitempty"`
}

// ResourceConfig records one kind created with opbuilder.
type ResourceConfig struct {
	Group   string `json:"group,omitempty"`
	Domain  string `json:"domain,omitempty"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	// Image is create api's --image; empty means the default.
	Image     string           `json:"image,omitempty"`
	NodeTypes []NodeTypeConfig `json:"nodeTypes,omitempty"`
}

// NodeTypeConfig records the options a node type was created with.
type NodeTypeConfig struct {
	Name     string `json:"name"`
	Workload string `json:"workload"`
	Port     int32  `json:"port"`
	Storage  string `json:"storage,omitempty"`
	Replicas int32  `json:"replicas"`
	// Groups are the sample resource's groups of the node type.
	Groups []string `json:"groups,omitempty"`
}

// loadPluginConfig reads the plugin's record from cfg; a project without one
// yields an empty record.
func loadPluginConfig(cfg config.Config) (Config, error) {
	var pc Config
	err := cfg.DecodePluginConfig(pluginConfigKey(cfg), &pc)
	switch {
	case err == nil, errors.As(err, &config.PluginKeyNotFoundError{}):
		return pc, nil
	case errors.As(err, &config.UnsupportedFieldError{}):
		return pc, nil
	default:
		return pc, fmt.Errorf("reading the %s record in PROJECT: %w", Key, err)
	}
}

// savePluginConfig writes the plugin's record into cfg. Project versions
// without plugin records are left alone.
func savePluginConfig(cfg config.Config, pc Config) error {
	err := cfg.EncodePluginConfig(pluginConfigKey(cfg), pc)
	if err != nil && !errors.As(err, &config.UnsupportedFieldError{}) {
		return fmt.Errorf("writing the %s record in PROJECT: %w", Key, err)
	}
	return nil
}

// pluginConfigKey is the key the plugin's record has in cfg.
func pluginConfigKey(cfg config.Config) string {
	return kbplugin.GetPluginKeyForConfig(cfg.GetPluginChain(), Plugin{})
}

// recordRuntime records init's runtime options.
func recordRuntime(cfg config.Config, rc RuntimeConfig) error {
	pc, err := loadPluginConfig(cfg)
	if err != nil {
		return err
	}
	pc.Runtime = &rc
	return savePluginConfig(cfg, pc)
}

// recordKind adds the kind res, whose sample uses image, to the record,
// once.
func recordKind(cfg config.Config, res resource.Resource, image string) error {
	pc, err := loadPluginConfig(cfg)
	if err != nil {
		return err
	}
	if pc.find(res.GVK) < 0 {
		pc.Resources = append(pc.Resources, ResourceConfig{
			Group: res.Group, Domain: res.Domain, Version: res.Version, Kind: res.Kind, Image: image,
		})
	}
	return savePluginConfig(cfg, pc)
}

// recordNodeType adds the node type nt of the kind res to the record.
func recordNodeType(cfg config.Config, res resource.Resource, nt model.NodeType) error {
	pc, err := loadPluginConfig(cfg)
	if err != nil {
		return err
	}
	i := pc.find(res.GVK)
	if i < 0 {
		pc.Resources = append(pc.Resources, ResourceConfig{
			Group: res.Group, Domain: res.Domain, Version: res.Version, Kind: res.Kind,
		})
		i = len(pc.Resources) - 1
	}
	r := &pc.Resources[i]
	r.NodeTypes = slices.DeleteFunc(r.NodeTypes, func(n NodeTypeConfig) bool { return n.Name == nt.Name })
	r.NodeTypes = append(r.NodeTypes, NodeTypeConfig{
		Name: nt.Name, Workload: string(nt.Workload), Port: nt.Port, Storage: nt.Storage, Replicas: nt.Replicas,
		Groups: slices.Clone(nt.Groups),
	})
	return savePluginConfig(cfg, pc)
}

// find returns the index of the kind gvk in the record, or -1.
func (pc Config) find(gvk resource.GVK) int {
	return slices.IndexFunc(pc.Resources, func(r ResourceConfig) bool {
		return r.Group == gvk.Group && r.Domain == gvk.Domain && r.Version == gvk.Version && r.Kind == gvk.Kind
	})
}

// recordedNodeType returns the node type name of the kind res as the record
// has it, or nil when the record does not name it.
func recordedNodeType(cfg config.Config, res resource.Resource, name string) (*model.NodeType, error) {
	pc, err := loadPluginConfig(cfg)
	if err != nil {
		return nil, err
	}
	i := pc.find(res.GVK)
	if i < 0 {
		return nil, nil
	}
	for _, n := range pc.Resources[i].NodeTypes {
		if n.Name == name {
			return &model.NodeType{
				Name: n.Name, Workload: model.Workload(n.Workload), Port: n.Port, Storage: n.Storage, Replicas: n.Replicas,
				Groups: slices.Clone(n.Groups),
			}, nil
		}
	}
	return nil, nil
}

// forgetNodeType removes the node type name of the kind res from the
// record. The kind's own record stays, as create api wrote it.
func forgetNodeType(cfg config.Config, res resource.Resource, name string) error {
	pc, err := loadPluginConfig(cfg)
	if err != nil {
		return err
	}
	i := pc.find(res.GVK)
	if i < 0 {
		return nil
	}
	r := &pc.Resources[i]
	r.NodeTypes = slices.DeleteFunc(r.NodeTypes, func(n NodeTypeConfig) bool { return n.Name == name })
	return savePluginConfig(cfg, pc)
}
