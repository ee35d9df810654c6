package bench

import (
	"bytes"
	"context"
	"fmt"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// requestTotals is apiserver_request_total summed by verb and
// "resource[/subresource]".
type requestTotals map[[2]string]float64

// scrapeRequestTotals reads kube-apiserver's apiserver_request_total.
func (d *driver) scrapeRequestTotals(ctx context.Context) (requestTotals, error) {
	raw, err := d.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("scrape kube-apiserver metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse kube-apiserver metrics: %w", err)
	}
	out := requestTotals{}
	fam, ok := families["apiserver_request_total"]
	if !ok {
		return nil, fmt.Errorf("kube-apiserver metrics have no apiserver_request_total")
	}
	for _, m := range fam.GetMetric() {
		var verb, resource, sub string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "verb":
				verb = l.GetValue()
			case "resource":
				resource = l.GetValue()
			case "subresource":
				sub = l.GetValue()
			}
		}
		if resource == "" {
			continue
		}
		// The metric uses HTTP methods for creates and updates.
		switch verb {
		case "POST":
			verb = "CREATE"
		case "PUT":
			verb = "UPDATE"
		}
		out[[2]string{verb, resourceKey(resource, sub)}] += m.GetCounter().GetValue()
	}
	return out, nil
}

func resourceKey(resource, subresource string) string {
	if subresource == "" {
		return resource
	}
	return resource + "/" + subresource
}

// writesSince returns the write requests by resource between two scrapes.
func (t requestTotals) writesSince(before requestTotals) map[string]int {
	out := map[string]int{}
	for k, v := range t {
		if !isWriteVerb(k[0]) {
			continue
		}
		if n := int(v - before[k] + 0.5); n > 0 {
			out[k[1]] += n
		}
	}
	return out
}

// byVerbSince returns all requests by verb between two scrapes.
func (t requestTotals) byVerbSince(before requestTotals) map[string]int {
	out := map[string]int{}
	for k, v := range t {
		if n := int(v - before[k] + 0.5); n > 0 {
			out[k[0]] += n
		}
	}
	return out
}

func isWriteVerb(v string) bool {
	return testcluster.Request{Verb: v}.IsWrite()
}
