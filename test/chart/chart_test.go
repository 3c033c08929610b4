// Package chart validates charts/douyin offline: it renders the chart with the Helm library for
// several values sets, strictly decodes every object into the Kubernetes and Istio Go types
// (Istio specs through their proto descriptors, so a misspelt field fails), checks what the
// operators rely on (probes, HPA bounds, PDBs, retry budgets, port names, no secrets in
// ConfigMaps) and runs `helm lint --strict`. No cluster is needed.
package chart

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	istioscheme "istio.io/client-go/pkg/clientset/versioned/scheme"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	networkingapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
)

const (
	chartDir    = "../../charts/douyin"
	releaseName = "prod"
	namespace   = "douyin"
	kubeVersion = "v1.31.0"
)

// secretEnvNames are the settings that must only come from the Secret, never from a ConfigMap.
var secretEnvNames = []string{
	"DOUYIN_AUTH_SECRET", "DOUYIN_DB_DSN", "DOUYIN_DB_REPLICAS", "DOUYIN_CACHE_REDIS_PASSWORD",
	"DOUYIN_BLOB_QINIU_ACCESS_KEY", "DOUYIN_BLOB_QINIU_SECRET_KEY",
}

// valueSets are the deployments operators run; each is testdata/<name>.yaml.
var valueSets = []string{
	"single-embedded",
	"single-external-autoscaling",
	"distributed-istio",
	"distributed-istio-autoscaling",
	"distributed-consul",
	"distributed-evaluation",
}

// object is one rendered manifest, decoded.
type object struct {
	source string
	kind   string
	name   string
	raw    map[string]any
	typed  runtime.Object // nil for Prometheus Operator kinds
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart %s: %v", chartDir, err)
	}
	return ch
}

func loadValues(t *testing.T, name string) map[string]any {
	t.Helper()
	vals, err := chartutil.ReadValuesFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatalf("read values %s: %v", name, err)
	}
	return vals.AsMap()
}

// render runs `helm install --dry-run` client-side and returns the manifests, hooks included.
func render(ch *chart.Chart, vals map[string]any) (string, error) {
	inst := action.NewInstall(&action.Configuration{})
	inst.ClientOnly = true
	inst.DryRun = true
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	inst.Replace = true
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return "", err
	}
	inst.KubeVersion = kv
	rel, err := inst.Run(ch, vals)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "\n---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return b.String(), nil
}

func decodeAll(t *testing.T, manifest string) []object {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, istioscheme.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatalf("build scheme: %v", err)
		}
	}
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})

	docs := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var objs []object
	for _, k := range keys {
		doc := docs[k]
		var raw map[string]any
		if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
			t.Errorf("%s: not YAML: %v\n%s", k, err, doc)
			continue
		}
		if len(raw) == 0 {
			continue
		}
		o := object{source: k, raw: raw}
		o.kind, _ = raw["kind"].(string)
		if md, ok := raw["metadata"].(map[string]any); ok {
			o.name, _ = md["name"].(string)
		}
		apiVersion, _ := raw["apiVersion"].(string)
		if strings.HasPrefix(apiVersion, "monitoring.coreos.com/") {
			decodeMonitoring(t, o, doc)
			objs = append(objs, o)
			continue
		}
		typed, _, err := strict.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Errorf("%s %s/%s: strict decode: %v", k, o.kind, o.name, err)
			continue
		}
		o.typed = typed
		if strings.Contains(apiVersion, "istio.io/") {
			checkIstioSpec(t, o)
		}
		objs = append(objs, o)
	}
	return objs
}

// checkIstioSpec re-reads the spec through its proto message: the client-go types accept unknown
// fields, protojson with DiscardUnknown=false does not.
func checkIstioSpec(t *testing.T, o object) {
	t.Helper()
	spec := reflect.ValueOf(o.typed).Elem().FieldByName("Spec")
	if !spec.IsValid() {
		t.Errorf("%s %s: no Spec field", o.kind, o.name)
		return
	}
	msg, ok := spec.Addr().Interface().(proto.Message)
	if !ok {
		t.Errorf("%s %s: spec %T is not a proto message", o.kind, o.name, spec.Interface())
		return
	}
	js, err := json.Marshal(o.raw["spec"])
	if err != nil {
		t.Errorf("%s %s: marshal spec: %v", o.kind, o.name, err)
		return
	}
	fresh := msg.ProtoReflect().New().Interface()
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, fresh); err != nil {
		t.Errorf("%s %s: spec against %s: %v", o.kind, o.name, fresh.ProtoReflect().Descriptor().FullName(), err)
	}
}

