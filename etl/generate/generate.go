package generate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

const writeBuffer = 1 << 20

// Generate writes the demo data set fixed by opts into landingDir (created if missing)
// and reports what it wrote. Files of an earlier run with the same seed and days are
// replaced. On error, files already published stay; no .tmp file is left behind.
func Generate(ctx context.Context, opts Options, landingDir string) (Stats, error) {
	var st Stats
	o, err := opts.normalized(time.Now())
	if err != nil {
		return st, fmt.Errorf("generate options: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("generate: %w", err)
	}
	if err := os.MkdirAll(landingDir, 0o755); err != nil {
		return st, fmt.Errorf("create landing dir: %w", err)
	}
	m := newModel(o)
	prefix := filepath.Join(landingDir, fmt.Sprintf("gen-%d-", o.Seed))
	ext := ".ndjson"
	if o.Gzip {
		ext = ".ndjson.gz"
	}

	// The catalog: every channel of every tenant.
	catalog := prefix + "0-catalog.ndjson"
	n, err := writeFile(catalog, false, func(w io.Writer) error {
		var line []byte
		for i := range m.tenants {
			t := &m.tenants[i]
			for j := range t.channels {
				line = appendChannel(line[:0], t, &t.channels[j])
				if _, err := w.Write(line); err != nil {
					return err
				}
				st.Channels++
			}
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("write catalog %s: %w", catalog, err)
	}
	st.Files++
	st.Lines += int64(st.Channels)
	st.Bytes += n

	// The days, in parallel; each day's file depends only on the model.
	results := make([]dayResult, o.Days)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	jobs := make(chan int)
	for range min(o.Workers, o.Days) {
		wg.Go(func() {
			dw := newDayWriter(m, o.BadLinesRate)
			for d := range jobs {
				if ctx.Err() != nil {
					continue
				}
				day := time.UnixMilli(m.startMs + int64(d)*msPerDay).UTC()
				path := prefix + "1-events-" + day.Format("20060102") + ext
				var res dayResult
				n, err := writeFile(path, o.Gzip, func(w io.Writer) error {
					var err error
					res, err = dw.run(ctx, d, w)
					return err
				})
				if err != nil {
					errOnce.Do(func() {
						firstErr = fmt.Errorf("write day %s: %w", day.Format(time.DateOnly), err)
						cancel()
					})
					continue
				}
				res.bytes = n
				results[d] = res
			}
		})
	}
feed:
	for d := range o.Days {
		select {
		case jobs <- d:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return st, firstErr
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("generate: %w", err)
	}
	for _, r := range results {
		st.Files++
		st.Lines += r.lines
		st.Messages += r.messages
		st.Conversations += r.conversations
		st.Duplicates += r.duplicates
		st.BadLines += r.bad
		st.Bytes += r.bytes
	}

	// Later conversation updates, after every day.
	late := prefix + "2-late-updates" + ext
	n, err = writeFile(late, o.Gzip, func(w io.Writer) error {
		for i := range results {
			if _, err := w.Write(results[i].late); err != nil {
				return err
			}
			st.ConversationUpdates += results[i].lateLines
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("write late updates %s: %w", late, err)
	}
	st.Files++
	st.Lines += st.ConversationUpdates
	st.Bytes += n
	return st, nil
}

// writeFile publishes path atomically: fill writes into path.tmp (through a 1 MB buffer,
// gzip-compressed when gz), which is synced and renamed to path. It returns the bytes on disk.
func writeFile(path string, gz bool, fill func(w io.Writer) error) (n int64, err error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	cw := &countingWriter{w: f}
	var zw *gzip.Writer
	var dst io.Writer = cw
	if gz {
		zw, err = gzip.NewWriterLevel(cw, gzip.BestSpeed)
		if err != nil {
			return 0, err
		}
		dst = zw
	}
	bw := bufio.NewWriterSize(dst, writeBuffer)
	if err := fill(bw); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("flush: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return 0, fmt.Errorf("close gzip: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
