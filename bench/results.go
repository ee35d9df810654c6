package bench

import (
	"time"
)

// Report is everything one run measured.
type Report struct {
	Machine    Machine        `json:"machine"`
	Command    string         `json:"command"`
	Quick      bool           `json:"quick"`
	Sizes      Sizes          `json:"sizes"`
	Approaches []ApproachInfo `json:"approaches"`
	Started    time.Time      `json:"started"`
	Duration   time.Duration  `json:"duration"`

	Memory []MemoryResult                 `json:"memory,omitempty"`
	Idle   map[string]*IdleResult         `json:"idle,omitempty"`
	Edits  map[string]map[int]*EditResult `json:"edits,omitempty"`
	// EditsManyReplicas are the config changes of the Cluster whose
	// workloads run Sizes.ManyReplicas replicas.
	EditsManyReplicas map[string]*EditResult        `json:"editsManyReplicas,omitempty"`
	Windows           map[string]Window             `json:"windows,omitempty"`
	CrossCheck        map[string]*CrossCheck        `json:"crossCheck,omitempty"`
	CPU               map[string]map[int]*CPUResult `json:"cpu,omitempty"`
	Drift             map[string]*DriftResult       `json:"drift,omitempty"`
	Scale             map[string]*ScaleResult       `json:"scale,omitempty"`
	// LargeScale is the scale phase with Sizes.LargeScaleCRs Clusters.
	LargeScale map[string]*ScaleResult `json:"largeScale,omitempty"`
	Profile    *ProfileSummary         `json:"profile,omitempty"`
	// Notes are problems of the run: phases that failed, timeouts.
	Notes []string `json:"notes,omitempty"`
}