// Prometheus Operator kinds are checked against these structs (strictly), rather than pulling the
// operator's API module and its Kubernetes version constraints into go.mod.
type serviceMonitor struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   metaObject         `json:"metadata"`
	Spec       serviceMonitorSpec `json:"spec"`
}

type metaObject struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type serviceMonitorSpec struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	NamespaceSelector *struct {
		MatchNames []string `json:"matchNames"`
	} `json:"namespaceSelector,omitempty"`
	Endpoints []struct {
		Port          string `json:"port"`
		Path          string `json:"path"`
		Interval      string `json:"interval,omitempty"`
		ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		Scheme        string `json:"scheme,omitempty"`
	} `json:"endpoints"`
}

type prometheusRule struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   metaObject `json:"metadata"`
	Spec       struct {
		Groups []struct {
			Name     string `json:"name"`
			Interval string `json:"interval,omitempty"`
			Rules    []struct {
				Alert       string            `json:"alert,omitempty"`
				Record      string            `json:"record,omitempty"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

func decodeMonitoring(t *testing.T, o object, doc string) {
	t.Helper()
	var err error
	switch o.kind {
	case "ServiceMonitor":
		var sm serviceMonitor
		err = yaml.UnmarshalStrict([]byte(doc), &sm)
		if err == nil && len(sm.Spec.Endpoints) == 0 {
			err = fmt.Errorf("no endpoints")
		}
	case "PrometheusRule":
		var pr prometheusRule
		err = yaml.UnmarshalStrict([]byte(doc), &pr)
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				if r.Expr == "" || (r.Alert == "") == (r.Record == "") {
					err = fmt.Errorf("group %s: rule %q/%q needs an expr and exactly one of alert/record", g.Name, r.Alert, r.Record)
				}
				if r.For != "" {
					if _, perr := time.ParseDuration(r.For); perr != nil {
						err = fmt.Errorf("alert %s: for %q: %v", r.Alert, r.For, perr)
					}
				}
			}
		}
	default:
		err = fmt.Errorf("unexpected kind")
	}
	if err != nil {
		t.Errorf("%s %s/%s: %v", o.source, o.kind, o.name, err)
	}
}

func TestChartRendersAndValidates(t *testing.T) {
	ch := loadChart(t)
	for _, name := range valueSets {
		t.Run(name, func(t *testing.T) {
			manifest, err := render(ch, loadValues(t, name))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			objs := decodeAll(t, manifest)
			if len(objs) == 0 {
				t.Fatal("nothing rendered")
			}
			checkSemantics(t, name, objs)
		})
	}
}

// TestChartRejectsBadValues: combinations that cannot work fail at render time with a message.
func TestChartRejectsBadValues(t *testing.T) {
	ch := loadChart(t)
	cases := []struct {
		name  string
		base  string
		patch string
		want  string
	}{
		{"distributed on sqlite", "distributed-istio", "database: {driver: sqlite}", "database.driver=mysql"},
		{"secret in config", "single-embedded", "config: {auth.secret: not-here}", "is a secret"},
		{"secret DSN in config", "distributed-istio", "config: {db.dsn: 'u:p@tcp(x)/d'}", "is a secret"},
		{"no Secret", "distributed-istio", "secrets: {existingSecret: ''}", "secrets.existingSecret is required"},
		{"HPA min above max", "distributed-istio", "components: {user: {autoscaling: {enabled: true, minReplicas: 5, maxReplicas: 2}}}", "minReplicas"},
		{"scaled embedded", "single-embedded", "single: {replicas: 3}", "needs database.driver=mysql"},
		{"bad mode", "single-embedded", "deploymentMode: both", "deploymentMode"},
		{"unknown key", "single-embedded", "databse: {driver: mysql}", "databse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vals := loadValues(t, c.base)
			var patch map[string]any
			if err := yaml.Unmarshal([]byte(c.patch), &patch); err != nil {
				t.Fatal(err)
			}
			vals = chartutil.CoalesceTables(patch, vals)
			_, err := render(ch, vals)
			if err == nil {
				t.Fatalf("rendered; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q; want it to contain %q", err, c.want)
			}
		})
	}
}

// TestHelmLintStrict is `helm lint --strict` for every values set.
func TestHelmLintStrict(t *testing.T) {
	for _, name := range append([]string{""}, valueSets...) {
		t.Run("values="+name, func(t *testing.T) {
			var vals map[string]any
			if name != "" {
				vals = loadValues(t, name)
			}
			l := action.NewLint()
			l.Strict = true
			l.Namespace = namespace
			res := l.Run([]string{chartDir}, vals)
			for _, m := range res.Messages {
				t.Logf("lint: %s", m)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("helm lint --strict: %v", res.Errors)
			}
		})
	}
}

// --- semantics ---

type podOwner struct {
	kind, name string
	replicas   *int32
	tmpl       corev1.PodTemplateSpec
}

func checkSemantics(t *testing.T, set string, objs []object) {
	t.Helper()
	var owners []podOwner
	services := map[string]*corev1.Service{}
	hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
	var pdbs []*policyv1.PodDisruptionBudget
	var vss []*istionet.VirtualService
	for _, o := range objs {
		switch x := o.typed.(type) {
		case *appsv1.Deployment:
			owners = append(owners, podOwner{"Deployment", x.Name, x.Spec.Replicas, x.Spec.Template})
		case *appsv1.StatefulSet:
			owners = append(owners, podOwner{"StatefulSet", x.Name, x.Spec.Replicas, x.Spec.Template})
		case *batchv1.Job:
			checkPodSecurity(t, "Job "+x.Name, x.Spec.Template.Spec)
		case *corev1.Service:
			services[x.Name] = x
		case *autoscalingv2.HorizontalPodAutoscaler:
			hpas[x.Spec.ScaleTargetRef.Name] = x
		case *policyv1.PodDisruptionBudget:
			pdbs = append(pdbs, x)
		case *corev1.ConfigMap:
			checkConfigMap(t, x)
		case *istionet.VirtualService:
			vss = append(vss, x)
		}
	}
	if len(owners) == 0 {
		t.Fatal("no workloads rendered")
	}

	// Probes on every container, pointing at named ports of that container.
	for _, w := range owners {
		spec := w.tmpl.Spec
		for _, c := range spec.Containers {
			where := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
			if c.StartupProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s: needs startup, liveness and readiness probes", where)
				continue
			}
			for _, p := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
				checkProbePort(t, where, c, p)
			}
			if strings.HasPrefix(c.Image, "ghcr.io/douyin-backend/") {
				if got := c.LivenessProbe.HTTPGet; got == nil || got.Path != "/healthz" {
					t.Errorf("%s: liveness must GET /healthz", where)
				}
				if got := c.ReadinessProbe.HTTPGet; got == nil || got.Path != "/readyz" {
					t.Errorf("%s: readiness must GET /readyz", where)
				}
				if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
					t.Errorf("%s: needs cpu requests and a memory limit", where)
				}
			}
		}
		checkPodSecurity(t, w.kind+" "+w.name, spec)

		// HPA bounds, and no fixed replicas fighting the HPA.
		if h, ok := hpas[w.name]; ok {
			if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
				t.Errorf("HPA %s: min %v max %d", h.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
			}
			if w.replicas != nil {
				t.Errorf("Deployment %s sets replicas although an HPA scales it", w.name)
			}
			delete(hpas, w.name)
		}
	}
	for name := range hpas {
		t.Errorf("HPA targets %s, which is not rendered", name)
	}

	// PDBs select a workload and still allow an eviction.
	for _, p := range pdbs {
		w, ok := ownerSelected(owners, p.Spec.Selector.MatchLabels)
		if !ok {
			t.Errorf("PDB %s selects no workload", p.Name)
			continue
		}
		replicas := int32(1)
		if w.replicas != nil {
			replicas = *w.replicas
		}
		for _, o := range objs {
			if h, ok := o.typed.(*autoscalingv2.HorizontalPodAutoscaler); ok && h.Spec.ScaleTargetRef.Name == w.name && h.Spec.MinReplicas != nil {
				replicas = *h.Spec.MinReplicas
			}
		}
		if p.Spec.MaxUnavailable != nil {
			if v := p.Spec.MaxUnavailable.IntValue(); p.Spec.MaxUnavailable.Type == intstr.Int && (v < 1 || int32(v) >= replicas) {
				t.Errorf("PDB %s: maxUnavailable %d with %d replicas", p.Name, v, replicas)
			}
		}
		if p.Spec.MinAvailable != nil && p.Spec.MinAvailable.Type == intstr.Int && int32(p.Spec.MinAvailable.IntValue()) >= replicas {
			t.Errorf("PDB %s: minAvailable %d with %d replicas blocks every eviction", p.Name, p.Spec.MinAvailable.IntValue(), replicas)
		}
	}

	// Service ports: Istio protocol names, and named target ports that exist in the selected pods.
	for _, s := range services {
		w, ok := ownerSelected(owners, s.Spec.Selector)
		if !ok {
			t.Errorf("Service %s selects no workload", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if !hasProtocolPrefix(p.Name) {
				t.Errorf("Service %s port %q: Istio needs a protocol prefix (http, http-, tcp-, grpc-)", s.Name, p.Name)
			}
			if p.TargetPort.Type != intstr.String {
				t.Errorf("Service %s port %s: use a named targetPort", s.Name, p.Name)
				continue
			}
			if !podHasPort(w.tmpl.Spec, p.TargetPort.StrVal, p.Port) {
				t.Errorf("Service %s port %s: targetPort %s (%d) is no container port of %s", s.Name, p.Name, p.TargetPort.StrVal, p.Port, w.name)
			}
		}
	}

	// Retry budgets, safe retries, and destinations that exist.
	for _, vs := range vss {
		for _, r := range vs.Spec.Http {
			where := fmt.Sprintf("VirtualService %s route %s", vs.Name, r.Name)
			if r.Timeout == nil || r.Timeout.AsDuration() <= 0 {
				t.Errorf("%s: needs a timeout", where)
			}
			if r.Retries == nil {
				t.Errorf("%s: set retries explicitly (Istio retries twice by default)", where)
			} else if r.Retries.Attempts > 0 {
				if !retrySafe(r.Match) {
					t.Errorf("%s: retries on a route that is not safe to repeat", where)
				}
				if r.Retries.PerTryTimeout == nil {
					t.Errorf("%s: retries need a perTryTimeout", where)
				} else if r.Timeout != nil {
					total := time.Duration(r.Retries.Attempts+1) * r.Retries.PerTryTimeout.AsDuration()
					if total > r.Timeout.AsDuration() {
						t.Errorf("%s: (1 + %d retries) × %s = %s exceeds the route timeout %s", where,
							r.Retries.Attempts, r.Retries.PerTryTimeout.AsDuration(), total, r.Timeout.AsDuration())
					}
				}
			}
			for _, d := range r.Route {
				host := strings.SplitN(d.Destination.Host, ".", 2)[0]
				s, ok := services[host]
				if !ok {
					t.Errorf("%s: destination %s is no rendered Service", where, d.Destination.Host)
					continue
				}
				if d.Destination.Port == nil || !serviceHasPort(s, int32(d.Destination.Port.Number)) {
					t.Errorf("%s: destination port %v is not a port of Service %s", where, d.Destination.Port, s.Name)
				}
			}
		}
	}
	if strings.Contains(set, "istio") && len(vss) == 0 {
		t.Error("istio enabled but no VirtualService rendered")
	}
}

// retrySafe: only GETs and the idempotent favorite and relation actions may be retried.
func retrySafe(matches []*networkingapi.HTTPMatchRequest) bool {
	if len(matches) == 0 {
		return false
	}
	for _, m := range matches {
		if m.Method != nil && m.Method.GetExact() == "GET" {
			continue
		}
		uri := m.Uri.GetExact()
		if m.Method != nil && m.Method.GetExact() == "POST" &&
			(uri == "/douyin/favorite/action/" || uri == "/douyin/relation/action/") {
			continue
		}
		return false
	}
	return true
}

func checkProbePort(t *testing.T, where string, c corev1.Container, p *corev1.Probe) {
	t.Helper()
	var port intstr.IntOrString
	switch {
	case p.HTTPGet != nil:
		port = p.HTTPGet.Port
	case p.TCPSocket != nil:
		port = p.TCPSocket.Port
	case p.Exec != nil:
		return
	default:
		t.Errorf("%s: probe without a handler", where)
		return
	}
	for _, cp := range c.Ports {
		if (port.Type == intstr.String && cp.Name == port.StrVal) || (port.Type == intstr.Int && cp.ContainerPort == port.IntVal) {
			return
		}
	}
	t.Errorf("%s: probe port %s is not a container port", where, port.String())
}

func checkPodSecurity(t *testing.T, where string, spec corev1.PodSpec) {
	t.Helper()
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) == 0 || sc.Capabilities.Drop[0] != "ALL" {
			t.Errorf("%s container %s: needs allowPrivilegeEscalation=false and capabilities drop ALL", where, c.Name)
		}
		nonRoot := (sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) ||
			(spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot)
		if !nonRoot {
			t.Errorf("%s container %s: must run as non-root", where, c.Name)
		}
	}
}

func checkConfigMap(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	// The client policy follows the mode: off under Istio (the mesh retries), on with Consul.
	wantPolicy := map[string]string{"dns": "off", "consul": "client"}[cm.Data["DOUYIN_RPC_DISCOVERY"]]
	if got := cm.Data["DOUYIN_RPC_CLIENT_POLICY"]; wantPolicy != "" && got != wantPolicy {
		t.Errorf("ConfigMap %s: DOUYIN_RPC_CLIENT_POLICY %q with discovery %q, want %q", cm.Name, got, cm.Data["DOUYIN_RPC_DISCOVERY"], wantPolicy)
	}
	for k, v := range cm.Data {
		for _, s := range secretEnvNames {
			if k == s {
				t.Errorf("ConfigMap %s holds the secret %s", cm.Name, k)
			}
		}
		lower := strings.ToLower(v)
		if strings.Contains(lower, "password") || strings.Contains(v, "@tcp(") || strings.Contains(v, "s3cr3t") {
			t.Errorf("ConfigMap %s key %s looks like a secret value: %q", cm.Name, k, v)
		}
	}
}

func ownerSelected(owners []podOwner, selector map[string]string) (podOwner, bool) {
	if len(selector) == 0 {
		return podOwner{}, false
	}
	for _, w := range owners {
		match := true
		for k, v := range selector {
			if w.tmpl.Labels[k] != v {
				match = false
				break
			}
		}
		if match {
			return w, true
		}
	}
	return podOwner{}, false
}

func podHasPort(spec corev1.PodSpec, name string, _ int32) bool {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func serviceHasPort(s *corev1.Service, port int32) bool {
	for _, p := range s.Spec.Ports {
		if p.Port == port {
			return true
		}
	}
	return false
}

func hasProtocolPrefix(name string) bool {
	for _, p := range []string{"http", "http-", "http2", "https", "grpc", "tcp", "tls", "mongo", "redis", "mysql"} {
		if name == p || strings.HasPrefix(name, p+"-") {
			return true
		}
	}
	return false
}

// Ensure the rendered test data directory exists when the package is run from elsewhere.
func TestMain(m *testing.M) {
	if _, err := os.Stat(chartDir); err != nil {
		fmt.Fprintf(os.Stderr, "chart not found at %s: run from test/chart\n", chartDir)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestChartTracing: every component gets the OTLP endpoint and sampling ratio from the shared
// ConfigMap (the in-chart Jaeger's Service when evaluation.jaeger is on), and nothing when the
// endpoint is empty, which leaves tracing off.
func TestChartTracing(t *testing.T) {
	ch := loadChart(t)
	for _, c := range []struct {
		set                    string
		endpoint, proto, ratio string
		jaegerService          bool
	}{
		{"single-embedded", "", "", "", false},
		{"distributed-consul", "otel-collector.observability.svc:4318", "http", "0.05", false},
		{"distributed-evaluation", "prod-douyin-jaeger:4317", "grpc", "0.1", true},
	} {
		t.Run(c.set, func(t *testing.T) {
			manifest, err := render(ch, loadValues(t, c.set))
			if err != nil {
				t.Fatal(err)
			}
			var jaeger bool
			var configMaps int
			for _, o := range decodeAll(t, manifest) {
				if s, ok := o.typed.(*corev1.Service); ok && strings.HasSuffix(s.Name, "-jaeger") {
					jaeger = serviceHasPort(s, 4317) && serviceHasPort(s, 4318) && serviceHasPort(s, 16686)
				}
				cm, ok := o.typed.(*corev1.ConfigMap)
				if !ok || cm.Data["DOUYIN_DB_DRIVER"] == "" {
					continue // not the components' settings
				}
				configMaps++
				if got := cm.Data["DOUYIN_TELEMETRY_OTLP_ENDPOINT"]; got != c.endpoint {
					t.Errorf("DOUYIN_TELEMETRY_OTLP_ENDPOINT %q, want %q", got, c.endpoint)
				}
				if got := cm.Data["DOUYIN_TELEMETRY_OTLP_PROTOCOL"]; got != c.proto {
					t.Errorf("DOUYIN_TELEMETRY_OTLP_PROTOCOL %q, want %q", got, c.proto)
				}
				if got := cm.Data["DOUYIN_TELEMETRY_SAMPLE_RATIO"]; got != c.ratio {
					t.Errorf("DOUYIN_TELEMETRY_SAMPLE_RATIO %q, want %q", got, c.ratio)
				}
			}
			if configMaps != 1 {
				t.Fatalf("%d settings ConfigMaps, want 1 (shared by every component)", configMaps)
			}
			if jaeger != c.jaegerService {
				t.Errorf("in-chart Jaeger Service with OTLP and query ports: %v, want %v", jaeger, c.jaegerService)
			}
		})
	}
}

// TestChartGoRuntime: every component's container gets GOGC from goRuntime.gcPercent and, unless
// turned off, GOMEMLIMIT from its own memory limit.
func TestChartGoRuntime(t *testing.T) {
	ch := loadChart(t)
	for _, c := range []struct {
		set      string
		override map[string]any
		gogc     string
		memLimit bool
	}{
		{"distributed-consul", nil, "200", true},
		{"distributed-evaluation", nil, "200", true},
		{"single-embedded", map[string]any{"gcPercent": 150, "memoryLimitFromContainer": false}, "150", false},
	} {
		t.Run(c.set, func(t *testing.T) {
			vals := loadValues(t, c.set)
			if c.override != nil {
				vals["goRuntime"] = c.override
			}
			manifest, err := render(ch, vals)
			if err != nil {
				t.Fatal(err)
			}
			var containers int
			for _, o := range decodeAll(t, manifest) {
				d, ok := o.typed.(*appsv1.Deployment)
				if !ok {
					continue
				}
				for _, ctr := range d.Spec.Template.Spec.Containers {
					if ctr.Name != "douyin" {
						continue // the evaluation backends: not Go programs of ours
					}
					containers++
					env := map[string]corev1.EnvVar{}
					for _, e := range ctr.Env {
						env[e.Name] = e
					}
					if got := env["GOGC"].Value; got != c.gogc {
						t.Errorf("%s/%s: GOGC %q, want %q", d.Name, ctr.Name, got, c.gogc)
					}
					limit, has := env["GOMEMLIMIT"]
					if has != c.memLimit {
						t.Errorf("%s/%s: GOMEMLIMIT set %v, want %v", d.Name, ctr.Name, has, c.memLimit)
					}
					if has && (limit.ValueFrom == nil || limit.ValueFrom.ResourceFieldRef == nil || limit.ValueFrom.ResourceFieldRef.Resource != "limits.memory") {
						t.Errorf("%s/%s: GOMEMLIMIT %+v, want the container's limits.memory", d.Name, ctr.Name, limit)
					}
				}
			}
			if containers == 0 {
				t.Fatal("no douyin container rendered")
			}
		})
	}
}
