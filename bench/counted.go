package bench

import (
	"slices"
	"strconv"
	"strings"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// Counted is a request and how many times it was made: one row of what an
// operator or the driver reports, in JSON across the process boundary.
type Counted struct {
	testcluster.Request
	N int `json:"n"`
}

// counted lists c's counts by request, sorted for stable output.
func counted(c *testcluster.RequestCounter) []Counted {
	reqs := c.Requests()
	out := make([]Counted, 0, len(reqs))
	for r, n := range reqs {
		out = append(out, Counted{Request: r, N: n})
	}
	slices.SortFunc(out, func(a, b Counted) int { return strings.Compare(a.key(), b.key()) })
	return out
}

func (c Counted) key() string {
	return strings.Join([]string{c.Verb, c.Group, c.Resource, c.Subresource, c.Namespace, c.Name, strconv.Itoa(c.Code), c.Reason}, "|")
}
