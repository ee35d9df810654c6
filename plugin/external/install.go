package external

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opbuilder/opbuilder/plugin"
)

// Environment variables kubebuilder reads to find external plugins.
const (
	// PluginsPathEnv, when set, is the directory kubebuilder looks in.
	PluginsPathEnv = "EXTERNAL_PLUGINS_PATH"
	// ConfigHomeEnv is the XDG configuration directory.
	ConfigHomeEnv = "XDG_CONFIG_HOME"
)

// InstallPath returns where kubebuilder v4 looks for the opbuilder/v1
// external plugin: <root>/opbuilder/v1/opbuilder, with root
// $EXTERNAL_PLUGINS_PATH, else $XDG_CONFIG_HOME/kubebuilder/plugins, else the
// user's configuration directory (~/.config on Linux, ~/Library/Application
// Support on macOS) plus kubebuilder/plugins. getenv reads the environment.
func InstallPath(getenv func(string) string) (string, error) {
	leaf := filepath.Join(plugin.Name, "v1", plugin.Name)
	if root := getenv(PluginsPathEnv); root != "" {
		return filepath.Join(root, leaf), nil
	}
	if xdg := getenv(ConfigHomeEnv); xdg != "" {
		return filepath.Join(xdg, "kubebuilder", "plugins", leaf), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("cannot find the plugin directory: set HOME, " + ConfigHomeEnv + " or " + PluginsPathEnv)
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Application Support", "kubebuilder", "plugins", leaf), nil
	case "linux":
		return filepath.Join(home, ".config", "kubebuilder", "plugins", leaf), nil
	default:
		return "", fmt.Errorf("kubebuilder supports external plugins on linux and darwin only, not %s", runtime.GOOS)
	}
}

// Install copies the executable at src to dst, creating dst's directory.
// The copy is written next to dst and renamed into place, so kubebuilder
// never runs a half-written plugin.
func Install(src, dst string) (err error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(dst), err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer func() { _ = in.Close() }()

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+"-*")
	if err != nil {
		return fmt.Errorf("creating a file next to %s: %w", dst, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, in); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("copying %s to %s: %w", src, tmp.Name(), err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("making %s executable: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("moving the plugin into %s: %w", dst, err)
	}
	return nil
}
