package builder

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// configWriteError is the error of a failed write of a ConfigMap or Secret.
// The API server's message is left out of its text: validation messages,
// and those of admission webhooks and policies, can quote keys and values,
// and the error ends up in the operator's log (controller-runtime logs what
// Reconcile returns). Its reason and code say what kind of failure it was,
// and Unwrap keeps apierrors' helpers (IsConflict, IsInvalid, ...) working.
type configWriteError struct {
	err error
}

func (e *configWriteError) Error() string {
	var status apierrors.APIStatus
	if errors.As(e.err, &status) {
		s := status.Status()
		return fmt.Sprintf("the API server refused the write: %s (%d); its message is not shown, as it may quote the object's data", s.Reason, s.Code)
	}
	return "the write failed; the error is not shown, as it may quote the object's data"
}

func (e *configWriteError) Unwrap() error { return e.err }

// redact returns err, or for a ConfigMap or Secret an error that does not
// quote the API server's message.
func redact(p *prepared, err error) error {
	if err == nil || !isConfig(p.gvk) {
		return err
	}
	var already *configWriteError
	if errors.As(err, &already) {
		return err
	}
	return &configWriteError{err: err}
}
