package testcluster

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// Request is one kind of API request as kube-apiserver's
// apiserver_request_total metric names it (verb, group, resource,
// subresource), plus the namespace and name from the URL and the response,
// so that counts taken at a client can be compared with the server's and
// told apart by object. It is comparable, for use as a map key, and its JSON
// form is stable, for counts that cross a process boundary.
type Request struct {
	// Verb is the API server's verb: GET, LIST, WATCH, CREATE, UPDATE, PATCH,
	// APPLY, DELETE or DELETECOLLECTION. Requests outside the resource API
	// (discovery, /version, /metrics) keep their HTTP method and have no
	// Resource.
	Verb        string `json:"verb"`
	Group       string `json:"group,omitempty"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	// Code is the HTTP status code, or 0 when no response arrived.
	Code int `json:"code"`
	// Reason is the Status reason of a 409 response: Conflict (an update or
	// patch lost a race) or AlreadyExists (a create did).
	Reason string `json:"reason,omitempty"`
}

// IsWrite reports whether the request changes state.
func (r Request) IsWrite() bool {
	switch r.Verb {
	case "CREATE", "UPDATE", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
		return true
	}
	return false
}

// classify names an HTTP request to the API server as a Request, without
// its response.
func classify(req *http.Request) Request {
	r := Request{Verb: req.Method}
	segs := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var rest []string
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		rest = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		r.Group = segs[1]
		rest = segs[3:]
	default:
		return r
	}
	if len(rest) >= 3 && rest[0] == "namespaces" {
		r.Namespace = rest[1]
		rest = rest[2:]
	}
	if len(rest) == 0 {
		return r // discovery of a group version
	}
	r.Resource = rest[0]
	if len(rest) >= 2 {
		r.Name = rest[1]
	}
	if len(rest) >= 3 {
		r.Subresource = rest[2]
	}
	if r.Resource == "namespaces" && r.Namespace == "" && r.Name != "" {
		r.Namespace = r.Name
	}
	r.Verb = serverVerb(req, r.Name)
	return r
}

// serverVerb turns the HTTP method of a resource request into the API
// server's verb, which also tells lists from watches and gets, and
// server-side applies from other patches.
func serverVerb(req *http.Request, name string) string {
	switch req.Method {
	case http.MethodGet:
		if w := req.URL.Query().Get("watch"); w == "true" || w == "1" {
			return "WATCH"
		}
		if name == "" {
			return "LIST"
		}
		return "GET"
	case http.MethodPost:
		return "CREATE"
	case http.MethodPut:
		return "UPDATE"
	case http.MethodPatch:
		if strings.HasPrefix(req.Header.Get("Content-Type"), "application/apply-patch") {
			return "APPLY"
		}
		return "PATCH"
	case http.MethodDelete:
		if name == "" {
			return "DELETECOLLECTION"
		}
		return "DELETE"
	}
	return req.Method
}

// conflictReason reads the reason of a 409 response's Status body and puts
// the body back for the client. A 409 body is a small Status object.
func conflictReason(resp *http.Response) string {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "unreadable"
	}
	// The body is JSON or, for clients that ask for it, protobuf; the
	// universal deserializer reads both.
	obj, _, err := clientgoscheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		return "unknown"
	}
	status, ok := obj.(*metav1.Status)
	if !ok || status.Reason == "" {
		return "unknown"
	}
	return string(status.Reason)
}
