package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// OperatorOptions configure one operator process.
type OperatorOptions struct {
	// Approach names the approach to run.
	Approach string
	// Kubeconfig is the path of the kubeconfig to connect with.
	Kubeconfig string
	// Namespaces restricts the cache to these namespaces; empty means all.
	Namespaces []string
	// Scoped asks for the runtime's label-scoped cache options where the
	// approach has them.
	Scoped bool
	// Listen is the control API's address; default 127.0.0.1:0.
	Listen string
}

// OperatorStats is what the control API's /stats returns.
type OperatorStats struct {
	Requests []Counted `json:"requests"`
	// Reconciles counts the controller's reconciles by "namespace/name".
	Reconciles map[string]int `json:"reconciles"`
	// ReconcileErrors counts reconciles that returned an error.
	ReconcileErrors int `json:"reconcileErrors"`
	// PeakHeap is the most heap in use sampled since the last reset.
	PeakHeap uint64 `json:"peakHeap"`
}

// NoopResult is what the control API's /noop returns: per forced
// reconcile, the process CPU time and wall time it took, and the requests
// made during all of them.
type NoopResult struct {
	CPU      []time.Duration `json:"cpu"`
	Wall     []time.Duration `json:"wall"`
	Errors   int             `json:"errors"`
	Requests []Counted       `json:"requests"`
}

// MemStats is what the control API's /mem returns, measured after two
// garbage collections and returning freed memory to the OS.
type MemStats struct {
	HeapAlloc uint64 `json:"heapAlloc"`
	HeapInuse uint64 `json:"heapInuse"`
	RSS       uint64 `json:"rss"`
}

// ListenPrefix starts the line an operator process prints to stdout once
// its control API listens; the rest of the line is the base URL.
const ListenPrefix = "opbench-operator listening on "

// RunOperator runs an approach's manager until ctx ends, serving the control
// API. It prints ListenPrefix and the API's URL to out once the API listens.
func RunOperator(ctx context.Context, opts OperatorOptions, out io.Writer) error {
	approach, err := ApproachByName(opts.Approach)
	if err != nil {
		return err
	}
	logger := funcr.New(func(prefix, args string) {
		fmt.Fprintln(os.Stderr, time.Now().Format(time.RFC3339Nano), prefix, args)
	}, funcr.Options{})
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)

	cfg, err := clientcmd.BuildConfigFromFlags("", opts.Kubeconfig)
	if err != nil {
		return fmt.Errorf("operator: load kubeconfig: %w", err)
	}
	// As controller-runtime's GetConfig does: no client-side rate limit, the
	// API server's priority and fairness decides.
	cfg.QPS = -1
	cfg.UserAgent = UserAgent(opts.Approach)
	counter := testcluster.NewRequestCounter()
	cfg = counter.Wrap(cfg)

	scheme, err := NewScheme()
	if err != nil {
		return err
	}
	cacheOpts, err := approach.CacheOptions(opts.Scoped)
	if err != nil {
		return err
	}
	if len(opts.Namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range opts.Namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cacheOpts,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 logger,
		Controller:             config.Controller{SkipNameValidation: ptrTo(true)},
	})
	if err != nil {
		return fmt.Errorf("operator: new manager: %w", err)
	}
	stats := newReconcileStats()
	rec, err := approach.Setup(mgr, stats.wrap)
	if err != nil {
		return err
	}

	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("operator: listen: %w", err)
	}
	api := &controlAPI{counter: counter, stats: stats, reconciler: rec, logger: logger}
	srv := &http.Server{Handler: api.mux(mgr), ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- mgr.Start(ctx) }()
	go api.samplePeakHeap(ctx, 50*time.Millisecond)
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("operator: control API: %w", err)
		}
	}()
	if _, err := fmt.Fprintf(out, "%shttp://%s\n", ListenPrefix, lis.Addr()); err != nil {
		return fmt.Errorf("operator: announce address: %w", err)
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	return errors.Join(runErr, srv.Shutdown(shutdownCtx))
}

// UserAgent is the User-Agent of an approach's operator, which the API
// server's audit log records.
func UserAgent(approach string) string { return "opbench-" + approach }

func ptrTo[T any](v T) *T { return &v }

// reconcileStats counts the reconciles the controller runs.
type reconcileStats struct {
	mu     sync.Mutex
	counts map[string]int
	errors int
}

