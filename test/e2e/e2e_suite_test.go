package e2e

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// skipEnv is the one way to skip the suite, for local iteration.
const skipEnv = "OPBUILDER_SKIP_E2E"

func TestE2E(t *testing.T) {
	if os.Getenv(skipEnv) != "" {
		t.Skipf("%s is set: skipping the end-to-end suite", skipEnv)
	}
	RegisterFailHandler(Fail)
	// envtest, inside the control plane the suite starts, logs through
	// controller-runtime's logger.
	logf.SetLogger(GinkgoLogr)
	RunSpecs(t, "opbuilder end-to-end suite")
}
