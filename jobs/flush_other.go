//go:build !linux

package jobs

import "time"

// flushBehind is Linux's sync_file_range write-behind; elsewhere the final fsync does
// all the work.
func flushBehind(string, time.Duration) (stop func()) { return func() {} }
