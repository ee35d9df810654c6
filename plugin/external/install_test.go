package external

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestInstallPathFollowsKubebuilderDiscovery(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"EXTERNAL_PLUGINS_PATH first", map[string]string{
			"EXTERNAL_PLUGINS_PATH": "/plugins", "XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u",
		}, "/plugins/opbuilder/v1/opbuilder"},
		{"then XDG_CONFIG_HOME", map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"},
			"/xdg/kubebuilder/plugins/opbuilder/v1/opbuilder"},
	}
	if runtime.GOOS == "linux" {
		tests = append(tests, struct {
			name string
			vars map[string]string
			want string
		}{"then ~/.config", map[string]string{"HOME": "/home/u"},
			"/home/u/.config/kubebuilder/plugins/opbuilder/v1/opbuilder"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InstallPath(env(tc.vars))
			if err != nil || got != tc.want {
				t.Errorf("InstallPath() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := InstallPath(env(nil)); err == nil {
		t.Error("InstallPath without HOME succeeded")
	}
}

func TestInstallCopiesAnExecutable(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "kubebuilder-opbuilder")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho plugin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "plugins", "opbuilder", "v1", "opbuilder")
	for range 2 { // installing again replaces the plugin
		if err := Install(src, dst); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o111 == 0 {
		t.Errorf("the plugin is not executable: %v", info.Mode())
	}
	if b, _ := os.ReadFile(dst); string(b) != "#!/bin/sh\necho plugin\n" {
		t.Errorf("the plugin holds %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("the plugin directory holds %d entries, want only the plugin", len(entries))
	}
}
