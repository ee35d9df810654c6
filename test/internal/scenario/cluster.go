package scenario

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// Cluster is a running control plane with the clients the scenario uses.
type Cluster struct {
	*testcluster.Cluster
	// Kube is a typed admin clientset.
	Kube kubernetes.Interface
	// Dynamic is an admin dynamic client, for the scaffolded custom resource.
	Dynamic dynamic.Interface
}

// StartCluster starts etcd, kube-apiserver (with an audit log),
// kube-controller-manager, kube-scheduler and kwok with nodes fake nodes,
// from the binaries in assetsDir, and installs the CRDs found in crdPaths.
func StartCluster(ctx context.Context, assetsDir string, nodes int, crdPaths ...string) (*Cluster, error) {
	tc, err := testcluster.Start(ctx,
		testcluster.WithAssetsDir(assetsDir),
		testcluster.WithKwokNodes(nodes),
		testcluster.WithAuditLog(),
		testcluster.WithCRDs(crdPaths...),
	)
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	c := &Cluster{Cluster: tc}
	if c.Kube, err = kubernetes.NewForConfig(tc.Config); err != nil {
		return nil, errors.Join(fmt.Errorf("creating clientset: %w", err), tc.Stop())
	}
	if c.Dynamic, err = dynamic.NewForConfig(tc.Config); err != nil {
		return nil, errors.Join(fmt.Errorf("creating dynamic client: %w", err), tc.Stop())
	}
	return c, nil
}

// Identity is who the operator runs as: a ServiceAccount bound to the
// ClusterRole that controller-gen generated from the project's RBAC markers,
// exactly as the project's config/rbac deploys it, or granted its rules in
// one namespace only. A missing marker, or a request outside that namespace,
// shows up as a Forbidden error in the operator's log.
type Identity struct {
	// Namespace and ServiceAccount name the ServiceAccount.
	Namespace, ServiceAccount string
	// Username is how the API server (and its audit log) names the
	// operator: system:serviceaccount:<namespace>:<name>.
	Username string
	// Kubeconfig is a kubeconfig file with a token of the ServiceAccount.
	Kubeconfig string
	// WatchNamespace is the one namespace the ClusterRoles' rules are
	// granted in, as Roles; empty when they are granted cluster-wide.
	WatchNamespace string
}

// CreateOperatorIdentity creates the ServiceAccount namespace/name, binds
// the ClusterRoles and Roles of projectDir/config/rbac/role.yaml to it, and
// writes a kubeconfig for it to kubeconfigPath.
func (c *Cluster) CreateOperatorIdentity(ctx context.Context, projectDir, namespace, name, kubeconfigPath string) (*Identity, error) {
	return c.createIdentity(ctx, projectDir, namespace, name, kubeconfigPath, "")
}

// CreateNamespacedOperatorIdentity is CreateOperatorIdentity for an operator
// that serves watchNamespace only (--watch-namespaces): the rules of each
// ClusterRole of role.yaml become a Role of the same name in watchNamespace,
// bound with a RoleBinding, and nothing is granted cluster-wide, so that
// every request the operator makes outside watchNamespace is forbidden.
func (c *Cluster) CreateNamespacedOperatorIdentity(ctx context.Context, projectDir, namespace, name, kubeconfigPath, watchNamespace string) (*Identity, error) {
	if watchNamespace == "" {
		return nil, errors.New("CreateNamespacedOperatorIdentity: no namespace to grant the rules in")
	}
	if err := c.ensureNamespace(ctx, watchNamespace); err != nil {
		return nil, err
	}
	return c.createIdentity(ctx, projectDir, namespace, name, kubeconfigPath, watchNamespace)
}

// createIdentity creates the ServiceAccount, grants it role.yaml's rules
// (cluster-wide unless watchNamespace names a namespace) and writes its
// kubeconfig.
func (c *Cluster) createIdentity(ctx context.Context, projectDir, namespace, name, kubeconfigPath, watchNamespace string) (*Identity, error) {
	if err := c.ensureNamespace(ctx, namespace); err != nil {
		return nil, err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := c.Kube.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating ServiceAccount %s/%s: %w", namespace, name, err)
	}
	subject := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
	if err := c.bindProjectRoles(ctx, filepath.Join(projectDir, "config", "rbac", "role.yaml"), subject, watchNamespace); err != nil {
		return nil, err
	}

	tok, err := c.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](48 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["opbuilder"] = &clientcmdapi.Cluster{
		Server:                   c.Config.Host,
		CertificateAuthorityData: c.Config.CAData,
	}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: "opbuilder", AuthInfo: name, Namespace: namespace}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, kubeconfigPath); err != nil {
		return nil, fmt.Errorf("writing the operator's kubeconfig: %w", err)
	}
	return &Identity{
		Namespace:      namespace,
		ServiceAccount: name,
		Username:       "system:serviceaccount:" + namespace + ":" + name,
		Kubeconfig:     kubeconfigPath,
		WatchNamespace: watchNamespace,
	}, nil
}

