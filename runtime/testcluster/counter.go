package testcluster

import (
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// RequestCounter counts the HTTP requests a client makes, by verb, so tests
// can assert, for example, that a steady-state reconcile wrote nothing, and
// the responses by status code, so they can assert that no write met a 409
// Conflict. Requests returns the same counts by API-server verb, resource
// and object, for measurements that compare with the server's metrics.
type RequestCounter struct {
	mu        sync.Mutex
	counts    map[string]int         // "VERB /path-without-query"
	responses map[int]map[string]int // status code -> "VERB /path" -> n
	requests  map[Request]int
}

// NewRequestCounter returns an empty counter.
func NewRequestCounter() *RequestCounter {
	return &RequestCounter{counts: map[string]int{}, responses: map[int]map[string]int{}, requests: map[Request]int{}}
}

// Wrap returns a copy of cfg whose requests the counter sees.
func (r *RequestCounter) Wrap(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			key := req.Method + " " + req.URL.Path
			r.mu.Lock()
			r.counts[key]++
			r.mu.Unlock()
			resp, err := rt.RoundTrip(req)
			r.record(key, classify(req), resp)
			return resp, err
		})
	})
	return out
}

// record counts a finished request: by c, its classification, completed
// with resp's code, and the response by key. resp is nil when none arrived.
func (r *RequestCounter) record(key string, c Request, resp *http.Response) {
	if resp != nil {
		c.Code = resp.StatusCode
		if resp.StatusCode == http.StatusConflict {
			c.Reason = conflictReason(resp)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests[c]++
	if resp == nil {
		return
	}
	if r.responses[resp.StatusCode] == nil {
		r.responses[resp.StatusCode] = map[string]int{}
	}
	r.responses[resp.StatusCode][key]++
}

// Count returns how many requests used the HTTP method (GET, POST, PUT,
// PATCH, DELETE) since the last Reset.
func (r *RequestCounter) Count(method string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, v := range r.counts {
		if strings.HasPrefix(k, method+" ") {
			n += v
		}
	}
	return n
}

// Writes returns the number of POST, PUT, PATCH and DELETE requests since the
// last Reset.
func (r *RequestCounter) Writes() int {
	return r.Count(http.MethodPost) + r.Count(http.MethodPut) + r.Count(http.MethodPatch) + r.Count(http.MethodDelete)
}

// WriteRequests lists the write requests since the last Reset as sorted
// "VERB path xN" lines, for assertion messages.
func (r *RequestCounter) WriteRequests() []string {
	return countLines(r.Snapshot(), func(k string) bool { return !strings.HasPrefix(k, "GET ") })
}

// countLines renders the counts whose key keep accepts as sorted
// "VERB path xN" lines.
func countLines(counts map[string]int, keep func(key string) bool) []string {
	var out []string
	for k, v := range counts {
		if keep(k) {
			out = append(out, k+" x"+strconv.Itoa(v))
		}
	}
	sort.Strings(out)
	return out
}

// Snapshot returns a copy of the counts keyed by "VERB path".
func (r *RequestCounter) Snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

// Responses returns, as sorted "VERB path xN" lines, the requests since the
// last Reset that the API server answered with the HTTP status code, for
// example http.StatusConflict (409: a Conflict on an update or patch, or
// AlreadyExists on a create). Watch requests count once, when they start.
func (r *RequestCounter) Responses(code int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return countLines(r.responses[code], func(string) bool { return true })
}

// Requests returns a copy of the counts since the last Reset by Request:
// API-server verb, resource, object and response. A request is counted
// there when its response arrives (or fails to), so a watch counts when it
// starts and one still waiting for its response is not counted yet.
func (r *RequestCounter) Requests() map[Request]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.requests)
}

// Reset forgets every request and response counted so far.
func (r *RequestCounter) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = map[string]int{}
	r.responses = map[int]map[string]int{}
	r.requests = map[Request]int{}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
