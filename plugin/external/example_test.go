package external_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opbuilder/opbuilder/plugin/external"
)

// Where install-plugin puts the binary when EXTERNAL_PLUGINS_PATH is set.
func ExampleInstallPath() {
	path, err := external.InstallPath(func(key string) string {
		return map[string]string{"EXTERNAL_PLUGINS_PATH": "/opt/kubebuilder-plugins"}[key]
	})
	fmt.Println(path, err)
	// Output: /opt/kubebuilder-plugins/opbuilder/v1/opbuilder <nil>
}

// Kubebuilder asks an external plugin for the flags of create api first.
func ExampleServe() {
	var out bytes.Buffer
	req := `{"apiVersion": "v1alpha1", "command": "flags", "args": ["--api"], "universe": {}}`
	if err := external.Serve(strings.NewReader(req), &out); err != nil {
		fmt.Println(err)
		return
	}
	var resp struct{ Flags []struct{ Name, Type string } }
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range resp.Flags {
		fmt.Println(f.Name, f.Type)
	}
	// Output:
	// groups string
	// image string
	// make bool
	// nodetype string
	// port int
	// replicas int
	// storage string
	// workload string
}
