package chart

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// TestChartKeepsInternalPortsPrivate renders the distributed chart with a public Service type
// and checks that nothing internal is reachable from outside: Kitex (8888) and admin (9090)
// only on ClusterIP Services, a NetworkPolicy per component admitting Kitex only from its
// callers and the admin port only from the monitoring namespace, the admin server bound to the
// pod address, and /tmp and ephemeral storage bounded.
func TestChartKeepsInternalPortsPrivate(t *testing.T) {
	ch := loadChart(t)
	for _, set := range []string{"distributed-consul", "single-embedded"} {
		t.Run(set, func(t *testing.T) {
			vals := loadValues(t, set)
			vals["service"] = map[string]any{"type": "LoadBalancer"}
			manifest, err := render(ch, vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			objs := decodeAll(t, manifest)
			policies := map[string]*networkingv1.NetworkPolicy{}
			var deployments []*appsv1.Deployment
			public := 0
			for _, o := range objs {
				switch v := o.typed.(type) {
				case *corev1.Service:
					if v.Spec.Type == corev1.ServiceTypeClusterIP || v.Spec.Type == "" {
						continue
					}
					public++
					for _, p := range v.Spec.Ports {
						if p.Port != 8080 {
							t.Errorf("Service %s of type %s exposes port %d", v.Name, v.Spec.Type, p.Port)
						}
					}
				case *networkingv1.NetworkPolicy:
					policies[v.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"]] = v
				case *appsv1.Deployment:
					deployments = append(deployments, v)
				}
			}
			if public != 1 {
				t.Errorf("%d Services of the public type, want exactly the HTTP edge's", public)
			}
			if len(deployments) == 0 {
				t.Fatal("no Deployments rendered")
			}
			for _, d := range deployments {
				component := d.Spec.Selector.MatchLabels["app.kubernetes.io/component"]
				checkPodLimits(t, d)
				p, ok := policies[component]
				if !ok {
					t.Errorf("no NetworkPolicy selects %s", component)
					continue
				}
				checkPolicy(t, component, p)
			}
			if set == "distributed-consul" {
				// The user service is called by the gateway, relation and message only.
				if got := rpcCallers(policies["user"]); !slices.Equal(got, []string{"gateway", "message", "relation"}) {
					t.Errorf("Kitex callers admitted to user: %v, want gateway, message, relation", got)
				}
				if got := rpcCallers(policies["media"]); len(got) != 0 {
					t.Errorf("Kitex callers admitted to media (it serves no Kitex): %v", got)
				}
			}
		})
	}
}

// checkPolicy: the admin port only from the monitoring namespace, nothing but the gateway's
// HTTP port open to all.
func checkPolicy(t *testing.T, component string, p *networkingv1.NetworkPolicy) {
	t.Helper()
	if !slices.Equal(p.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("%s: policy types %v", component, p.Spec.PolicyTypes)
	}
	for _, rule := range p.Spec.Ingress {
		for _, port := range rule.Ports {
			name := port.Port.String()
			switch {
			case name == "http" && (component == "gateway" || component == "all"):
				if len(rule.From) != 0 {
					t.Errorf("%s: the HTTP port is restricted to %v", component, rule.From)
				}
			case name == "tcp-rpc":
				if len(rule.From) == 0 {
					t.Errorf("%s: Kitex open to every source", component)
				}
			case name == "http-admin":
				if len(rule.From) != 1 || rule.From[0].NamespaceSelector == nil ||
					rule.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
					t.Errorf("%s: admin port admitted from %v, want the monitoring namespace only", component, rule.From)
				}
			default:
				t.Errorf("%s: unexpected port %s admitted", component, name)
			}
		}
	}
}

func rpcCallers(p *networkingv1.NetworkPolicy) []string {
	var out []string
	if p == nil {
		return out
	}
	for _, rule := range p.Spec.Ingress {
		if len(rule.Ports) == 1 && rule.Ports[0].Port.String() == "tcp-rpc" {
			for _, f := range rule.From {
				out = append(out, f.PodSelector.MatchLabels["app.kubernetes.io/component"])
			}
		}
	}
	slices.Sort(out)
	return out
}

func checkPodLimits(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.EmptyDir != nil && v.Name == "tmp" && (v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.IsZero()) {
			t.Errorf("%s: /tmp emptyDir has no sizeLimit", d.Name)
		}
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if _, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]; !ok {
			t.Errorf("%s/%s: no ephemeral-storage limit", d.Name, c.Name)
		}
		admin, callerKey := "", false
		component := d.Spec.Selector.MatchLabels["app.kubernetes.io/component"]
		for _, e := range c.Env {
			// The token key only where tokens are signed and checked; the media worker runs
			// ffmpeg on untrusted files and holds no token key.
			if e.Name == "DOUYIN_AUTH_SECRET" && component != "gateway" && component != "all" {
				t.Errorf("%s/%s: the token key is given to %s", d.Name, c.Name, component)
			}
			if e.Name == "DOUYIN_ADMIN_ADDR" {
				admin = e.Value
			}
			if e.Name == "DOUYIN_RPC_CALLER_KEY" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				callerKey = true
			}
		}
		// Consul discovery has no mesh: Kitex calls must be signed, with a key from the Secret.
		if component != "all" && !callerKey {
			t.Errorf("%s/%s: no DOUYIN_RPC_CALLER_KEY from the Secret under Consul discovery", d.Name, c.Name)
		}
		if !strings.HasPrefix(admin, "$(POD_IP):") {
			t.Errorf("%s/%s: DOUYIN_ADMIN_ADDR = %q, want the pod address", d.Name, c.Name, admin)
		}
	}
}

// TestChartPinsImageByDigest: with image.digest the workloads run exactly that image.
func TestChartPinsImageByDigest(t *testing.T) {
	ch := loadChart(t)
	vals := loadValues(t, "distributed-consul")
	digest := "sha256:" + strings.Repeat("ab", 32)
	img, _ := vals["image"].(map[string]any)
	if img == nil {
		img = map[string]any{}
	}
	img["digest"] = digest
	vals["image"] = img
	manifest, err := render(ch, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	n := 0
	for _, o := range decodeAll(t, manifest) {
		if d, ok := o.typed.(*appsv1.Deployment); ok {
			for _, c := range d.Spec.Template.Spec.Containers {
				n++
				if !strings.HasSuffix(c.Image, "@"+digest) {
					t.Errorf("%s/%s runs %s, want the image pinned by digest", d.Name, c.Name, c.Image)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no containers rendered")
	}
	img["digest"] = "latest"
	if _, err := render(ch, vals); err == nil {
		t.Error("a digest that is not sha256:<64 hex> was accepted")
	}
}
