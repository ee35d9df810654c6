package bench

import (
	"fmt"
	"strings"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// crossCheck fills CrossCheck.Audit: the operator's write requests in each
// approach's edit window as the API server's audit log recorded them,
// recognised by the operator's User-Agent.
func (d *driver) crossCheck() error {
	if len(d.report.Windows) == 0 {
		return nil
	}
	agents := map[string]string{}
	for _, a := range d.approaches {
		agents[UserAgent(a.Name())] = a.Name()
	}
	events, err := d.cluster.AuditEvents(func(e testcluster.AuditEvent) bool {
		if e.Stage != "ResponseComplete" || !e.IsWrite() || e.ObjectRef == nil {
			return false
		}
		_, ok := agents[agentName(e.UserAgent)]
		return ok
	})
	if err != nil {
		return err
	}
	for _, e := range events {
		approach := agents[agentName(e.UserAgent)]
		w, ok := d.report.Windows[approach]
		cc := d.report.CrossCheck[approach]
		if !ok || cc == nil {
			continue
		}
		at := e.StageTimestamp.Time
		if at.Before(w.From) || at.After(w.To) {
			continue
		}
		if cc.Audit == nil {
			cc.Audit = map[string]int{}
		}
		cc.Audit[resourceKey(e.ObjectRef.Resource, e.ObjectRef.Subresource)]++
	}
	var missing []string
	for _, a := range d.approaches {
		if cc := d.report.CrossCheck[a.Name()]; cc != nil && len(cc.Transport) > 0 && cc.Audit == nil {
			missing = append(missing, a.Name())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the audit log holds none of the writes of the edit windows of %v", missing)
	}
	return nil
}

// agentName is the product part of a User-Agent header.
func agentName(ua string) string {
	name, _, _ := strings.Cut(ua, " ")
	return name
}
