// Command reportbench times report files written straight from a warehouse: the CSV
// and Parquet COPY and the XLSX stream writer, without the HTTP and queue around them.
//
//	reportbench -data-dir bench-data/m10000000-d365 -rows 1000000 -xlsx-rows 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/dashboard-analytics/dashboard/jobs"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

func main() {
	dir := flag.String("data-dir", "data", "data directory with a rolled-up warehouse")
	rows := flag.Int("rows", 1_000_000, "CSV/Parquet report rows")
	xrows := flag.Int("xlsx-rows", 100_000, "XLSX report rows")
	org := flag.String("org", "e0292f69-f65b-44e6-9037-8c46e74a8abd", "tenant organization")
	env := flag.String("env", "73259740-7753-4fb8-9a4d-c8f7300d020d", "tenant environment")
	bot := flag.String("bot", "a8a3385b-3db2-486b-963c-b5df91911239", "tenant bot")
	memLimit := flag.String("memory-limit", "4GB", "DuckDB memory_limit (the service's default)")
	threads := flag.Int("threads", 0, "DuckDB threads (0 = all cores, the service's default)")
	only := flag.String("only", "", "one export type (csv, parquet, xlsx); all when empty")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	wh, err := warehouse.Open(ctx, warehouse.Options{Dir: filepath.Join(*dir, "warehouse"), LakeDir: filepath.Join(*dir, "lake"),
		MemoryLimit: *memLimit, Threads: *threads})
	if err != nil {
		log.Fatal(err)
	}
	defer wh.Close()
	out, err := os.MkdirTemp("", "reportbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)
	q := jobs.NewReportQueue(wh, out, 1, nil, time.Now)
	now := time.Now().UTC()
	f := warehouse.ListFilter{Query: warehouse.Query{Tenant: warehouse.TenantKey{Org: *org, Env: *env, Bot: *bot},
		Start: now.AddDate(-2, 0, 0).Unix() / 3600, End: now.Unix()/3600 + 24}}
	for h := range f.Mask {
		f.Mask[h] = true
	}
	for _, c := range []struct {
		export string
		n      int
	}{{"csv", *rows}, {"parquet", *rows}, {"xlsx", *xrows}} {
		if *only != "" && *only != c.export {
			continue
		}
		r := &warehouse.Report{ID: "bench-" + c.export, Tenant: f.Tenant, Spec: warehouse.ReportSpec{
			Kind: warehouse.KindMessages, Export: c.export, Filter: f, SampleSize: c.n, Sampling: "LATEST"}}
		t0 := time.Now()
		n, err := q.Write(ctx, r)
		if err != nil {
			log.Fatal(err)
		}
		took := time.Since(t0).Seconds()
		st, _ := os.Stat(q.FilePath(r))
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		fmt.Printf("%-8s %9d rows %6.2f s %10.0f rows/s %10.0f cells/s %6d MB file, peak RSS %d MB\n", c.export, n, took, float64(n)/took,
			float64(n*14)/took, st.Size()>>20, ru.Maxrss>>10)
	}
}
