package app

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestChartComponentsMatchTheModuleTable keeps the Helm chart's component list in step with the
// module table: one entry per component, calling exactly the components it calls, serving Kitex
// exactly when another component calls it, mounting the data volume exactly when it uses the
// blob store (local blobs live on it), and one replica of a component that runs only once.
func TestChartComponentsMatchTheModuleTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "charts", "douyin", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Components map[string]struct {
			RPC       bool     `yaml:"rpc"`
			Calls     []string `yaml:"calls"`
			NeedsData bool     `yaml:"needsData"`
			Replicas  int      `yaml:"replicas"`
			Autoscale struct {
				MaxReplicas int `yaml:"maxReplicas"`
			} `yaml:"autoscaling"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	table := describedTable()
	var charted []string
	for name := range values.Components {
		charted = append(charted, name)
	}
	sort.Strings(charted)
	components := Components()
	sort.Strings(components)
	if !slices.Equal(charted, components) {
		t.Fatalf("chart components %v, module table components %v", charted, components)
	}
	for _, name := range components {
		c := values.Components[name]
		var calls []string
		for _, d := range table[name].deps {
			if table[d].component {
				calls = append(calls, d)
			}
		}
		sort.Strings(calls)
		chartCalls := slices.Sorted(slices.Values(c.Calls))
		if !slices.Equal(chartCalls, calls) {
			t.Errorf("components.%s.calls = %v, the module table calls %v", name, chartCalls, calls)
		}
		if c.RPC != Called(name) {
			t.Errorf("components.%s.rpc = %v, but called by another component: %v", name, c.RPC, Called(name))
		}
		if usesBlobs := slices.Contains(table[name].deps, blobs); c.NeedsData != usesBlobs {
			t.Errorf("components.%s.needsData = %v, but uses the blob store: %v", name, c.NeedsData, usesBlobs)
		}
	}
}
