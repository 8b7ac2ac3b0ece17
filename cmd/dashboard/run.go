package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dashboard-analytics/dashboard/config"
	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/etl/generate"
	"github.com/dashboard-analytics/dashboard/jobs"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

func init() {
	register("run", command{
		summary: "the main job: cron scheduler (extract + rollup) and the API in one process; demo data on an empty data dir",
		run:     runMain,
	})
}

// dataDirEmpty: no landing files and nothing in the lake.
func dataDirEmpty(env *cmdEnv) bool {
	files, _ := etl.Discover(env.settings.LandingDir())
	runs, _ := etl.ReadRuns(env.settings.LakeDir())
	return len(files) == 0 && len(runs) == 0
}

func runMain(ctx context.Context, env *cmdEnv) error {
	s := &env.settings
	if err := checkAddr(env); err != nil {
		return err
	}
	if err := s.EnsureLayout(); err != nil {
		return err
	}
	demo := dataDirEmpty(env) && s.DemoMessages > 0
	wh, err := openWarehouseFor(ctx, env, true)
	if err != nil {
		return err
	}
	defer wh.Close()
	abandonStopped(ctx, env, wh)
	runner := jobs.NewRunner(wh, env.log, nil)
	eo := extractOptions(env)
	incremental := jobs.Incremental(s.ScheduleIncremental, eo, wh)
	nightly := jobs.Nightly(s.ScheduleNightly, eo, s.MemoryLimit,
		jobs.Retention{LakeDays: s.LakeRetentionDays, QuarantineDays: s.QuarantineRetentionDays}, wh, env.log, nil)
	// SIGTERM during the start-up (demo data, the first load) is a clean stop: exit 0.
	stopped := func(err error) bool {
		if ctx.Err() != nil {
			env.log.Info("stopped during start-up", "err", err)
			return true
		}
		return false
	}
	tokenFile := demoTokenFile(s)
	if demo {
		// Written aside and moved into landing/ whole: a start stopped while it writes
		// leaves landing/ empty, and the next start writes the demo again.
		env.log.Info("empty data dir: writing a demo data set", "messages", s.DemoMessages)
		staging := filepath.Join(s.DataDir, "demo-staging")
		if err := os.RemoveAll(staging); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		// The 90 whole days before today: a demo holds no message from later today.
		start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -90)
		st, err := generate.Generate(ctx, generate.Options{Seed: 1, Messages: s.DemoMessages, Days: 90, Start: start, BadLinesRate: 0.001, Gzip: true}, staging)
		if stopped(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if err := moveFiles(staging, s.LandingDir()); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		env.log.Info("demo data written", "files", st.Files, "messages", st.Messages, "conversations", st.Conversations)
		os.Remove(tokenFile) // a token of an earlier, stopped demo
	}
	demoToken, err := setupDemoToken(env, demo)
	if err != nil {
		return err
	}
	// The API (not yet serving) and its metrics before the first load: the startup run
	// is counted in /metrics like the scheduled ones.
	srv, err := newAPI(wh, env)
	if err != nil {
		return err
	}
	runner.OnFinish = func(job, status string, took time.Duration, o jobs.Outcome) {
		env.metrics.JobDuration.WithLabelValues(job, status).Observe(took.Seconds())
		env.metrics.JobRuns.WithLabelValues(job, status).Inc()
		env.metrics.Rows.WithLabelValues("read").Add(float64(o.RowsIn))
		env.metrics.Rows.WithLabelValues("loaded").Add(float64(o.Loaded))
		env.metrics.Rows.WithLabelValues("duplicates").Add(float64(o.Duplicates))
		env.metrics.Rows.WithLabelValues("superseded").Add(float64(o.Superseded))
		env.metrics.Rows.WithLabelValues("quarantined").Add(float64(o.Quarantined))
	}
	// Load what landed while the service was down before serving. SIGTERM cancels it
	// (the next start does it again).
	stopStartup := context.AfterFunc(ctx, runner.Cancel)
	err = runner.Do(incremental, "startup")
	stopStartup()
	if err != nil {
		if stopped(err) {
			return nil
		}
		if unread := (*etl.UnreadError)(nil); errors.As(err, &unread) {
			env.log.Error("startup extract: landing files could not be read; the rest is rolled up, the next run tries them again", "err", err)
		} else {
			env.log.Error("startup extract + rollup failed; serving what was rolled up before", "err", err)
		}
	}
	if err := wh.Refresh(ctx); err != nil {
		if stopped(err) {
			return nil
		}
		return err
	}
	sched, err := jobs.NewScheduler(runner, []jobs.Job{incremental, nightly})
	if err != nil {
		return err
	}
	reports, err := startReports(ctx, env, wh, srv)
	if err != nil {
		return err
	}
	defer stopReports(reports)
	retention := jobs.Job{Name: "report-retention", Spec: s.ScheduleRetention, Run: func(ctx context.Context) (jobs.Outcome, error) {
		return reports.Retention(ctx, s.ReportRetentionDays)
	}}
	if err := sched.Add(retention); err != nil {
		return err
	}
	sched.Start()
	context.AfterFunc(ctx, sched.Pause) // SIGTERM: no job starts while requests drain
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		sched.Stop(sctx)
	}()
	return serveHTTP(ctx, env, srv.Handler(), func(addr string) {
		printWelcome(env, addr, demoToken, wh.Snapshot())
	})
}

