package bench

import (
	"fmt"

	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
)

// NewScheme returns a scheme with client-go's types and the test CRD.
func NewScheme() (*kruntime.Scheme, error) {
	s := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("bench: scheme: %w", err)
	}
	if err := testapiv1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("bench: scheme: %w", err)
	}
	return s, nil
}
