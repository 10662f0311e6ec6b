package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/image"
)

func TestProgressBarDrawsAndClears(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf)
	p.delay = 0
	p.Start([]*image.Layer{{Size: 1000}, {Size: 1000}})
	p.Add(0, 500)
	p.Done(1)
	time.Sleep(400 * time.Millisecond)
	p.Finish()
	out := buf.String()
	if !strings.Contains(out, "reading layers 1/2") || !strings.Contains(out, "500 B of 2.0 KiB (25%)") {
		t.Errorf("progress line missing: %q", out)
	}
	if !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("the line is not cleared at the end: %q", out)
	}
}

func TestNoProgressOnAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Error("a pipe is not a terminal")
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
}
