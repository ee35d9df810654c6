package e2e

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// skipEnv is the one way to skip the suite, for local iteration.
const skipEnv = "OPBUILDER_SKIP_E2E"

func TestE2E(t *testing.T) {
	if os.Getenv(skipEnv) != "" {
		t.Skipf("%s is set: skipping the end-to-end suite", skipEnv)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "opbuilder end-to-end suite")
}
