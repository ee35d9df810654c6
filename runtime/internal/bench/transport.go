package bench

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// Request identifies a kind of API request as the API server's
// apiserver_request_total metric does (verb, group, resource, subresource),
// plus the namespace and name from the URL and the response code.
type Request struct {
	// Verb is the API server's verb: GET, LIST, WATCH, CREATE, UPDATE, PATCH,
	// APPLY, DELETE or DELETECOLLECTION.
	Verb        string `json:"verb"`
	Group       string `json:"group,omitempty"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	// Code is the HTTP status code, or 0 when no response arrived.
	Code int `json:"code"`
	// Reason is the Status reason of a 409 response: Conflict or
	// AlreadyExists.
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

// Counted is a Request and how many times it was made.
type Counted struct {
	Request
	N int `json:"n"`
}

// Counter counts the requests made through the configs it wraps, by Request.
// It is safe for concurrent use.
type Counter struct {
	mu     sync.Mutex
	counts map[Request]int
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter { return &Counter{counts: map[Request]int{}} }

// Wrap returns a copy of cfg whose requests c counts.
func (c *Counter) Wrap(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return countingTransport{next: rt, counter: c}
	})
	return out
}

// Reset forgets everything counted so far.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = map[Request]int{}
}

// Snapshot returns the counts, sorted for stable output.
func (c *Counter) Snapshot() []Counted {
	c.mu.Lock()
	out := make([]Counted, 0, len(c.counts))
	for r, n := range c.counts {
		out = append(out, Counted{Request: r, N: n})
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Counted) int { return strings.Compare(a.key(), b.key()) })
	return out
}

func (c Counted) key() string {
	return strings.Join([]string{c.Verb, c.Group, c.Resource, c.Subresource, c.Namespace, c.Name, strconv.Itoa(c.Code), c.Reason}, "|")
}

func (c *Counter) add(r Request) {
	c.mu.Lock()
	c.counts[r]++
	c.mu.Unlock()
}

type countingTransport struct {
	next    http.RoundTripper
	counter *Counter
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := Classify(req)
	resp, err := t.next.RoundTrip(req)
	if resp != nil {
		r.Code = resp.StatusCode
		if resp.StatusCode == http.StatusConflict {
			r.Reason = conflictReason(resp)
		}
	}
	t.counter.add(r)
	return resp, err
}

// conflictReason reads the reason of a 409 response's Status body and
// puts the body back for the client. A 409 body is a small Status object.
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

// Classify turns an HTTP request to the API server into a Request (without
// its code). Non-resource requests (/metrics, /version, discovery) get the
// resource "" and their method as verb.
func Classify(req *http.Request) Request {
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
	switch req.Method {
	case http.MethodGet:
		switch {
		case req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1":
			r.Verb = "WATCH"
		case r.Name == "":
			r.Verb = "LIST"
		default:
			r.Verb = "GET"
		}
	case http.MethodPost:
		r.Verb = "CREATE"
	case http.MethodPut:
		r.Verb = "UPDATE"
	case http.MethodPatch:
		r.Verb = "PATCH"
		if strings.HasPrefix(req.Header.Get("Content-Type"), "application/apply-patch") {
			r.Verb = "APPLY"
		}
	case http.MethodDelete:
		r.Verb = "DELETE"
		if r.Name == "" {
			r.Verb = "DELETECOLLECTION"
		}
	}
	return r
}