func (c *Cluster) ensureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// bindProjectRoles creates the roles of a controller-gen role.yaml and binds
// each to subject. With a watchNamespace, each ClusterRole's rules are
// created and bound as a Role in that namespace instead; Roles stay in their
// own namespaces either way.
func (c *Cluster) bindProjectRoles(ctx context.Context, path string, subject rbacv1.Subject, watchNamespace string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the project's RBAC: %w", err)
	}
	docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	bound := 0
	for {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		switch meta.Kind {
		case "ClusterRole":
			var role rbacv1.ClusterRole
			if err := yaml.UnmarshalStrict(doc, &role); err != nil {
				return fmt.Errorf("reading ClusterRole in %s: %w", path, err)
			}
			if watchNamespace != "" {
				err = c.bindRole(ctx, namespacedRole(&role, watchNamespace), subject)
			} else {
				err = c.bindClusterRole(ctx, &role, subject)
			}
			if err != nil {
				return err
			}
		case "Role":
			var role rbacv1.Role
			if err := yaml.UnmarshalStrict(doc, &role); err != nil {
				return fmt.Errorf("reading Role in %s: %w", path, err)
			}
			if err := c.bindRole(ctx, &role, subject); err != nil {
				return err
			}
		case "":
			continue
		default:
			return fmt.Errorf("%s: unexpected kind %s", path, meta.Kind)
		}
		bound++
	}
	if bound == 0 {
		return fmt.Errorf("%s holds no ClusterRole or Role: run `make manifests` in the project", path)
	}
	return nil
}

// namespacedRole is a Role in namespace with the name and rules of role,
// which is how an operator limited to some namespaces is granted them.
func namespacedRole(role *rbacv1.ClusterRole, namespace string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: role.Name, Labels: role.Labels},
		Rules:      role.Rules,
	}
}

// bindClusterRole creates role and a ClusterRoleBinding of it to subject.
func (c *Cluster) bindClusterRole(ctx context.Context, role *rbacv1.ClusterRole, subject rbacv1.Subject) error {
	if _, err := c.Kube.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating ClusterRole %s: %w", role.Name, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name + "-" + subject.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{subject},
	}
	if _, err := c.Kube.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("binding ClusterRole %s: %w", role.Name, err)
	}
	return nil
}

// bindRole creates role and a RoleBinding of it to subject, in the role's
// namespace.
func (c *Cluster) bindRole(ctx context.Context, role *rbacv1.Role, subject rbacv1.Subject) error {
	if _, err := c.Kube.RbacV1().Roles(role.Namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating Role %s/%s: %w", role.Namespace, role.Name, err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: role.Namespace, Name: role.Name + "-" + subject.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{subject},
	}
	if _, err := c.Kube.RbacV1().RoleBindings(role.Namespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("binding Role %s/%s: %w", role.Namespace, role.Name, err)
	}
	return nil
}

// ClusterBindingsOf lists the ClusterRoleBindings that name id's
// ServiceAccount as a subject, as "binding → ClusterRole": what it is
// granted cluster-wide beyond what every authenticated user is.
func (c *Cluster) ClusterBindingsOf(ctx context.Context, id *Identity) ([]string, error) {
	list, err := c.Kube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing ClusterRoleBindings: %w", err)
	}
	var out []string
	for _, b := range list.Items {
		for _, sub := range b.Subjects {
			if sub.Kind == rbacv1.ServiceAccountKind && sub.Namespace == id.Namespace && sub.Name == id.ServiceAccount {
				out = append(out, b.Name+" → "+b.RoleRef.Kind+" "+b.RoleRef.Name)
			}
		}
	}
	return out, nil
}

// WriteAdminKubeconfig copies the cluster's admin kubeconfig to path, for
// the user and for kubectl.
func (c *Cluster) WriteAdminKubeconfig(path string) error {
	b, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("reading the admin kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
