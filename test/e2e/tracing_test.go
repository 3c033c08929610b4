//go:build tracing

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tracing tests run against the multi-process deployment of scripts/up.sh, whose processes
// export every trace to the Jaeger that scripts/deps.sh runs: go test -tags tracing ./test/e2e/
// with DOUYIN_E2E_BASE_URL set (scripts/test.sh does). DOUYIN_E2E_JAEGER_URL names Jaeger's
// query API (default http://127.0.0.1:16686).

const (
	jaegerURLEnv = "DOUYIN_E2E_JAEGER_URL"
	// traceTimeout bounds how long a finished request's spans take to be queryable: each
	// process exports every second, Jaeger batches again, the consumer runs later.
	traceTimeout = 30 * time.Second
)

var traceID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// jaegerSpan is one span of Jaeger's query API (/api/traces/<id>).
type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	ProcessID     string `json:"processID"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	service string
}

func (s jaegerSpan) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// sqlSystem is the database of a SQL span: db.system.name in current semantic conventions,
// db.system in older ones.
func (s jaegerSpan) sqlSystem() string {
	if v := s.tag("db.system.name"); v != "" {
		return v
	}
	return s.tag("db.system")
}

// jaegerTrace is one trace by span id.
type jaegerTrace map[string]jaegerSpan

func (tr jaegerTrace) services() map[string]bool {
	out := map[string]bool{}
	for _, s := range tr {
		out[s.service] = true
	}
	return out
}

// find returns the spans that satisfy match.
func (tr jaegerTrace) find(match func(jaegerSpan) bool) []jaegerSpan {
	var out []jaegerSpan
	for _, s := range tr {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

// descends reports whether s is ancestor or a descendant of it.
func (tr jaegerTrace) descends(s jaegerSpan, ancestor string) bool {
	for seen := 0; seen < len(tr); seen++ {
		if s.SpanID == ancestor {
			return true
		}
		if len(s.References) == 0 {
			return false
		}
		parent, ok := tr[s.References[0].SpanID]
		if !ok {
			return false
		}
		s = parent
	}
	return false
}

func (tr jaegerTrace) String() string {
	var b strings.Builder
	for _, s := range tr {
		fmt.Fprintf(&b, "\n  %s: %s", s.service, s.OperationName)
	}
	return b.String()
}

func jaegerURL() string {
	if u := os.Getenv(jaegerURLEnv); u != "" {
		return strings.TrimRight(u, "/")
	}
	return "http://127.0.0.1:16686"
}

// fetchTrace returns the trace id as Jaeger has it now; nil while Jaeger does not know it.
func fetchTrace(t *testing.T, id string) jaegerTrace {
	t.Helper()
	resp, err := http.Get(jaegerURL() + "/api/traces/" + id)
	if err != nil {
		t.Fatalf("jaeger query API at %s: %v (scripts/deps.sh starts it)", jaegerURL(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jaeger: GET /api/traces/%s: HTTP %d", id, resp.StatusCode)
	}
	var body struct {
		Data []struct {
			Spans     []jaegerSpan `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("jaeger: decode trace %s: %v", id, err)
	}
	if len(body.Data) == 0 {
		return nil
	}
	tr := jaegerTrace{}
	for _, s := range body.Data[0].Spans {
		s.service = body.Data[0].Processes[s.ProcessID].ServiceName
		tr[s.SpanID] = s
	}
	return tr
}

