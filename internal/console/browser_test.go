package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium returns the path of Debian's chromium, or skips the test
// (fails it when SEAWALL_TEST_CHROMIUM=1, as CI sets).
func chromium(t *testing.T) string {
	t.Helper()
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("SEAWALL_TEST_CHROMIUM") == "1" {
		t.Fatal("chromium is not installed, and SEAWALL_TEST_CHROMIUM=1 says it must be (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); SEAWALL_TEST_CHROMIUM=1 makes this a failure")
	return ""
}

// browserProblems collects everything that must not happen while a page
// is used: console errors, uncaught exceptions, browser log errors (CSP
// violations land there) and 4xx/5xx responses.
type browserProblems struct {
	mu   sync.Mutex
	list []string
}

func (b *browserProblems) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, fmt.Sprintf(format, args...))
}

func (b *browserProblems) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.list
	b.list = nil
	return out
}

func (b *browserProblems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeAssert, runtime.ConsoleAPICalledTypeWarning:
			var args []string
			for _, a := range ev.Args {
				args = append(args, strings.TrimSpace(string(a.Value)+" "+a.Description))
			}
			b.add("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.add("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, msg)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
			b.add("browser log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			b.add("HTTP %d for %s (%s)", ev.Response.Status, ev.Response.URL, ev.Type)
		}
	}
}

// newBrowser starts headless chromium (no sandbox: tests run as root) with
// its own profile, downloads allowed into the returned directory, and a
// listener that records every problem a page causes.
func newBrowser(t *testing.T) (context.Context, *browserProblems, string) {
	t.Helper()
	exe := chromium(t)
	dir := t.TempDir()
	downloads := filepath.Join(dir, "downloads")
	if err := os.MkdirAll(downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	probs := &browserProblems{}
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(probs.listen))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first action starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptr(true),
		})
		return err
	})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, probs, downloads
}

func ptr[T any](v T) *T { return &v }

// step runs browser actions, bounded in time, and fails the test on any
// problem they cause.
func step(t *testing.T, ctx context.Context, probs *browserProblems, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(tctx, actions...)
	// Let late console messages and subresource responses arrive.
	_ = chromedp.Do(ctx, chromedp.Sleep(200*time.Millisecond))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, p := range probs.take() {
		t.Errorf("%s: %s", what, p)
	}
}

// pageText reads the text of the element sel selects.
func pageText(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// download clicks a download link, waits for the browser to finish the
// download and returns its bytes.
func download(t *testing.T, ctx context.Context, probs *browserProblems, dir string, link chromedp.CSS) []byte {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.Events(tctx, browser.DownloadProgress)
	step(t, ctx, probs, "download "+string(link), chromedp.Click(link))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download %s: %v", link, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("download %s was canceled", link)
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatalf("downloaded file: %v", err)
			}
			return b
		}
	}
	t.Fatalf("download %s did not finish", link)
	return nil
}
