/*
Copyright 2026 The opbuilder Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"crypto/tls"
	"flag"
	"os"
	"strings"

	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// so that exec-entrypoint and run can use them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/opbuilder/opbuilder/runtime/cachescope"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
	"example.com/druid-operator/internal/controller"
	// +kubebuilder:scaffold:imports
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))

	utilruntime.Must(datav1alpha1.AddToScheme(scheme))
	// +kubebuilder:scaffold:scheme
}

func main() {
	var (
		metricsAddr          string
		probeAddr            string
		metricsCertPath      string
		webhookCertPath      string
		webhookPort          int
		enableLeaderElection bool
		secureMetrics        bool
		enableHTTP2          bool
		watchNamespaces      string
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to: "+
		":8443 for HTTPS, :8080 for HTTP, or 0 to turn the metrics endpoint off.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the health probes bind to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Elect a leader, so that only one replica of the manager is active at a time.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS to authenticated and authorized clients only; false serves plain HTTP.")
	flag.StringVar(&metricsCertPath, "metrics-cert-path", "",
		"The directory holding the metrics server's tls.crt and tls.key; empty means a self-signed certificate.")
	flag.StringVar(&webhookCertPath, "webhook-cert-path", "",
		"The directory holding the webhook server's tls.crt and tls.key.")
	flag.IntVar(&webhookPort, "webhook-port", 9443, "The port the webhook server listens on.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Serve HTTP/2 on the metrics and webhook servers. It is off by default because of the "+
			"HTTP/2 Stream Cancellation and Rapid Reset vulnerabilities.")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "",
		"Comma-separated namespaces the operator serves; empty serves them all. Limited to some, "+
			"it needs the rules of config/rbac/role.yaml only in each of them, as a Role and RoleBinding.")
	opts := zap.Options{Development: true}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) {
			setupLog.Info("Disabling HTTP/2")
			c.NextProtos = []string{"http/1.1"}
		})
	}

	metricsOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		CertDir:       metricsCertPath,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		// Only clients allowed by config/rbac may read the metrics.
		metricsOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	webhookServer := webhook.NewServer(webhook.Options{
		Port:    webhookPort,
		CertDir: webhookCertPath,
		TLSOpts: tlsOpts,
	})

	// The manager's cache holds what this operator owns, not the whole
	// cluster: its custom resources in full and, of everything else, only the
	// objects the opbuilder runtime created for them plus the ConfigMaps and
	// Secrets those reference. Every kind created with opbuilder adds itself
	// here.
	ownedTypes := []client.Object{
		&datav1alpha1.Druid{},
		// +opbuilder:scaffold:owned-types
	}
	cacheOptions, err := newCacheOptions(namespacesOf(watchNamespaces), ownedTypes...)
	if err != nil {
		setupLog.Error(err, "Failed to scope the manager's cache")
		os.Exit(1)
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cacheOptions,
		Metrics:                metricsOptions,
		WebhookServer:          webhookServer,
		HealthProbeBindAddress: probeAddr,
		LeaderElection:         enableLeaderElection,
		LeaderElectionID:       "83de3668.example.com",
	})
	if err != nil {
		setupLog.Error(err, "Failed to create the manager")
		os.Exit(1)
	}

	// Controllers built on the opbuilder runtime record events.k8s.io/v1
	// events through mgr.GetEventRecorder and apply every change as
	// controller.FieldOwner; see internal/controller/operator.go.
	if err := (&controller.DruidReconciler{
		Client: mgr.GetClient(),
		Scheme: mgr.GetScheme(),
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Failed to create controller", "controller", "druid")
		os.Exit(1)
	}
	// +kubebuilder:scaffold:builder

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up the ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Failed to run the manager")
		os.Exit(1)
	}
}

// newCacheOptions scopes the manager's cache with the runtime's cachescope
// package: the given custom resource types are cached in full, other types
// only where the runtime created the object under controller.FieldOwner, and
// only in namespaces when it names some. Before the first kind exists it
// returns controller-runtime's defaults.
func newCacheOptions(namespaces []string, owners ...client.Object) (cache.Options, error) {
	if len(owners) == 0 {
		return cache.Options{}, nil
	}
	return cachescope.Options(owners[0],
		cachescope.WithFullyCached(owners[1:]...),
		cachescope.WithManagedBy(controller.FieldOwner),
		cachescope.WithNamespaces(namespaces...),
	)
}

// namespacesOf splits the value of --watch-namespaces; an empty value names
// none.
func namespacesOf(list string) []string {
	var out []string
	for ns := range strings.SplitSeq(list, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			out = append(out, ns)
		}
	}
	return out
}