func newReconcileStats() *reconcileStats { return &reconcileStats{counts: map[string]int{}} }

func (s *reconcileStats) wrap(r reconcile.Reconciler) reconcile.Reconciler {
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		res, err := r.Reconcile(ctx, req)
		s.mu.Lock()
		s.counts[req.String()]++
		if err != nil {
			s.errors++
		}
		s.mu.Unlock()
		return res, err
	})
}

func (s *reconcileStats) snapshot() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out, s.errors
}

func (s *reconcileStats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.errors = 0
}

// controlAPI serves the driver: counters, forced no-op reconciles with
// CPU profiling, and memory figures.
type controlAPI struct {
	counter    *testcluster.RequestCounter
	stats      *reconcileStats
	reconciler reconcile.Reconciler
	logger     logr.Logger
	noopMu     sync.Mutex
	// peakHeap is the most heap in use sampled since the last reset.
	peakHeap atomic.Uint64
}

// heapSample is the runtime metric peakHeap samples: the bytes of heap
// objects, live or not yet swept. Reading it does not stop the world, unlike
// runtime.ReadMemStats.
const heapSample = "/memory/classes/heap/objects:bytes"

// raisePeakHeap sets peakHeap to v unless it is higher; a reset may run
// at the same time.
func (a *controlAPI) raisePeakHeap(v uint64) {
	for {
		cur := a.peakHeap.Load()
		if v <= cur || a.peakHeap.CompareAndSwap(cur, v) {
			return
		}
	}
}

// samplePeakHeap records the heap in use into a.peakHeap every interval
// until ctx ends.
func (a *controlAPI) samplePeakHeap(ctx context.Context, interval time.Duration) {
	sample := []metrics.Sample{{Name: heapSample}}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 {
			a.raisePeakHeap(v.Uint64())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *controlAPI) mux(mgr ctrl.Manager) *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 100*time.Millisecond)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			http.Error(w, "cache not synced", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	m.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		recs, errs := a.stats.snapshot()
		writeJSON(w, OperatorStats{Requests: counted(a.counter), Reconciles: recs, ReconcileErrors: errs, PeakHeap: a.peakHeap.Load()})
	})
	m.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		a.counter.Reset()
		a.stats.reset()
		a.peakHeap.Store(0)
		_, _ = io.WriteString(w, "ok\n")
	})
	m.HandleFunc("POST /noop", a.noop)
	m.HandleFunc("GET /mem", func(w http.ResponseWriter, _ *http.Request) {
		m, err := measureMemory()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, m)
	})
	return m
}

// noop runs the approach's reconciler n times on one Cluster, directly and
// one after another, measuring each call's process CPU time; with profile
// set it writes a CPU profile of the loop to that path.
func (a *controlAPI) noop(w http.ResponseWriter, r *http.Request) {
	a.noopMu.Lock()
	defer a.noopMu.Unlock()
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("n"))
	if err != nil || n <= 0 {
		http.Error(w, "n must be a positive integer", http.StatusBadRequest)
		return
	}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: q.Get("namespace"), Name: q.Get("name")}}
	ctx := r.Context()
	// One call first so that lazily started informers are running.
	if _, err := a.reconciler.Reconcile(ctx, req); err != nil {
		http.Error(w, fmt.Sprintf("warm-up reconcile: %v", err), http.StatusInternalServerError)
		return
	}
	if path := q.Get("profile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer pprof.StopCPUProfile()
	}
	a.counter.Reset()
	res := NoopResult{}
	for range n {
		cpu0, err := processCPU()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		wall0 := time.Now()
		if _, err := a.reconciler.Reconcile(ctx, req); err != nil {
			res.Errors++
			a.logger.Error(err, "forced reconcile", "request", req.String())
		}
		wall := time.Since(wall0)
		cpu1, err := processCPU()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		res.CPU = append(res.CPU, cpu1-cpu0)
		res.Wall = append(res.Wall, wall)
	}
	res.Requests = counted(a.counter)
	writeJSON(w, res)
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func measureMemory() (MemStats, error) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := readRSS()
	if err != nil {
		return MemStats{}, err
	}
	return MemStats{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, RSS: rss}, nil
}

// readRSS reads the resident set size of the process from /proc.
func readRSS() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "VmRSS:"))
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("read RSS: unexpected line %q", line)
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read RSS: %w", err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	return 0, errors.New("read RSS: no VmRSS line in /proc/self/status")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