// moveFiles renames every file of dir (recursively) to the same path under dst, then
// removes dir.
func moveFiles(dir, dst string) error {
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.Rename(p, filepath.Join(dst, rel))
	})
	if err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

func newToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "demo-" + hex.EncodeToString(b)
}

func printWelcome(env *cmdEnv, addr, token string, snap *warehouse.Snapshot) {
	host := addr
	if strings.HasPrefix(host, "[::]") || strings.HasPrefix(host, "0.0.0.0") || strings.HasPrefix(host, ":") {
		host = "localhost" + host[strings.LastIndex(host, ":"):]
	}
	base := "http://" + host
	// The examples ask about the busiest bot's last 30 days of data (the demo's first bot
	// and today when nothing is loaded yet).
	t := generate.DefaultTenants()[0]
	k, last := warehouse.TenantKey{Org: t.OrgUUID, Env: t.EnvUUID, Bot: t.BotUUID}, time.Now().UTC()
	if bk, h, ok := snap.Busiest(); ok {
		k, last = bk, time.Unix(h*3600, 0).UTC()
	}
	tenant := fmt.Sprintf("%s/org/%s/env/%s/bot/%s", base, k.Org, k.Env, k.Bot)
	end := last.Format("2006-01-02")
	start := last.AddDate(0, 0, -29).Format("2006-01-02")
	auth := ""
	switch {
	case token != "":
		auth = fmt.Sprintf(" -H 'Authorization: Bearer %s'", token)
	case !env.settings.NoAuth:
		auth = " -H 'Authorization: Bearer <one of your --auth-tokens>'"
	}
	w := env.stdout
	fmt.Fprintf(w, "\nDashboard API ready at %s\n", base)
	if token != "" {
		fmt.Fprintf(w, "Demo bearer token (opens the demo organizations): %s\n", token)
	}
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  curl -s%s '%s/dashboard/summary'\n", auth, tenant)
	for _, p := range []string{"dashboard/conversations", "dashboard/messages", "dashboard/users", "dashboard/accuracy", "dashboard/stacking/intents", "dashboard/stacking/flows"} {
		fmt.Fprintf(w, "  curl -s%s '%s/%s?startDate=%s&endDate=%s'\n", auth, tenant, p, start, end)
	}
	fmt.Fprintf(w, "  curl -s%s '%s/conversations/list?startDate=%s&endDate=%s&sort=satisfaction&size=10'\n", auth, tenant, start, end)
	fmt.Fprintf(w, "  curl -s '%s/healthz'\n\n", base)
}

func demoTokenFile(s *config.Settings) string { return filepath.Join(s.DataDir, "demo-token") }

// setupDemoToken sets up the demo token of `run` (demo: it just wrote the demo data) and
// of `serve`, and returns it ("" for none).
//
// Fresh with the demo data (CONTRACT §6: run on an empty data dir prints one for the
// demo organizations). Without configured tokens it is the demo's only token, kept in
// the data dir (demo-token, 0600): a restart of run or serve, or a start stopped during
// the first load, opens the demo with it again. Beside configured tokens it opens the
// demo organizations' routes only (not /admin/jobs) and only for the process that wrote
// the demo: it is not kept, and a kept one is not taken up while tokens are configured
// (a later start without them takes the kept one up again). None with auth off.
func setupDemoToken(env *cmdEnv, demo bool) (string, error) {
	s := &env.settings
	if s.NoAuth {
		return "", nil
	}
	tokenFile := demoTokenFile(s)
	configured, _ := config.ParseTokens(s.AuthTokens) // validated at load
	var token string
	switch {
	case demo:
		token = newToken()
		if len(configured) == 0 {
			if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
				return "", fmt.Errorf("demo token: %w", err)
			}
		}
	case len(configured) == 0:
		if b, err := os.ReadFile(tokenFile); err == nil {
			token = strings.TrimSpace(string(b))
		}
	default:
		if _, err := os.Stat(tokenFile); err == nil {
			env.log.Warn("demo-token is kept from a demo without configured tokens: ignored while tokens are configured, "+
				"it opens the demo again (and /admin/jobs) at a start without them; delete it in production", "file", tokenFile)
		}
	}
	var orgs []string
	seen := map[string]bool{}
	for _, t := range generate.DefaultTenants() {
		if !seen[t.OrgUUID] {
			seen[t.OrgUUID] = true
			orgs = append(orgs, t.OrgUUID)
		}
	}
	switch parsed, err := config.ParseTokens(token + "=" + strings.Join(orgs, ",")); {
	case token == "":
	case err != nil || len(parsed) != 1 || parsed[token] == nil: // one token, nothing more
		env.log.Warn("demo-token: not a token; ignored (delete the file)", "file", tokenFile, "err", err)
		token = ""
	case configured[token] != nil:
		env.log.Warn("demo token: also a configured token; the configuration holds")
		token = ""
	default:
		if len(configured) > 0 {
			env.log.Warn("demo token active beside the configured tokens until this process stops: it opens the demo organizations only",
				"organizations", strings.Join(orgs, ","))
		}
		env.demoTokens = map[string][]string{token: orgs} // newAPI: an operator's too when alone
		return token, nil
	}
	if len(configured) == 0 {
		env.log.Warn("auth is on and no token is configured: every request will be answered 401; " +
			"set --auth-tokens (DASHBOARD_AUTH_TOKENS), or --no-auth for a local demo")
	}
	return "", nil
}
