package etl

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RetentionResult says what a retention sweep removed.
type RetentionResult struct {
	Partitions      int
	QuarantineFiles int
}

// ApplyRetention removes lake partitions whose day is older than lakeDays (0 = keep
// forever) and quarantine files last written more than quarantineDays ago. A partition
// leaves in one rename, so a reader sees it whole or not at all; the next rollup drops
// the days that are gone from the summaries. It holds the lake's writer lock.
func ApplyRetention(lakeRoot, quarantineDir string, now time.Time, lakeDays, quarantineDays int) (RetentionResult, error) {
	var res RetentionResult
	lake := newLake(lakeRoot)
	unlock, err := lake.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	if lakeDays > 0 {
		cutoff := now.UTC().AddDate(0, 0, -lakeDays).Format("2006-01-02")
		trash := lake.path(stagingDir, "retention-"+now.UTC().Format("20060102T150405"))
		for _, ds := range []string{MessagesDir, ConversationsDir} {
			parts, err := os.ReadDir(lake.path(ds))
			if err != nil && !os.IsNotExist(err) {
				return res, err
			}
			for _, p := range parts {
				day, ok := strings.CutPrefix(p.Name(), "date=")
				if !p.IsDir() || !ok || day >= cutoff {
					continue
				}
				if err := os.MkdirAll(filepath.Join(trash, ds), 0o755); err != nil {
					return res, err
				}
				if err := os.Rename(lake.path(ds, p.Name()), filepath.Join(trash, ds, p.Name())); err != nil {
					return res, fmt.Errorf("retire %s/%s: %w", ds, p.Name(), err)
				}
				res.Partitions++
			}
		}
		if err := os.RemoveAll(trash); err != nil {
			return res, err
		}
	}
	if quarantineDays > 0 {
		cutoff := now.Add(-time.Duration(quarantineDays) * 24 * time.Hour)
		err := filepath.WalkDir(quarantineDir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".ndjson") {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.ModTime().Before(cutoff) {
				if err := os.Remove(path); err != nil {
					return err
				}
				res.QuarantineFiles++
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
