package bench_test

import (
	"fmt"
	"net/http"

	"github.com/opbuilder/opbuilder/runtime/internal/bench"
)

// Classify names a request the way kube-apiserver's apiserver_request_total
// does, so that counts taken at a client's transport can be compared with
// the server's.
func ExampleClassify() {
	for _, r := range []struct{ method, url, contentType string }{
		{http.MethodPatch, "https://api/apis/apps/v1/namespaces/demo/deployments/web", "application/apply-patch+yaml"},
		{http.MethodPut, "https://api/api/v1/namespaces/demo/services/web", ""},
		{http.MethodGet, "https://api/api/v1/namespaces/demo/configmaps?watch=true", ""},
		{http.MethodPatch, "https://api/apis/test.opbuilder.io/v1/namespaces/demo/clusters/c/status", "application/merge-patch+json"},
	} {
		req, err := http.NewRequest(r.method, r.url, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		req.Header.Set("Content-Type", r.contentType)
		c := bench.Classify(req)
		fmt.Println(c.Verb, c.Group, c.Resource, c.Subresource, c.Namespace, c.Name, c.IsWrite())
	}
	// Output:
	// APPLY apps deployments  demo web true
	// UPDATE  services  demo web true
	// WATCH  configmaps  demo  false
	// PATCH test.opbuilder.io clusters status demo c true
}
