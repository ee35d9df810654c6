package scaffolds

import (
	"strings"
	"testing"
)

func TestRequireRuntime(t *testing.T) {
	gomod := []byte("module example.com/x\n\n// The Go version.\ngo 1.26.0\n\nrequire sigs.k8s.io/controller-runtime v0.25.0\n")
	out, err := requireRuntime(gomod, "v0.0.0", "../runtime")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"// The Go version.",
		"sigs.k8s.io/controller-runtime v0.25.0",
		"github.com/opbuilder/opbuilder/runtime v0.0.0",
		"replace github.com/opbuilder/opbuilder/runtime => ../runtime",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, out)
		}
	}
	if _, err := requireRuntime([]byte("this is not go.mod"), "v0.0.0", ""); err == nil {
		t.Error("a broken go.mod was accepted")
	}
}

func TestUseKubebuilderAssets(t *testing.T) {
	makefile := "all: build\n\n.PHONY: test\n" + envtestTestTarget + "\nbuild:\n"
	out, err := useTestBinaries(makefile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, envtestTestTarget) || !strings.Contains(out, assetsTestTarget) {
		t.Errorf("the test target was not replaced:\n%s", out)
	}
	if !strings.HasPrefix(out, "all: build\n\n.PHONY: test\n") || !strings.HasSuffix(out, "\nbuild:\n") {
		t.Errorf("the rest of the Makefile changed:\n%s", out)
	}
	again, err := useTestBinaries(out)
	if err != nil || again != out {
		t.Errorf("a second pass changed the Makefile (%v)", err)
	}
	if _, err := useTestBinaries("test:\n\tgo test ./...\n"); err == nil ||
		!strings.Contains(err.Error(), "test target is not the one") {
		t.Errorf("an unknown test target gave %v", err)
	}
}
