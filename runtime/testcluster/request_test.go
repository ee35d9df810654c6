package testcluster

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// TestClassify checks that requests are named the way kube-apiserver's
// apiserver_request_total names them, so that counts taken at a client's
// transport can be compared with the server's.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		method, url, contentType string
		want                     Request
	}{
		{http.MethodPatch, "https://api/apis/apps/v1/namespaces/demo/deployments/web", "application/apply-patch+yaml",
			Request{Verb: "APPLY", Group: "apps", Resource: "deployments", Namespace: "demo", Name: "web"}},
		{http.MethodPut, "https://api/api/v1/namespaces/demo/services/web", "",
			Request{Verb: "UPDATE", Resource: "services", Namespace: "demo", Name: "web"}},
		{http.MethodGet, "https://api/api/v1/namespaces/demo/configmaps?watch=true", "",
			Request{Verb: "WATCH", Resource: "configmaps", Namespace: "demo"}},
		{http.MethodGet, "https://api/api/v1/namespaces/demo/configmaps", "",
			Request{Verb: "LIST", Resource: "configmaps", Namespace: "demo"}},
		{http.MethodPatch, "https://api/apis/test.opbuilder.io/v1/namespaces/demo/clusters/c/status", "application/merge-patch+json",
			Request{Verb: "PATCH", Group: "test.opbuilder.io", Resource: "clusters", Subresource: "status", Namespace: "demo", Name: "c"}},
		{http.MethodDelete, "https://api/api/v1/namespaces/demo/pods", "",
			Request{Verb: "DELETECOLLECTION", Resource: "pods", Namespace: "demo"}},
		{http.MethodGet, "https://api/api/v1/namespaces/demo", "",
			Request{Verb: "GET", Resource: "namespaces", Namespace: "demo", Name: "demo"}},
		{http.MethodGet, "https://api/version", "", Request{Verb: http.MethodGet}},
	} {
		req, err := http.NewRequest(tc.method, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tc.contentType)
		if got := classify(req); got != tc.want {
			t.Errorf("%s %s = %+v, want %+v", tc.method, tc.url, got, tc.want)
		}
	}
}

// TestRequestsReadsConflictReason checks that a 409 is counted with the
// reason from its Status body and that the client still reads that body.
func TestRequestsReadsConflictReason(t *testing.T) {
	const status = `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","code":409}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, status)
	}))
	defer srv.Close()
	counter := NewRequestCounter()
	client, err := rest.HTTPClientFor(counter.Wrap(&rest.Config{Host: srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Post(srv.URL+"/api/v1/namespaces/demo/configmaps", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(body) != status {
		t.Errorf("client read %q, %v; want the Status body", body, err)
	}
	want := Request{Verb: "CREATE", Resource: "configmaps", Namespace: "demo", Code: http.StatusConflict, Reason: "AlreadyExists"}
	if got := counter.Requests(); len(got) != 1 || got[want] != 1 {
		t.Errorf("Requests() = %v, want %+v once", got, want)
	}
	counter.Reset()
	if got := counter.Requests(); len(got) != 0 {
		t.Errorf("after Reset, Requests() = %v, want none", got)
	}
}
