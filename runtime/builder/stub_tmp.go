package builder

import (
	"context"
	"errors"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Temporary: replaced by the implementation in the next commit.
func (b *Builder) reconcile(context.Context, client.Object) (Result, error) {
	return Result{}, errors.New("builder: not implemented yet")
}
func (b *Builder) reconcileAll(context.Context) ([]Result, error) {
	return nil, errors.New("builder: not implemented yet")
}
func validateOwner(client.Object) error { return nil }
func (b *Builder) validateLabels() error { return nil }
