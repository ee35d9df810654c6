package scenario

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// ---- Namespace-scoped: an operator that serves one namespace ----

// ForbiddenRequests returns the requests of the operator since since that
// the API server refused as Forbidden. An operator granted its rules in
// WatchNamespace only gets one for every request at the cluster scope or in
// another namespace, so none means it kept to its namespace.
func (s *Scenario) ForbiddenRequests(since time.Time) ([]testcluster.AuditEvent, error) {
	return s.Cluster.AuditEvents(func(e testcluster.AuditEvent) bool {
		return e.User.Username == s.Identity.Username && !e.StageTimestamp.Time.Before(since) &&
			e.ResponseStatus != nil && e.ResponseStatus.Code == http.StatusForbidden
	})
}

// ForbiddenInLog returns the lines of the operator's log that mention
// "forbidden": client-go's reflectors log a refused list or watch there and
// retry it for ever, without failing a reconcile.
func (s *Scenario) ForbiddenInLog() ([]string, error) {
	f, err := os.Open(s.OperatorLog())
	if err != nil {
		return nil, fmt.Errorf("reading the operator log: %w", err)
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if strings.Contains(strings.ToLower(sc.Text()), "forbidden") {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the operator log: %w", err)
	}
	return out, nil
}

// CheckNeverForbidden returns a permanent error that lists every request of
// the operator the API server refused as Forbidden since since, with its
// URI (a cluster-wide list names no namespace), and every log line that
// mentions one; nil when there are none.
func (s *Scenario) CheckNeverForbidden(since time.Time) error {
	refused, err := s.ForbiddenRequests(since)
	if err != nil {
		return err
	}
	lines, err := s.ForbiddenInLog()
	if err != nil {
		return err
	}
	if len(refused) == 0 && len(lines) == 0 {
		return nil
	}
	var report []string
	for _, e := range refused {
		report = append(report, fmt.Sprintf("%s: %s", e, e.RequestURI))
	}
	return permanent("%s was refused %d requests:\n  %s\nits log:\n  %s", s.Identity.Username, len(refused),
		strings.Join(firstOf(report, 10), "\n  "), strings.Join(firstOf(lines, 5), "\n  "))
}

// firstOf keeps the first n of lines, saying how many more there were: a
// refused watch is retried every second or so.
func firstOf(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], fmt.Sprintf("... and %d more", len(lines)-n))
}

// CreateOutsider creates, as a user would, a CR from the project's sample in
// namespace, creating the namespace first: a CR of the operator's kind that
// an operator serving other namespaces must not act on.
func (s *Scenario) CreateOutsider(ctx context.Context, namespace string) (*Instance, types.UID, error) {
	if err := s.Cluster.ensureNamespace(ctx, namespace); err != nil {
		return nil, "", err
	}
	other := &Instance{Cluster: s.Cluster, Operator: s.Operator, Namespace: namespace}
	u, err := other.ReadSample(s.SamplePath())
	if err != nil {
		return nil, "", err
	}
	if err := other.Create(ctx, u); err != nil {
		return nil, "", err
	}
	uid, err := other.UID(ctx)
	return other, uid, err
}

// CheckLeftAlone returns nil when the operator has left the CR other (with
// the given UID) alone: it has no children, no finalizer, no status and no
// events, and the audit log holds no request of the operator in its
// namespace since since. Anything else is a permanent failure: what the
// operator did to it stays done.
func (s *Scenario) CheckLeftAlone(ctx context.Context, other *Instance, uid types.UID, since time.Time) error {
	where := fmt.Sprintf("%s %s/%s", s.Operator.Kind, other.Namespace, other.Name)
	children, err := ListChildren(ctx, s.Cluster.Client, other.Namespace, uid)
	if err != nil {
		return err
	}
	if len(children) > 0 {
		return permanent("the operator made children for %s:\n  %s", where, strings.Join(children.Names(), "\n  "))
	}
	u, err := other.Get(ctx)
	if err != nil {
		return err
	}
	if f := u.GetFinalizers(); len(f) > 0 {
		return permanent("%s got finalizers %v", where, f)
	}
	_, st, err := other.ReadStatus(ctx)
	if err != nil {
		return err
	}
	if st.ObservedGeneration != 0 || len(st.Conditions) > 0 || len(st.NodeTypes) > 0 || len(st.Inventory) > 0 {
		return permanent("%s got a status: %+v", where, *st)
	}
	events, err := EventsOn(ctx, s.Cluster.Client, other.Namespace, uid)
	if err != nil {
		return err
	}
	if len(events) > 0 {
		return permanent("events were recorded on %s:\n  %s", where, strings.Join(describeEvents(events), "\n  "))
	}
	return s.checkNoRequestsIn(other.Namespace, since)
}

// checkNoRequestsIn returns a permanent error when the audit log holds a
// request of the operator, a read included, in namespace since since.
func (s *Scenario) checkNoRequestsIn(namespace string, since time.Time) error {
	requests, err := s.Cluster.RequestsBy(s.Identity.Username, since)
	if err != nil {
		return err
	}
	var in []string
	for _, e := range requests {
		if e.ObjectRef != nil && e.ObjectRef.Namespace == namespace {
			in = append(in, e.String())
		}
	}
	if len(in) > 0 {
		return permanent("the operator made requests in namespace %s, which it does not serve:\n  %s", namespace, strings.Join(in, "\n  "))
	}
	return nil
}
