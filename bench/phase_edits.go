package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// editedNodeType is the node type whose config the edit phase changes.
const editedNodeType = "nt0"

type editRecord struct {
	namespace string
	key       string // "ns/deployment"
	sent      time.Time
	prev      string
}

// editPhase changes one node type's config value in each of an approach's
// Clusters Edits times, EditInterval apart (the Clusters staggered within
// the interval), and records what the operator wrote, how often it
// reconciled, and how long the change took to reach the pod template.
func (d *driver) editPhase(ctx context.Context, a Approach) error {
	p, ok := d.operators[a.Name()]
	if !ok {
		return fmt.Errorf("%s: operator not running", a.Name())
	}
	sizes := d.editSizes(a.Name())
	var namespaces []string
	for _, sz := range sizes {
		namespaces = append(namespaces, sz.namespace)
	}
	tl, err := d.watchNamespaces(ctx, namespaces)
	if err != nil {
		return err
	}
	defer tl.stop()

	before, err := d.scrapeRequestTotals(ctx)
	if err != nil {
		return err
	}
	d.counter.Reset()
	if err := p.reset(ctx); err != nil {
		return err
	}
	from := time.Now()
	var (
		records []editRecord
		errs    []error
	)
	for e := 1; e <= d.sizes.Edits; e++ {
		for i, sz := range sizes {
			target := from.Add(time.Duration(e-1)*d.sizes.EditInterval +
				time.Duration(i)*d.sizes.EditInterval/time.Duration(len(sizes)))
			sleep(ctx, time.Until(target))
			ns := sz.namespace
			key := ns + "/" + WorkloadName(clusterName, editedNodeType)
			// Never edit again before the previous edit reached the
			// template, so each reaction is attributed to its edit.
			if len(records) > 0 {
				for _, r := range records {
					if r.key == key {
						d.awaitReaction(ctx, tl, r, 15*time.Second)
					}
				}
			}
			prev := tl.lastTemplate(key)
			sent, err := d.setConfig(ctx, ns, clusterName, editedNodeType, strconv.Itoa(e))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			records = append(records, editRecord{namespace: ns, key: key, sent: sent, prev: prev})
		}
	}
	for _, r := range records {
		d.awaitReaction(ctx, tl, r, 15*time.Second)
	}
	for _, sz := range sizes {
		if !poll(ctx, 250*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
			return d.converged(ctx, sz.namespace, clusterName, sz.nodeTypes, true)
		}) {
			errs = append(errs, fmt.Errorf("%s: %s did not roll out within a minute of the last edit", a.Name(), sz.namespace))
		}
	}
	// Trailing reconciles (status updates of the finished rollouts).
	sleep(ctx, 3*time.Second)
	to := time.Now()
	st, err := p.stats(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	after, err := d.scrapeRequestTotals(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	d.report.Windows[a.Name()] = Window{From: from, To: to}

	results := map[int]*EditResult{}
	for _, sz := range sizes {
		ns := sz.namespace
		res := &EditResult{NodeTypes: sz.nodeTypes, Replicas: sz.replicas, Edits: d.sizes.Edits, Writes: map[string]int{}}
		summarizeEdits(res, st, ns, WorkloadName(clusterName, editedNodeType))
		for _, r := range records {
			if r.namespace != ns {
				continue
			}
			at, ok := tl.templateChangeAfter(r.key, r.sent, r.prev)
			if !ok {
				res.Missed++
				continue
			}
			res.Reaction = append(res.Reaction, at.Sub(r.sent))
			if rsAt, ok := tl.replicaSetAfter(r.key, r.sent); ok {
				res.NewReplicaSet = append(res.NewReplicaSet, rsAt.Sub(r.sent))
			}
		}
		if sz.replicas == 1 {
			results[sz.nodeTypes] = res
		} else {
			d.report.EditsManyReplicas[a.Name()] = res
		}
		d.logf("edits %-12s n=%-2d r=%-2d writes cm=%d deploy=%d svc=%d pdb=%d status=%d events=%d 409=%d needless=%d reconciles=%d p50=%s",
			a.Name(), sz.nodeTypes, sz.replicas, res.ConfigMapWrites, res.DeploymentWrites, res.ServiceWrites, res.PDBWrites, res.StatusWrites,
			res.EventWrites, res.Conflicts, res.NeedlessUpdates, res.Reconciles, percentile(res.Reaction, 50))
	}
	d.report.Edits[a.Name()] = results

	cc := &CrossCheck{Transport: map[string]int{}, Metric: after.writesSince(before)}
	for _, c := range st.Requests {
		if c.IsWrite() {
			cc.Transport[resourceKey(c.Resource, c.Subresource)] += c.N
		}
	}
	for _, c := range counted(d.counter) {
		if c.IsWrite() {
			cc.Metric[resourceKey(c.Resource, c.Subresource)] -= c.N
		}
	}
	d.report.CrossCheck[a.Name()] = cc
	return errors.Join(errs...)
}

func (d *driver) awaitReaction(ctx context.Context, tl *timeline, r editRecord, timeout time.Duration) {
	poll(ctx, 20*time.Millisecond, timeout, func(context.Context) (bool, error) {
		_, ok := tl.templateChangeAfter(r.key, r.sent, r.prev)
		return ok, nil
	})
}

// summarizeEdits fills res from the operator's requests in namespace ns.
// edited is the Deployment whose desired state the edits changed.
func summarizeEdits(res *EditResult, st OperatorStats, ns, edited string) {
	editedWrites := 0
	for _, c := range st.Requests {
		if c.Namespace != ns || c.Resource == "" {
			continue
		}
		if !c.IsWrite() {
			res.Reads += c.N
			continue
		}
		if c.Code == 409 {
			res.Conflicts += c.N
			if res.ConflictsBy == nil {
				res.ConflictsBy = map[string]int{}
			}
			res.ConflictsBy[resourceKey(c.Resource, c.Subresource)+" "+c.Verb+" "+c.Reason] += c.N
		}
		res.Writes[resourceKey(c.Resource, c.Subresource)+" "+c.Verb] += c.N
		if (c.Resource == "services" || c.Resource == "deployments") && c.Subresource == "" {
			if c.Resource == "deployments" && c.Name == edited {
				editedWrites += c.N
			} else {
				res.NeedlessUpdates += c.N
			}
		}
		switch {
		case c.Resource == "configmaps":
			res.ConfigMapWrites += c.N
		case c.Resource == "deployments" && c.Subresource == "":
			res.DeploymentWrites += c.N
			if c.Verb == "CREATE" || c.Verb == "DELETE" {
				res.WorkloadCreatesDeletes += c.N
			}
		case c.Resource == "services" && c.Subresource == "":
			res.ServiceWrites += c.N
		case c.Resource == "poddisruptionbudgets":
			res.PDBWrites += c.N
		case c.Resource == "clusters" && c.Subresource == "status":
			res.StatusWrites += c.N
		case c.Resource == "events":
			res.EventWrites += c.N
		default:
			res.OtherWrites += c.N
		}
	}
	res.NeedlessUpdates += max(0, editedWrites-res.Edits)
	for req, n := range st.Reconciles {
		if req == ns+"/"+clusterName {
			res.Reconciles += n
		}
	}
}
