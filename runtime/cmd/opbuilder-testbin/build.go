package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// builder builds the binaries of one set of versions into assets, using
// scratch modules under work.
type builder struct {
	versions
	assets string
	work   string
}

// buildAll builds whatever is missing or at another version, then installs
// the kwok stages, which is cheap and so always done.
func (b *builder) buildAll() error {
	for _, step := range []func() error{b.buildEtcd, b.buildKubernetes, b.buildKwok, b.installKwokStages} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// hasVersion reports whether the binary bin exists in the assets directory
// and the output of running it with args contains want.
func (b *builder) hasVersion(bin, want string, args ...string) bool {
	path := filepath.Join(b.assets, bin)
	if _, err := os.Stat(path); err != nil {
		return false
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	return err == nil && versionMatches(string(out), want)
}

// versionMatches reports whether a binary's version output names want.
func versionMatches(out, want string) bool {
	return want != "" && strings.Contains(out, want)
}

// buildEtcd builds etcd's server, which `etcd --version` reports without
// the leading v.
func (b *builder) buildEtcd() error {
	if b.hasVersion("etcd", strings.TrimPrefix(b.Etcd, "v"), "--version") {
		return nil
	}
	log.Printf("building etcd %s (about a minute on a cold cache)", b.Etcd)
	dir, err := b.scratch("etcd")
	if err != nil {
		return err
	}
	const pkg = "go.etcd.io/etcd/server/v3"
	if err := goCmd(dir, "get", pkg+"@"+b.Etcd); err != nil {
		return err
	}
	return goCmd(dir, "build", "-trimpath", "-o", filepath.Join(b.assets, "etcd"), pkg)
}

// kubernetesBinaries are the binaries built from k8s.io/kubernetes/cmd/...,
// each with the arguments that print its version.
var kubernetesBinaries = []struct {
	name string
	args []string
}{
	{"kube-apiserver", []string{"--version"}},
	{"kube-controller-manager", []string{"--version"}},
	{"kube-scheduler", []string{"--version"}},
	{"kubectl", []string{"version", "--client"}},
}

// buildKubernetes builds the Kubernetes binaries not yet at K8s, in one go
// build so shared packages compile once.
func (b *builder) buildKubernetes() error {
	var pkgs []string
	for _, bin := range kubernetesBinaries {
		if !b.hasVersion(bin.name, b.K8s, bin.args...) {
			pkgs = append(pkgs, "k8s.io/kubernetes/cmd/"+bin.name)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	log.Printf("building %s %s (several minutes on a cold cache)", strings.Join(pkgs, " "), b.K8s)
	dir, err := b.scratch("kubernetes")
	if err != nil {
		return err
	}
	if err := b.pinStaging(dir); err != nil {
		return err
	}
	get := []string{"get"}
	for _, p := range pkgs {
		get = append(get, p+"@"+b.K8s)
	}
	// go get can refuse what go mod tidy then resolves (the staging replaces
	// confuse its upgrade logic), as the shell script always allowed.
	if err := goCmd(dir, get...); err != nil {
		if err := goCmd(dir, "mod", "tidy"); err != nil {
			return err
		}
	}
	build := []string{"build", "-trimpath", "-tags", "selinux,notest,grpcnotrace",
		"-ldflags", "-s -w " + versionLdflags(b.K8s), "-o", b.assets + string(filepath.Separator)}
	return goCmd(dir, append(build, pkgs...)...)
}

// pinStaging makes the scratch module in dir require k8s.io/kubernetes at
// K8s and each of its staging modules at K8sLib. k8s.io/kubernetes requires
// them at v0.0.0 and replaces them with local directories, which do not
// apply to a consumer, so a consumer must pin them itself.
func (b *builder) pinStaging(dir string) error {
	info, err := download(dir, "k8s.io/kubernetes@"+b.K8s)
	if err != nil {
		return err
	}
	gomod, err := os.ReadFile(info.GoMod)
	if err != nil {
		return fmt.Errorf("reading k8s.io/kubernetes's go.mod: %w", err)
	}
	var extra strings.Builder
	fmt.Fprintf(&extra, "require k8s.io/kubernetes %s\n", b.K8s)
	for _, m := range stagingModules(gomod) {
		fmt.Fprintf(&extra, "require %s %s\nreplace %s => %s %s\n", m, b.K8sLib, m, m, b.K8sLib)
	}
	f, err := os.OpenFile(filepath.Join(dir, "go.mod"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening the scratch go.mod: %w", err)
	}
	if _, err := f.WriteString(extra.String()); err != nil {
		_ = f.Close()
		return fmt.Errorf("pinning the staging modules: %w", err)
	}
	return f.Close()
}

// stagingModules returns, sorted and once each, the k8s.io modules a go.mod
// requires at v0.0.0: k8s.io/kubernetes's staging modules.
func stagingModules(gomod []byte) []string {
	var mods []string
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && strings.HasPrefix(f[0], "k8s.io/") && f[1] == "v0.0.0" {
			mods = append(mods, f[0])
		}
	}
	slices.Sort(mods)
	return slices.Compact(mods)
}

// versionLdflags sets the version the Kubernetes binaries report, which a
// build outside Kubernetes's own scripts leaves empty, so that --version
// names k8sVersion and the next run can skip them.
func versionLdflags(k8sVersion string) string {
	minor, _, _ := strings.Cut(strings.TrimPrefix(k8sVersion, "v1."), ".")
	var flags []string
	for _, p := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		flags = append(flags, "-X "+p+".gitVersion="+k8sVersion, "-X "+p+".gitMajor=1",
			"-X "+p+".gitMinor="+minor, "-X "+p+".gitTreeState=clean")
	}
	return strings.Join(flags, " ")
}

// buildKwok builds kwok, with the version it reports set the way kwok's
// own release does.
func (b *builder) buildKwok() error {
	if b.hasVersion("kwok", b.Kwok, "--version") {
		return nil
	}
	log.Printf("building kwok %s", b.Kwok)
	dir, err := b.scratch("kwok")
	if err != nil {
		return err
	}
	const pkg = "sigs.k8s.io/kwok/cmd/kwok"
	if err := goCmd(dir, "get", pkg+"@"+b.Kwok); err != nil {
		return err
	}
	ldflags := "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=" + strings.TrimPrefix(b.Kwok, "v")
	return goCmd(dir, "build", "-trimpath", "-ldflags", ldflags, "-o", filepath.Join(b.assets, "kwok"), pkg)
}

// kwokStages are the stage files, under kwok's kustomize/stage, that make
// fake nodes Ready and move pods through their lifecycle quickly ("fast"
// variants). They are listed by path so the installed set is exact.
var kwokStages = []string{
	"node/fast/node-initialize",
	"node/heartbeat/node-heartbeat",
	"pod/fast/pod-ready",
	"pod/fast/pod-complete",
	"pod/fast/pod-delete",
}

// installKwokStages copies kwokStages from the kwok module into
// assets/kwok-stages, replacing what was there.
func (b *builder) installKwokStages() error {
	info, err := download(b.work, "sigs.k8s.io/kwok@"+b.Kwok)
	if err != nil {
		return err
	}
	dst := filepath.Join(b.assets, "kwok-stages")
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("removing old kwok stages: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dst, err)
	}
	for _, s := range kwokStages {
		src := filepath.Join(info.Dir, "kustomize", "stage", filepath.FromSlash(s)+".yaml")
		if err := copyFile(src, filepath.Join(dst, filepath.Base(s)+".yaml")); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies src to dst with mode 0644.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening kwok stage: %w", err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return out.Close()
}

// scratch returns an empty scratch module named after name under the work
// directory, removing what an earlier build left.
func (b *builder) scratch(name string) (string, error) {
	dir := filepath.Join(b.work, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("removing %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	return dir, goCmd(dir, "mod", "init", "opbuilder.local/"+name+"-build")
}

// moduleInfo is the part of `go mod download -json` this command reads.
type moduleInfo struct {
	Dir   string
	GoMod string
}

// download fetches module@version into the module cache and returns where
// it is.
func download(dir, modVersion string) (moduleInfo, error) {
	out, err := goOutput(dir, "mod", "download", "-json", modVersion)
	if err != nil {
		return moduleInfo{}, err
	}
	var info moduleInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return moduleInfo{}, fmt.Errorf("reading go mod download's answer for %s: %w", modVersion, err)
	}
	if info.Dir == "" || info.GoMod == "" {
		return moduleInfo{}, fmt.Errorf("go mod download did not say where %s is", modVersion)
	}
	return info, nil
}

// goCmd runs the go command in dir, and on failure returns an error that
// carries its output.
func goCmd(dir string, args ...string) error {
	_, err := goOutput(dir, args...)
	return err
}

// goOutput runs the go command in dir and returns its stdout. The binaries
// are static (CGO_ENABLED=0) and the scratch modules stand alone
// (GOWORK=off), whatever workspace the caller runs in.
func goOutput(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	return out, nil
}