// ApproachInfo names an approach in the report.
type ApproachInfo struct {
	Name  string `json:"name"`
	Title string `json:"title"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUModel   string `json:"cpuModel"`
	CPUs       int    `json:"cpus"`
	MemTotal   uint64 `json:"memTotal"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"goVersion"`
	Kubernetes string `json:"kubernetes"`
	LoadAvg    string `json:"loadAvg"`
}

// MemoryResult is an operator's memory without and with the unrelated
// ConfigMaps and Secrets in the cluster.
type MemoryResult struct {
	Approach string   `json:"approach"`
	Scoped   bool     `json:"scoped"`
	Before   MemStats `json:"before"`
	After    MemStats `json:"after"`
}

// IdleResult is what an approach did while nothing changed.
type IdleResult struct {
	Duration   time.Duration  `json:"duration"`
	Requests   int            `json:"requests"`
	Writes     int            `json:"writes"`
	ByVerb     map[string]int `json:"byVerb,omitempty"`
	ByResource map[string]int `json:"byResource,omitempty"`
	Reconciles int            `json:"reconciles"`
}

// EditResult is what an approach did for the config edits of one Cluster.
type EditResult struct {
	NodeTypes int   `json:"nodeTypes"`
	Replicas  int32 `json:"replicas"`
	Edits     int   `json:"edits"`
	// Writes counts write requests by "Kind VERB" (Kind is the resource).
	Writes map[string]int `json:"writes"`
	// Per resource totals of write requests.
	ConfigMapWrites  int `json:"configMapWrites"`
	DeploymentWrites int `json:"deploymentWrites"`
	ServiceWrites    int `json:"serviceWrites"`
	PDBWrites        int `json:"pdbWrites"`
	StatusWrites     int `json:"statusWrites"`
	EventWrites      int `json:"eventWrites"`
	OtherWrites      int `json:"otherWrites"`
	Reads            int `json:"reads"`
	Conflicts        int `json:"conflicts"`
	// ConflictsBy counts the 409s by "resource VERB".
	ConflictsBy map[string]int `json:"conflictsBy,omitempty"`
	// WorkloadCreatesDeletes counts Deployment creates and deletes: none
	// is needed for a config change.
	WorkloadCreatesDeletes int `json:"workloadCreatesDeletes"`
	// NeedlessUpdates counts Service and Deployment write requests beyond
	// the one Deployment write each change needs.
	NeedlessUpdates int `json:"needlessUpdates"`
	Reconciles      int `json:"reconciles"`
	// Reaction is, per edit, the time from the Cluster update to the
	// Deployment's new pod template; NewReplicaSet to the new ReplicaSet.
	Reaction      []time.Duration `json:"reaction"`
	NewReplicaSet []time.Duration `json:"newReplicaSet"`
	Missed        int             `json:"missed"`
}

// Window is a time window of one approach's activity.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// CrossCheck compares, for an approach's edit window, the write requests
// counted at the operator's transport with those the API server saw.
type CrossCheck struct {
	// Transport: write requests counted at the operator's client
	// transport, by resource.
	Transport map[string]int `json:"transport"`
	// Audit: write requests in the API server's audit log made with the
	// operator's User-Agent, by resource.
	Audit map[string]int `json:"audit"`
	// Metric: the increase of apiserver_request_total for write verbs, by
	// resource, all clients together, minus the driver's own writes; what
	// is left beyond the operator's writes is kube-controller-manager's.
	Metric map[string]int `json:"metric"`
}

// CPUResult is the cost of forced no-op reconciles of one Cluster.
type CPUResult struct {
	NodeTypes  int           `json:"nodeTypes"`
	Iterations int           `json:"iterations"`
	MedianCPU  time.Duration `json:"medianCPU"`
	P95CPU     time.Duration `json:"p95CPU"`
	MedianWall time.Duration `json:"medianWall"`
	// Requests and Writes made per forced reconcile, on average.
	Requests float64 `json:"requests"`
	Writes   float64 `json:"writes"`
	Errors   int     `json:"errors"`
}

// DriftCase is one hand edit of a workload and whether it was reverted.
type DriftCase struct {
	Reverted bool `json:"reverted"`
	// Latency is the median of Latencies, one per sample reverted.
	Latency   time.Duration   `json:"latency"`
	Latencies []time.Duration `json:"latencies,omitempty"`
	// Writes are the most write requests one sample's revert made, and
	// Detail their breakdown.
	Writes int      `json:"writes"`
	Detail []string `json:"detail,omitempty"`
}

// ActorsResult says whether other actors' changes survived a config change.
type ActorsResult struct {
	ForeignAnnotationKept bool `json:"foreignAnnotationKept"`
	RestartAnnotationKept bool `json:"restartAnnotationKept"`
	// RolledBack is true when a ReplicaSet from before the restart became
	// the Deployment's current one again.
	RolledBack bool `json:"rolledBack"`
	// ConfigRolled is true when the config change reached the pod template.
	ConfigRolled bool   `json:"configRolled"`
	Detail       string `json:"detail,omitempty"`
}

// PruneResult says which children of a removed node type were deleted.
type PruneResult struct {
	Removed   []string      `json:"removed"`
	Remaining []string      `json:"remaining"`
	Latency   time.Duration `json:"latency"`
	Writes    int           `json:"writes"`
}

// DriftResult gathers the drift, other-actor and pruning figures.
type DriftResult struct {
	Scale  DriftCase    `json:"scale"`
	Image  DriftCase    `json:"image"`
	Actors ActorsResult `json:"actors"`
	Prune  PruneResult  `json:"prune"`
}

// ScaleResult is the creation of many Clusters at once.
type ScaleResult struct {
	CRs       int  `json:"crs"`
	NodeTypes int  `json:"nodeTypes"`
	Converged bool `json:"converged"`
	// ChildrenTime is the time until every child existed; Time until, in
	// addition, kube-controller-manager had observed every Deployment
	// (or the timeout, when not Converged).
	ChildrenTime time.Duration  `json:"childrenTime"`
	Time         time.Duration  `json:"time"`
	Progress     map[string]int `json:"progress,omitempty"`
	ByVerb       map[string]int `json:"byVerb"`
	Requests     int            `json:"requests"`
	Writes       int            `json:"writes"`
	Conflicts    int            `json:"conflicts"`
	// ConflictsBy counts the 409s by "resource VERB".
	ConflictsBy map[string]int `json:"conflictsBy,omitempty"`
	Reconciles  int            `json:"reconciles"`
	// APIServer is the increase of apiserver_request_total by verb over the
	// same window, all clients (kube-controller-manager included).
	APIServer map[string]int `json:"apiServer"`
	// HeapBefore and HeapAfter are the operator's heap in use after garbage
	// collection, before the Clusters were created and once they
	// converged; PeakHeap is the most heap in use sampled in between.
	HeapBefore uint64 `json:"heapBefore"`
	HeapAfter  uint64 `json:"heapAfter"`
	PeakHeap   uint64 `json:"peakHeap"`
}

// HeapPerCR is the growth of the operator's heap per Cluster.
func (s *ScaleResult) HeapPerCR() float64 {
	if s.CRs == 0 || s.HeapAfter < s.HeapBefore {
		return 0
	}
	return float64(s.HeapAfter-s.HeapBefore) / float64(s.CRs)
}

// ProfileSummary is where the CPU time of forced no-op reconciles went.
type ProfileSummary struct {
	Approach  string         `json:"approach"`
	NodeTypes int            `json:"nodeTypes"`
	Total     time.Duration  `json:"total"`
	Buckets   []ProfileShare `json:"buckets"`
	// Focus are the shares of named parts of the reconcile (cumulative;
	// they overlap).
	Focus   []ProfileShare `json:"focus"`
	TopFlat []ProfileShare `json:"topFlat"`
	TopCum  []ProfileShare `json:"topCum"`
	Path    string         `json:"path"`
}

// ProfileShare is a share of the profile's CPU time.
type ProfileShare struct {
	Name  string        `json:"name"`
	Time  time.Duration `json:"time"`
	Share float64       `json:"share"`
}

func newReport(opts Options, sizes Sizes, approaches []Approach) *Report {
	r := &Report{
		Command: opts.Command, Quick: opts.Quick, Sizes: sizes, Started: time.Now(),
		Machine:    describeMachine(),
		Idle:       map[string]*IdleResult{},
		Edits:      map[string]map[int]*EditResult{},
		Windows:    map[string]Window{},
		CrossCheck: map[string]*CrossCheck{},
		CPU:        map[string]map[int]*CPUResult{},
		Drift:      map[string]*DriftResult{},
		Scale:      map[string]*ScaleResult{},

		EditsManyReplicas: map[string]*EditResult{},
		LargeScale:        map[string]*ScaleResult{},
	}
	for _, a := range approaches {
		r.Approaches = append(r.Approaches, ApproachInfo{Name: a.Name(), Title: a.Title()})
	}
	return r
}
