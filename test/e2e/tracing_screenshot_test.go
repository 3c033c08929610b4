//go:build tracing && screenshot

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJaegerScreenshot writes docs/images/jaeger-like-trace.png, the trace of one like in the
// Jaeger UI, taken in headless Chromium. It documents rather than tests, hence its own tag:
//
//	go test -tags 'tracing screenshot' -run TestJaegerScreenshot ./test/e2e/
//
// against the multi-process deployment (DOUYIN_E2E_BASE_URL), with DOUYIN_E2E_JAEGER_URL naming
// a Jaeger that serves its UI (the chart's image does; the binary deps.sh builds from the Go
// module serves the API only, see docs/operations.md).
func TestJaegerScreenshot(t *testing.T) {
	requireDeployment(t)
	id, tr, _ := likeTrace(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (scripts/deps.sh installs it)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1600, 1000))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(jaegerURL()+"/trace/"+id)); err != nil {
		t.Fatalf("open trace %s: %v", id, err)
	}
	// The trace page lists each span's operation once it has loaded the trace.
	deadline := time.Now().Add(30 * time.Second)
	for {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.innerText.includes("consume douyin-favorite")`))
		if err == nil && shown {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Jaeger UI never showed trace %s (last error %v)", id, err)
		}
		time.Sleep(200 * time.Millisecond) // polling the page
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of trace %s: %v", id, err)
	}
	out := filepath.Join(repoRoot, "docs", "images", "jaeger-like-trace.png")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: trace %s, %d spans from %v", out, id, len(tr), keys(tr.services()))
}
