package model

import (
	"strings"
	"testing"
)

func TestNodeTypeNames(t *testing.T) {
	tests := []struct {
		name                                         string
		goName, varName, spec, field, json, fileName string
	}{
		{"historical", "Historical", "historical", "HistoricalSpec", "Historicals", "historicals", "historical"},
		{"middle-manager", "MiddleManager", "middleManager", "MiddleManagerSpec", "MiddleManagers", "middleManagers",
			"middle_manager"},
		{"broker", "Broker", "broker", "BrokerSpec", "Brokers", "brokers", "broker"},
		{"proxy", "Proxy", "proxy", "ProxySpec", "Proxies", "proxies", "proxy"},
	}
	for _, tc := range tests {
		nt := NodeType{Name: tc.name}
		got := []string{nt.GoName(), nt.VarName(), nt.SpecType(), nt.FieldName(), nt.JSONName(), nt.FileName()}
		want := []string{tc.goName, tc.varName, tc.spec, tc.field, tc.json, tc.fileName}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: names %v, want %v", tc.name, got, want)
		}
	}
}

func TestNodeTypeDefaultAndValidate(t *testing.T) {
	nt := NodeType{Name: " broker ", Workload: " Deployment", Port: 8082}
	nt.Default()
	if err := nt.Validate(); err != nil {
		t.Fatal(err)
	}
	if nt.Name != "broker" || nt.Workload != Deployment || len(nt.Groups) != 1 || nt.Groups[0] != DefaultGroup {
		t.Errorf("defaulted to %+v", nt)
	}

	valid := NodeType{Name: "historical", Workload: StatefulSet, Port: 8083, Storage: "10Gi", Groups: []string{"hot"}}
	tests := []struct {
		mutate func(*NodeType)
		want   string
	}{
		{func(n *NodeType) { n.Name = "" }, "--name is required"},
		{func(n *NodeType) { n.Name = "-x" }, "DNS-1123 label"},
		{func(n *NodeType) { n.Workload = "" }, "--workload is required"},
		{func(n *NodeType) { n.Workload = "job" }, `unknown --workload "job"`},
		{func(n *NodeType) { n.Port = -1 }, "invalid --port -1"},
		{func(n *NodeType) { n.Port = 65536 }, "invalid --port 65536"},
		{func(n *NodeType) { n.Storage = "lots" }, `invalid --storage "lots"`},
		{func(n *NodeType) { n.Storage = "-1Gi" }, "greater than zero"},
		{func(n *NodeType) { n.Workload = Deployment }, "needs --workload statefulset"},
		{func(n *NodeType) { n.Replicas = -1 }, "invalid --replicas -1"},
		{func(n *NodeType) { n.Groups = []string{"a_b"} }, `invalid group name "a_b"`},
		{func(n *NodeType) { n.Groups = []string{strings.Repeat("g", 21)} }, "at most 20 characters"},
		{func(n *NodeType) { n.Groups = []string{"a", "a"} }, `group "a" appears twice`},
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid node type: %v", err)
	}
	for _, tc := range tests {
		nt := valid
		tc.mutate(&nt)
		err := nt.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.want)
		}
	}
}
