//go:build linux

package jobs

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// flushBehind starts the write-back of a file that another writer (DuckDB's COPY) is
// filling, every interval, so that the fsync after it finds little left to write: the
// disk works while the query does. stop ends it (it never fails the report; the final
// fsync still decides).
func flushBehind(path string, every time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var f *os.File
		defer func() {
			if f != nil {
				f.Close()
			}
		}()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if f == nil {
				var err error
				if f, err = os.Open(path); err != nil {
					f = nil
					continue
				}
			}
			_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
