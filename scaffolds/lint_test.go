package scaffolds

import (
	"os"
	"strings"
	"testing"
)

func TestLintOffline(t *testing.T) {
	var stock strings.Builder
	for _, e := range offlineLintEdits {
		stock.WriteString(e.stock + "\n# between\n")
	}
	out, err := lintOffline(stock.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range offlineLintEdits {
		if !strings.Contains(out, e.opbuilder) {
			t.Errorf("the Makefile lacks\n%s", e.opbuilder)
		}
	}
	if strings.Contains(out, "custom --destination") || strings.Count(out, "# between\n") != len(offlineLintEdits) {
		t.Errorf("the Makefile still builds a custom golangci-lint, or lost a line:\n%s", out)
	}
	if again, err := lintOffline(out); err != nil || again != out {
		t.Errorf("a second pass changed the Makefile (%v)", err)
	}

	for name, makefile := range map[string]string{
		"without go/v4's lint target": strings.Replace(stock.String(), offlineLintEdits[0].stock, "lint:\n", 1),
		"half edited":                 strings.Replace(stock.String(), offlineLintEdits[0].stock, offlineLintEdits[0].opbuilder, 1),
	} {
		if _, err := lintOffline(makefile); err == nil || !strings.Contains(err.Error(), "cannot make `make lint` work offline") {
			t.Errorf("a Makefile %s gave %v", name, err)
		}
	}
}

// TestLinterVersionsArePinnedInVersionsEnv keeps the versions scaffolded
// projects install in step with hack/versions.env, where this repository
// pins every version.
func TestLinterVersionsArePinnedInVersionsEnv(t *testing.T) {
	env, err := os.ReadFile("../hack/versions.env")
	if err != nil {
		t.Fatal(err)
	}
	pinned := map[string]string{}
	for line := range strings.Lines(string(env)) {
		if key, value, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(key, "#") {
			pinned[key] = value
		}
	}
	for key, want := range map[string]string{
		"GOLANGCI_LINT_VERSION": GolangciLintVersion,
		"LOGCHECK_VERSION":      LogcheckVersion,
	} {
		if pinned[key] != want {
			t.Errorf("hack/versions.env pins %s=%s, the scaffolded Makefile %s", key, pinned[key], want)
		}
	}
}
