// Package browsertest drives a headless Chromium through chromedp for the
// example app's end-to-end tests.
package browsertest

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// stepTimeout bounds each browser step, so that a page that never
// shows fails the test instead of hanging it.
const stepTimeout = 20 * time.Second

// chromiumPath returns the path of a Chromium or Chrome binary. Outside CI,
// the browser tests skip without one; in CI, which installs Chromium, its
// absence fails them.
func chromiumPath(t *testing.T) string {
	t.Helper()

	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}

	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed, but CI must run the browser tests: .ci/run installs it with apt-get install chromium")
	}

	t.Skip("Chromium is not installed, so the browser tests are skipped; install it (on Debian: apt-get install chromium) to run them")

	return ""
}

// Browser is a headless Chromium driven through chromedp.
type Browser struct {
	t   *testing.T
	ctx context.Context
}

// New starts Chromium for t, or skips t when Chromium is missing outside CI.
// When t fails, a screenshot of the page is written to t's temporary
// directory and its path logged.
func New(t *testing.T) *Browser {
	t.Helper()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		// As root, Chromium runs only without its sandbox.
		chromedp.NoSandbox,
		// This machine reaches no outside host; without these flags Chromium
		// keeps trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
	)

	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocator)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAllocator()
	})

	// The first action starts the browser; it must run without a timeout,
	// which would stop the whole browser when it ends.
	require.NoError(t, chromedp.Do(ctx), "starting Chromium")

	b := &Browser{t: t, ctx: ctx}
	t.Cleanup(b.screenshotOnFailure)

	return b
}

func (b *Browser) screenshotOnFailure() {
	if !b.t.Failed() {
		return
	}

	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}

	path := filepath.Join(b.t.TempDir(), "failure.png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}

	b.t.Logf("screenshot of the page at the failure: %s", path)
}

// Do runs steps, failing the test at the first one that fails.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()

	require.NoError(b.t, chromedp.Do(ctx, steps...), what)
}

// Open loads address and returns the HTTP status of the page.
func (b *Browser) Open(address string) int {
	b.t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()

	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(address))
	require.NoError(b.t, err, "opening %s", address)

	return int(resp.Status)
}

// Text returns the text of the element sel selects, once it is visible.
func (b *Browser) Text(sel string) string {
	b.t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()

	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, "reading %s", sel)

	return text
}

// Location returns the address of the page.
func (b *Browser) Location() *url.URL {
	b.t.Helper()

	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()

	location, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(b.t, err)

	u, err := url.Parse(location)
	require.NoError(b.t, err)

	return u
}
