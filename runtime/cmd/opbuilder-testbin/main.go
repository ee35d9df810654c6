package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"syscall"
)

// The versions built when neither a flag nor the environment names one.
// TestDefaultsMatchVersionsEnv keeps them equal to hack/versions.env.
const (
	defaultK8sVersion    = "v1.37.2"
	defaultK8sLibVersion = "v0.37.2"
	defaultEtcdVersion   = "v3.7.3"
	defaultKwokVersion   = "v0.8.0"
)

// versions are the releases of the binaries to build.
type versions struct {
	// K8s is the k8s.io/kubernetes version (v1.x.y).
	K8s string
	// K8sLib is the version of its staging modules (v0.x.y), which
	// k8s.io/kubernetes requires at v0.0.0 and a consumer must pin.
	K8sLib string
	// Etcd is the go.etcd.io/etcd/server/v3 version.
	Etcd string
	// Kwok is the sigs.k8s.io/kwok version.
	Kwok string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("opbuilder-testbin: ")
	if err := run(os.Args[1:], os.Getenv, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run parses args, builds what is missing under the cache and prints
// KUBEBUILDER_ASSETS=<dir> to stdout.
func run(args []string, getenv func(string) string, stdout io.Writer) error {
	v, err := parseFlags(args, getenv)
	if err != nil {
		return err
	}
	root, err := cacheRoot(getenv)
	if err != nil {
		return err
	}
	b := &builder{versions: v, assets: assetsDir(root, v), work: filepath.Join(root, "work")}
	for _, dir := range []string{b.assets, b.work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	unlock, err := lock(filepath.Join(root, ".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if err := b.buildAll(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "KUBEBUILDER_ASSETS=%s\n", b.assets)
	return err
}

// parseFlags returns the versions named by args, defaulting to the
// environment and then to the built-in defaults.
func parseFlags(args []string, getenv func(string) string) (versions, error) {
	var v versions
	fs := flag.NewFlagSet("opbuilder-testbin", flag.ContinueOnError)
	fs.StringVar(&v.K8s, "k8s-version", envOr(getenv, "K8S_VERSION", defaultK8sVersion),
		"k8s.io/kubernetes version (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)")
	fs.StringVar(&v.K8sLib, "k8s-lib-version", envOr(getenv, "K8S_LIB_VERSION", defaultK8sLibVersion),
		"version of the Kubernetes staging modules (k8s.io/api and friends) matching -k8s-version")
	fs.StringVar(&v.Etcd, "etcd-version", envOr(getenv, "ETCD_VERSION", defaultEtcdVersion), "etcd version")
	fs.StringVar(&v.Kwok, "kwok-version", envOr(getenv, "KWOK_VERSION", defaultKwokVersion), "kwok version")
	if err := fs.Parse(args); err != nil {
		return versions{}, fmt.Errorf("parsing flags: %w", err)
	}
	if fs.NArg() > 0 {
		return versions{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return v, nil
}

// envOr returns the environment variable key, or def when it is unset or
// empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// cacheRoot returns ${OPBUILDER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opbuilder},
// the same directory hack/test-binaries.sh always used, so both share one
// cache.
func cacheRoot(getenv func(string) string) (string, error) {
	if dir := getenv("OPBUILDER_CACHE_DIR"); dir != "" {
		return dir, nil
	}
	if xdg := getenv("XDG_CACHE_HOME"); xdg != "" {
		return filepath.Join(xdg, "opbuilder"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("none of OPBUILDER_CACHE_DIR, XDG_CACHE_HOME and HOME is set")
	}
	return filepath.Join(home, ".cache", "opbuilder"), nil
}

// assetsDir is the directory of one set of versions under the cache root;
// the name carries every version so sets never mix.
func assetsDir(root string, v versions) string {
	return filepath.Join(root, "assets", fmt.Sprintf("k8s-%s_etcd-%s_kwok-%s", v.K8s, v.Etcd, v.Kwok))
}

// lock takes an exclusive flock of path, waiting for other runs to release
// it: two runs at once would race on the same files. The returned func
// releases it.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}
