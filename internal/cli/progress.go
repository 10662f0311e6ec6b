package cli

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seawall-dev/seawall/internal/image"
)

// progressBar draws one status line on a terminal while layers are read.
type progressBar struct {
	w       io.Writer
	total   int64
	read    atomic.Int64
	layers  int
	done    atomic.Int64
	stop    chan struct{}
	stopped sync.WaitGroup
	started time.Time
	delay   time.Duration // nothing is drawn for quick scans
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, stop: make(chan struct{}), delay: 300 * time.Millisecond}
}

func (p *progressBar) Start(layers []*image.Layer) {
	for _, l := range layers {
		p.total += l.Size
	}
	p.layers = len(layers)
	p.started = time.Now()
	p.stopped.Add(1)
	go func() {
		defer p.stopped.Done()
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				if time.Since(p.started) >= p.delay {
					p.draw()
				}
			}
		}
	}()
}

func (p *progressBar) Add(_ int, n int64) { p.read.Add(n) }
func (p *progressBar) Done(int)           { p.done.Add(1) }

func (p *progressBar) draw() {
	read := p.read.Load()
	line := fmt.Sprintf("reading layers %d/%d  %s", p.done.Load(), p.layers, humanBytes(read))
	if p.total > 0 {
		pct := float64(read) / float64(p.total) * 100
		if pct > 100 {
			pct = 100
		}
		line += fmt.Sprintf(" of %s (%.0f%%)", humanBytes(p.total), pct)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// Finish stops drawing and clears the line.
func (p *progressBar) Finish() {
	if p.layers == 0 {
		return
	}
	close(p.stop)
	p.stopped.Wait()
	fmt.Fprint(p.w, "\r\033[K")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
