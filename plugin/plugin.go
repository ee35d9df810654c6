package plugin

import (
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	cfgv3 "sigs.k8s.io/kubebuilder/v4/pkg/config/v3"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"
)

const (
	// Name is the plugin's name. It is also the directory name an external
	// plugin is discovered under, so both ways of running the plugin record
	// the same key in a project's layout.
	Name = "opbuilder"
	// Key is the plugin's key, as given to --plugins and recorded in PROJECT.
	Key = "opbuilder/v1"
)

var (
	_ kbplugin.Init        = Plugin{}
	_ kbplugin.CreateAPI   = Plugin{}
	_ kbplugin.Describable = Plugin{}
)

// Plugin is the opbuilder/v1 plugin. Its zero value is ready to use.
type Plugin struct {
	initSubcommand
	createAPISubcommand
}

// Name implements plugin.Plugin.
func (Plugin) Name() string { return Name }

// Version implements plugin.Plugin.
func (Plugin) Version() kbplugin.Version { return kbplugin.Version{Number: 1} }

// SupportedProjectVersions implements plugin.Plugin.
func (Plugin) SupportedProjectVersions() []config.Version { return []config.Version{cfgv3.Version} }

// Description implements plugin.Describable.
func (Plugin) Description() string {
	return "Scaffolds operators for multi-node-type data systems on the opbuilder runtime"
}

// DeprecationWarning implements plugin.Deprecated.
func (Plugin) DeprecationWarning() string { return "" }

// GetInitSubcommand implements plugin.Init.
func (p Plugin) GetInitSubcommand() kbplugin.InitSubcommand { return &p.initSubcommand }

// GetCreateAPISubcommand implements plugin.CreateAPI.
func (p Plugin) GetCreateAPISubcommand() kbplugin.CreateAPISubcommand { return &p.createAPISubcommand }