// awaitTrace polls Jaeger until the trace id satisfies complete, and returns it.
func awaitTrace(t *testing.T, id, what string, complete func(jaegerTrace) string) jaegerTrace {
	t.Helper()
	deadline := time.Now().Add(traceTimeout)
	for {
		tr := fetchTrace(t, id)
		missing := "the trace"
		if tr != nil {
			missing = complete(tr)
		}
		if missing == "" {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: trace %s still lacks %s after %v; it has:%v", what, id, missing, traceTimeout, tr)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// requestTraceID returns the X-Request-Id of r, which must be a W3C trace id.
func requestTraceID(t *testing.T, r *apiResp) string {
	t.Helper()
	id := r.Header.Get("X-Request-Id")
	if !traceID.MatchString(id) {
		t.Fatalf("%s: X-Request-Id %q is not a trace id", r.what, id)
	}
	return id
}

func requireDeployment(t *testing.T) {
	t.Helper()
	if os.Getenv(baseURLEnv) == "" {
		t.Fatalf("the tracing tests need the multi-process deployment exporting to Jaeger: set %s (scripts/up.sh prints it)", baseURLEnv)
	}
}

// One like through the gateway is one trace: the gateway's request, the favorite service's
// RPC and its Redis step, the queue publish, the consumer and its SQL batch, found by the
// X-Request-Id the gateway answered.
func TestTracingLikeIsOneTrace(t *testing.T) {
	requireDeployment(t)
	id, tr, liker := likeTrace(t)
	if gw := tr.find(isGatewayRoot); len(gw) != 1 {
		t.Errorf("want one root span, the gateway's request; trace:%v", tr)
	}
	for _, s := range tr {
		for _, tag := range s.Tags {
			if v := fmt.Sprint(tag.Value); strings.Contains(v, liker.Token) {
				t.Errorf("span %s of %s holds the user's token in %s", s.OperationName, s.service, tag.Key)
			}
		}
	}
	t.Logf("like trace %s: %d spans from %d services %v", id, len(tr), len(tr.services()), keys(tr.services()))
}

// likeTraceComplete names what a like's trace still lacks, or returns "".
func likeTraceComplete(tr jaegerTrace) string {
	services := tr.services()
	for _, s := range []string{"douyin-gateway", "douyin-favorite"} {
		if !services[s] {
			return "spans of " + s
		}
	}
	// The request's span ends last, after the response, so it may be exported after the rest.
	if len(tr.find(isGatewayRoot)) == 0 {
		return "the gateway's request span, with no parent"
	}
	if len(tr.find(func(s jaegerSpan) bool { return s.service == "douyin-favorite" && s.tag("db.system") == "redis" })) == 0 {
		return "the favorite service's Redis step"
	}
	if len(tr.find(func(s jaegerSpan) bool { return s.OperationName == "publish douyin-favorite" })) == 0 {
		return "the queue publish"
	}
	consumers := tr.find(func(s jaegerSpan) bool {
		return s.OperationName == "consume douyin-favorite" && s.service == "douyin-favorite"
	})
	if len(consumers) == 0 {
		return "the favorite consumer"
	}
	for _, c := range consumers {
		if len(tr.find(func(s jaegerSpan) bool { return s.sqlSystem() == "mysql" && tr.descends(s, c.SpanID) })) > 0 {
			return ""
		}
	}
	return "the consumer's SQL"
}

// isGatewayRoot is the gateway's server span of a request that came without a trace.
func isGatewayRoot(s jaegerSpan) bool {
	return s.service == "douyin-gateway" && s.tag("span.kind") == "server" && len(s.References) == 0
}

// likeTrace likes a fresh video and returns the like's trace id once its trace is complete.
func likeTrace(t *testing.T) (string, jaegerTrace, *testUser) {
	t.Helper()
	author, liker := api.register(t, "trace-author"), api.register(t, "trace-liker")
	v := api.publish(t, author, uniqueName("traced like"), "testsrc.mp4")
	id := requestTraceID(t, api.favoriteRaw(t, liker.Token, v.ID, 1).mustOK(t))
	return id, awaitTrace(t, id, "a like", likeTraceComplete), liker
}

// One publish is one trace that reaches the media worker's transcode.
func TestTracingPublishReachesTheTranscode(t *testing.T) {
	requireDeployment(t)
	author := api.register(t, "trace-publisher")
	title := uniqueName("traced publish")
	id := requestTraceID(t, api.publishRaw(t, map[string]string{"token": author.Token, "title": title}, mp4Upload(t, "testsrc.mp4"), nil).mustOK(t))
	tr := awaitTrace(t, id, "a publish", func(tr jaegerTrace) string {
		for _, s := range []string{"douyin-gateway", "douyin-video", "douyin-media"} {
			if !tr.services()[s] {
				return "spans of " + s
			}
		}
		for _, step := range []string{"ffprobe", "ffmpeg transcode", "ffmpeg cover"} {
			if len(tr.find(func(s jaegerSpan) bool { return s.service == "douyin-media" && s.OperationName == step })) == 0 {
				return "the media worker's " + step
			}
		}
		return ""
	})
	t.Logf("publish trace %s: %d spans from %d services %v", id, len(tr), len(tr.services()), keys(tr.services()))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
