package external

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	cfgv3 "sigs.k8s.io/kubebuilder/v4/pkg/config/v3"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"
	"sigs.k8s.io/kubebuilder/v4/pkg/plugin/external"
	"sigs.k8s.io/yaml"

	"github.com/opbuilder/opbuilder/plugin"
)

// apiVersion is the version of the external plugin protocol spoken.
const apiVersion = "v1alpha1"

// Commands kubebuilder sends.
const (
	commandMetadata      = "metadata"
	commandFlags         = "flags"
	commandInit          = "init"
	commandCreateAPI     = "create api"
	commandCreateWebhook = "create webhook"
	commandEdit          = "edit"
)

// Option configures Serve.
type Option func(*server)

// WithLog makes Serve write its notes (what it skipped and why) to w instead
// of os.Stderr. Kubebuilder shows an external plugin's stderr to the user.
func WithLog(w io.Writer) Option {
	return func(s *server) { s.log = w }
}

type server struct {
	log io.Writer
}

// Serve reads one PluginRequest from in, runs it, and writes the
// PluginResponse to out. A request that fails is answered with an error
// response, which kubebuilder shows to the user; Serve itself only fails
// when the response cannot be written.
func Serve(in io.Reader, out io.Writer, opts ...Option) error {
	s := &server{log: os.Stderr}
	for _, o := range opts {
		o(s)
	}
	resp := s.handle(in)
	if err := json.NewEncoder(out).Encode(resp); err != nil {
		return fmt.Errorf("writing the plugin response: %w", err)
	}
	return nil
}

func (s *server) handle(in io.Reader) external.PluginResponse {
	req, err := decodeRequest(in)
	if err != nil {
		return errorResponse("", err)
	}
	resp := external.PluginResponse{APIVersion: apiVersion, Command: req.Command, Universe: map[string]string{}}
	switch req.Command {
	case commandMetadata:
		resp.Metadata = metadata(subcommandFor(req.Args))
	case commandFlags:
		resp.Flags = flagsOf(subcommandFor(req.Args))
	case commandInit, commandCreateAPI:
		universe, err := s.scaffold(req)
		if err != nil {
			return errorResponse(req.Command, err)
		}
		resp.Universe = universe
	case commandCreateWebhook, commandEdit:
		// opbuilder adds nothing to webhooks or edit.
	default:
		return errorResponse(req.Command, fmt.Errorf("unknown command %q", req.Command))
	}
	return resp
}

func errorResponse(command string, err error) external.PluginResponse {
	return external.PluginResponse{
		APIVersion: apiVersion,
		Command:    command,
		Universe:   map[string]string{},
		Error:      true,
		ErrorMsgs:  []string{fmt.Sprintf("%s: %v", plugin.Key, err)},
	}
}

// subcommandFor returns the subcommand a metadata or flags request is about:
// its args hold "--init", "--api", "--webhook" or "--edit".
func subcommandFor(args []string) kbplugin.Subcommand {
	p := plugin.Plugin{}
	for _, a := range args {
		switch a {
		case "--init":
			return p.GetInitSubcommand()
		case "--api":
			return p.GetCreateAPISubcommand()
		}
	}
	return nil
}

// metadata returns the help of sub, as kubebuilder shows it.
func metadata(sub kbplugin.Subcommand) kbplugin.SubcommandMetadata {
	meta := kbplugin.SubcommandMetadata{}
	m, ok := sub.(kbplugin.UpdatesMetadata)
	if !ok {
		// Kubebuilder keeps its own help for commands opbuilder adds nothing to.
		return meta
	}
	m.UpdateMetadata(kbplugin.CLIMetadata{CommandName: "kubebuilder"}, &meta)
	meta.Description = strings.TrimSpace(meta.Description) + "\n"
	meta.Examples = strings.TrimLeft(meta.Examples, "\n")
	return meta
}

