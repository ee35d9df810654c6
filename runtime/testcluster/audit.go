package testcluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// auditPolicy records every request once, when it has finished, at metadata
// level: no request or response bodies, so Secret and ConfigMap contents
// never reach the log.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

// AuditEvent is one line of the kube-apiserver audit log, reduced to the
// fields tests look at. The full type lives in k8s.io/apiserver, a module
// far too large to import for a handful of JSON fields.
type AuditEvent struct {
	// Stage is ResponseComplete for an ordinary request; a watch is logged
	// at ResponseStarted and again at ResponseComplete when it ends.
	Stage string `json:"stage"`
	// Verb is the Kubernetes verb: get, list, watch, create, update, patch
	// (server-side apply included), delete or deletecollection.
	Verb string `json:"verb"`
	// RequestURI is the path and query of the request.
	RequestURI string `json:"requestURI"`
	// User is who made the request.
	User AuditUser `json:"user"`
	// UserAgent is the client's User-Agent header.
	UserAgent string `json:"userAgent"`
	// ObjectRef is the object the request addressed, when it addressed one.
	ObjectRef *AuditObjectRef `json:"objectRef,omitempty"`
	// ResponseStatus holds the response code, when there was a response.
	ResponseStatus *metav1.Status `json:"responseStatus,omitempty"`
	// StageTimestamp is when the request reached Stage.
	StageTimestamp metav1.MicroTime `json:"stageTimestamp"`
}

// AuditUser is the authenticated user of an audited request.
type AuditUser struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
}

// AuditObjectRef names the object of an audited request.
type AuditObjectRef struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

// writeVerbs are the verbs that change state.
var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

// IsWrite reports whether the request could change state.
func (e AuditEvent) IsWrite() bool { return slices.Contains(writeVerbs, e.Verb) }

// String renders the request for assertion messages, e.g.
// "patch apps/statefulsets default/demo-historical-hot (200)".
func (e AuditEvent) String() string {
	what := e.RequestURI
	if r := e.ObjectRef; r != nil {
		what = r.Resource
		if r.APIGroup != "" {
			what = r.APIGroup + "/" + what
		}
		if r.Subresource != "" {
			what += "/" + r.Subresource
		}
		what += " " + r.Namespace + "/" + r.Name
	}
	code := int32(0)
	if e.ResponseStatus != nil {
		code = e.ResponseStatus.Code
	}
	return fmt.Sprintf("%s %s (%d)", e.Verb, what, code)
}

func (c *Cluster) configureAuditLog() error {
	policy := filepath.Join(c.dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return fmt.Errorf("testcluster: writing audit policy: %w", err)
	}
	c.AuditLogPath = filepath.Join(c.dir, "audit.log")
	args := c.env.ControlPlane.GetAPIServer().Configure()
	args.Set("audit-policy-file", policy)
	args.Set("audit-log-path", c.AuditLogPath)
	args.Set("audit-log-format", "json")
	// Blocking: an event is in the file before the response is sent, so a
	// test that reads the log after a request has returned sees it.
	args.Set("audit-log-mode", "blocking")
	// Never rotate: kube-apiserver rotates at 100 MB by default, and
	// AuditEvents reads only the current file, so a long test would silently
	// miss the events of the rotated part.
	args.Set("audit-log-maxsize", "1000000")
	return nil
}

// AuditEvents reads the audit log and returns the events for which keep
// returns true (every event when keep is nil), oldest first. It fails when
// the cluster was started without WithAuditLog.
func (c *Cluster) AuditEvents(keep func(AuditEvent) bool) ([]AuditEvent, error) {
	if c.AuditLogPath == "" {
		return nil, errors.New("testcluster: no audit log; start the cluster with WithAuditLog")
	}
	f, err := os.Open(c.AuditLogPath)
	if err != nil {
		return nil, fmt.Errorf("testcluster: opening audit log: %w", err)
	}
	defer func() { _ = f.Close() }()

	var (
		out     []AuditEvent
		lineErr error // a line that did not parse; only the last may be partial
		line    int
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line++
		if lineErr != nil {
			return nil, lineErr
		}
		var e AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			lineErr = fmt.Errorf("testcluster: audit log line %d: %w", line, err)
			continue
		}
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("testcluster: reading audit log: %w", err)
	}
	// A bad last line is one the API server is still writing: skip it.
	return out, nil
}