// flagsOf declares the flags of sub in the protocol's terms.
func flagsOf(sub kbplugin.Subcommand) []external.Flag {
	hf, ok := sub.(kbplugin.HasFlags)
	if !ok {
		return nil
	}
	fs := pflag.NewFlagSet("flags", pflag.ContinueOnError)
	hf.BindFlags(fs)
	var flags []external.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		flag := external.Flag{Name: f.Name, Default: f.DefValue, Usage: f.Usage, Type: "string"}
		switch f.Value.Type() {
		case "bool":
			flag.Type = "bool"
		case "int", "int32", "int64":
			flag.Type = "int"
		case "stringSlice":
			flag.Default = strings.Trim(f.DefValue, "[]")
		}
		flags = append(flags, flag)
	})
	return flags
}

// scaffold runs init or create api against the request's files and returns
// the files it created or changed.
func (s *server) scaffold(req *external.PluginRequest) (map[string]string, error) {
	cfg, err := projectConfig(req.Config)
	if err != nil {
		return nil, err
	}
	fsys, err := loadUniverse(req.Universe)
	if err != nil {
		return nil, err
	}

	p := plugin.Plugin{}
	var sub kbplugin.Subcommand = p.GetInitSubcommand()
	if req.Command == commandCreateAPI {
		sub = p.GetCreateAPISubcommand()
	}

	fs := pflag.NewFlagSet(req.Command, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// Other plugins' flags are on the command line too.
	fs.ParseErrorsAllowlist.UnknownFlags = true
	if hf, ok := sub.(kbplugin.HasFlags); ok {
		hf.BindFlags(fs)
	}
	var gvk resource.GVK
	fs.StringVar(&gvk.Group, "group", "", "")
	fs.StringVar(&gvk.Version, "version", "", "")
	fs.StringVar(&gvk.Kind, "kind", "", "")
	// go/v4's flags: whether create api creates an API and a controller.
	doAPI := fs.Bool("resource", true, "")
	doController := fs.Bool("controller", true, "")
	if err := fs.Parse(req.Args); err != nil {
		return nil, fmt.Errorf("reading the flags: %w", err)
	}

	if rc, ok := sub.(kbplugin.RequiresConfig); ok {
		if err := rc.InjectConfig(cfg); err != nil {
			return nil, err
		}
	}
	if rr, ok := sub.(kbplugin.RequiresResource); ok {
		gvk.Domain = cfg.GetDomain()
		if err := rr.InjectResource(resourceFor(cfg, gvk, *doAPI, *doController)); err != nil {
			return nil, err
		}
	}
	if ps, ok := sub.(kbplugin.HasPreScaffold); ok {
		err := ps.PreScaffold(fsys)
		if exit := (kbplugin.ExitError{}); errors.As(err, &exit) {
			_, _ = fmt.Fprintf(s.log, "%s: nothing to do: %s\n", plugin.Key, exit.Reason)
			return map[string]string{}, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if err := sub.Scaffold(fsys); err != nil {
		return nil, err
	}
	if req.Command == commandCreateAPI {
		_, _ = fmt.Fprintf(s.log, "%s: run `make generate manifests` to regenerate code and manifests\n", plugin.Key)
	}
	return changedFiles(fsys, req.Universe)
}

// projectConfig rebuilds the project configuration kubebuilder sent.
func projectConfig(raw map[string]any) (config.Config, error) {
	if len(raw) == 0 {
		return nil, errors.New("kubebuilder sent no project configuration")
	}
	b, err := yaml.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("reading the project configuration: %w", err)
	}
	cfg := cfgv3.New()
	if err := cfg.UnmarshalYAML(b); err != nil {
		return nil, fmt.Errorf("reading the project configuration: %w", err)
	}
	return cfg, nil
}

// resourceFor returns the resource create api works on, as go/v4 (earlier
// in the chain) left it in the configuration. Without an API or controller
// being created, the resource says so, and opbuilder does nothing.
func resourceFor(cfg config.Config, gvk resource.GVK, doAPI, doController bool) *resource.Resource {
	res := &resource.Resource{GVK: gvk, Plural: resource.RegularPlural(gvk.Kind)}
	if resources, err := cfg.GetResources(); err == nil {
		for _, r := range resources {
			if r.Group == gvk.Group && r.Version == gvk.Version && r.Kind == gvk.Kind {
				r := r.Copy()
				res = &r
				break
			}
		}
	}
	if !doAPI {
		res.API = nil
	}
	if !doController {
		res.Controller = false
		res.Controllers = nil
	}
	return res
}
