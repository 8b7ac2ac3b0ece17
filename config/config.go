// Package config holds the service's settings. Every setting has a default, a config-file
// key, an environment variable (DASHBOARD_<NAME>) and a flag; flags win over the
// environment, which wins over the file, which wins over the default. Settings are
// validated at start, and an error names the setting.
package config

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dashboard-analytics/dashboard/internal/ident"
	yaml "go.yaml.in/yaml/v3"
)

// Settings are all the service's settings.
type Settings struct {
	DataDir     string
	Addr        string
	MetricsAddr string
	LogLevel    string

	Workers     int    // extract parse workers (0 = all cores)
	Threads     int    // DuckDB threads (0 = all cores)
	MemoryLimit string // DuckDB memory_limit
	// CheckpointThreshold is DuckDB's checkpoint_threshold for the warehouse: the WAL size
	// at which a commit also checkpoints.
	CheckpointThreshold string

	MaxRangeDays   int
	MaxPageSize    int
	MaxSample      int
	RequestTimeout time.Duration
	MaxHeavy       int // concurrent heavy queries (lists, details)
	NoListIndex    bool

	AuthTokens  string
	NoAuth      bool
	CORSOrigins string // browser origins that may call the API cross-origin ("" = none)

	ReportWorkers           int
	ReportRetentionDays     int
	LakeRetentionDays       int // 0 = keep forever
	QuarantineRetentionDays int // 0 = keep forever

	ScheduleIncremental string
	ScheduleNightly     string
	ScheduleRetention   string

	DemoMessages int

	ConfigFile string
}

// Default returns the documented defaults.
func Default() Settings {
	return Settings{
		DataDir:             "./data",
		Addr:                ":8080",
		LogLevel:            "info",
		MemoryLimit:         "4GB",
		CheckpointThreshold: "1GB",
		MaxRangeDays:        366,
		MaxPageSize:         100,
		MaxSample:           10000,
		RequestTimeout:      10 * time.Second,
		MaxHeavy:            8,
		ReportWorkers:       2,
		ReportRetentionDays: 30,
		ScheduleIncremental: "*/5 * * * *",
		ScheduleNightly:     "0 2 * * *",
		ScheduleRetention:   "30 3 * * *",
		DemoMessages:        300000,
	}
}

type setting struct {
	name  string // flag name; env is DASHBOARD_ + upper snake; file key is snake
	usage string
	ptr   any
}

func (s *Settings) table() []setting {
	return []setting{
		{"data-dir", "directory holding landing/, lake/, quarantine/, warehouse/, reports/", &s.DataDir},
		{"addr", "API listen address", &s.Addr},
		{"metrics-addr", "separate listen address for /metrics (empty = served on --addr)", &s.MetricsAddr},
		{"log-level", "debug, info, warn or error", &s.LogLevel},
		{"workers", "extract parse workers (0 = all cores)", &s.Workers},
		{"threads", "DuckDB threads (0 = all cores)", &s.Threads},
		{"memory-limit", "DuckDB memory limit (e.g. 4GB); an extract holds a quarter of it in records", &s.MemoryLimit},
		{"checkpoint-threshold", "warehouse WAL size at which a commit also checkpoints (DuckDB's checkpoint_threshold); a full rollup checkpoints at its end whatever the size", &s.CheckpointThreshold},
		{"max-range-days", "longest analytics range in days", &s.MaxRangeDays},
		{"max-page-size", "largest page size of the list endpoints", &s.MaxPageSize},
		{"max-sample", "largest report sampleSize", &s.MaxSample},
		{"request-timeout", "deadline of one API request (its query is cancelled after it)", &s.RequestTimeout},
		{"max-heavy", "concurrent heavy queries (lists, details, reports)", &s.MaxHeavy},
		{"no-list-index", "answer conversations/list, messages/list and conversations/details in DuckDB only, without the in-memory list index (saves its memory)", &s.NoListIndex},
		{"auth-tokens", "bearer tokens: token=orgUUID[,orgUUID…];token=…", &s.AuthTokens},
		{"no-auth", "turn the bearer-token check off (local demos only)", &s.NoAuth},
		{"cors-origins", "browser origins allowed to call the API cross-origin: scheme://host[:port], comma-separated, or * (empty = CORS off)", &s.CORSOrigins},
		{"report-workers", "report jobs run at once", &s.ReportWorkers},
		{"report-retention-days", "days a report file is kept", &s.ReportRetentionDays},
		{"lake-retention-days", "days of messages and conversations kept in the lake and warehouse (0 = forever); enforced nightly", &s.LakeRetentionDays},
		{"quarantine-retention-days", "days a quarantine file is kept (0 = forever); enforced nightly", &s.QuarantineRetentionDays},
		{"schedule-incremental", "cron schedule of the incremental extract + rollup (UTC)", &s.ScheduleIncremental},
		{"schedule-nightly", "cron schedule of the full rollup and lake compaction (UTC)", &s.ScheduleNightly},
		{"schedule-retention", "cron schedule of the report retention sweep (UTC)", &s.ScheduleRetention},
		{"demo-messages", "messages of the demo data set written on an empty data dir", &s.DemoMessages},
	}
}

func envName(flagName string) string {
	return "DASHBOARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func fileKey(flagName string) string { return strings.ReplaceAll(flagName, "-", "_") }

// Register adds a flag for every setting to fs; Load reads them back.
func (s *Settings) Register(fs *flag.FlagSet) {
	fs.StringVar(&s.ConfigFile, "config", "", "config file (YAML or JSON; env DASHBOARD_CONFIG)")
	for _, st := range s.table() {
		switch p := st.ptr.(type) {
		case *string:
			fs.String(st.name, *p, st.usage+" (env "+envName(st.name)+")")
		case *int:
			fs.Int(st.name, *p, st.usage+" (env "+envName(st.name)+")")
		case *bool:
			fs.Bool(st.name, *p, st.usage+" (env "+envName(st.name)+")")
		case *time.Duration:
			fs.Duration(st.name, *p, st.usage+" (env "+envName(st.name)+")")
		}
	}
}

// Load fills s from the config file, the environment and the flags set on fs (already
// parsed), in that order, then validates it.
func (s *Settings) Load(fs *flag.FlagSet, getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	setFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = true })
	cfgFile := s.ConfigFile
	if !setFlags["config"] {
		cfgFile = getenv("DASHBOARD_CONFIG")
	}
	if cfgFile != "" {
		if err := s.loadFile(cfgFile); err != nil {
			return err
		}
		s.ConfigFile = cfgFile
	}
	for _, st := range s.table() {
		if v := getenv(envName(st.name)); v != "" && !setFlags[st.name] {
			if err := setValue(st.ptr, v); err != nil {
				return fmt.Errorf("%s (env %s): %w", st.name, envName(st.name), err)
			}
		}
		if setFlags[st.name] {
			if err := setValue(st.ptr, fs.Lookup(st.name).Value.String()); err != nil {
				return fmt.Errorf("--%s: %w", st.name, err)
			}
		}
	}
	return s.Validate()
}

func (s *Settings) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	// auth.tokens is accepted as a nested key, as the contract writes it.
	if auth, ok := raw["auth"].(map[string]any); ok {
		for k := range auth {
			if k != "tokens" {
				return fmt.Errorf("config file %s: unknown setting \"auth.%s\" (auth holds only tokens)", path, k)
			}
		}
		if t, ok := auth["tokens"]; ok {
			if _, both := raw["auth_tokens"]; both {
				return fmt.Errorf("config file %s: auth.tokens and auth_tokens are one setting: give one", path)
			}
			raw["auth_tokens"] = t
		}
		delete(raw, "auth")
	}
	known := map[string]setting{}
	for _, st := range s.table() {
		known[fileKey(st.name)] = st
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		st, ok := known[k]
		if !ok {
			return fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		if raw[k] == nil {
			return fmt.Errorf("config file %s: %s: no value (leave the key out for the default)", path, k)
		}
		if err := setValue(st.ptr, fmt.Sprint(raw[k])); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, k, err)
		}
	}
	return nil
}

func setValue(ptr any, v string) error {
	switch p := ptr.(type) {
	case *string:
		*p = v
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a boolean: %q", v)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a duration: %q", v)
		}
		*p = d
	}
	return nil
}

// sizePattern is a positive size with a unit as DuckDB reads it (K, KB, KiB, … T, TB,
// TiB, bytes): the number is group 1, the unit group 3.
const sizePattern = `^\s*(0*[1-9][0-9]*(\.[0-9]+)?|0*\.[0-9]*[1-9][0-9]*)\s*((?i:b|bytes|[kmgt]|[kmgt]b|[kmgt]ib))\s*$`

// positiveSize is what checkpoint_threshold takes.
var positiveSize = regexp.MustCompile(sizePattern)

// memoryLimit is what DuckDB's memory_limit takes: a positive size, "none" or "-1" (no
// limit), or "" (DuckDB's default, 80% of RAM). Its groups are sizePattern's.
var memoryLimit = regexp.MustCompile(`^\s*$|^\s*(?i:none)\s*$|^\s*-1\s*$|` + sizePattern)

// MemoryBytes is the memory limit in bytes; ok is false for no limit or DuckDB's
// default (none, -1, empty). Units as DuckDB reads them: KB, MB, GB, TB are powers of
// 1000, KiB … TiB powers of 1024, a bare K, M, G, T the decimal ones.
func (s *Settings) MemoryBytes() (n int64, ok bool) {
	m := memoryLimit.FindStringSubmatch(s.MemoryLimit)
	if m == nil || m[1] == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	unit := strings.ToLower(m[3])
	mult := map[string]float64{"b": 1, "bytes": 1,
		"k": 1e3, "kb": 1e3, "kib": 1 << 10, "m": 1e6, "mb": 1e6, "mib": 1 << 20,
		"g": 1e9, "gb": 1e9, "gib": 1 << 30, "t": 1e12, "tb": 1e12, "tib": 1 << 40}[unit]
	if mult == 0 {
		return 0, false
	}
	if v*mult >= math.MaxInt64 {
		return math.MaxInt64, true
	}
	return int64(v * mult), true
}

// Validate checks every setting; the error names the ones that are wrong.
func (s *Settings) Validate() error {
	var errs []error
	check := func(ok bool, name, why string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s", name, why))
		}
	}
	check(s.DataDir != "", "data-dir", "must not be empty")
	check(s.Addr != "", "addr", "must not be empty")
	for name, addr := range map[string]string{"addr": s.Addr, "metrics-addr": s.MetricsAddr} {
		if addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err != nil {
			check(false, name, fmt.Sprintf("must be host:port or :port (e.g. :8080, 127.0.0.1:8080), got %q", addr))
		} else if _, err := net.LookupPort("tcp", port); err != nil {
			check(false, name, fmt.Sprintf("not a port: %q", port))
		}
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		check(false, "log-level", "must be debug, info, warn or error")
	}
	check(s.Workers >= 0, "workers", "must be >= 0")
	check(s.Threads >= 0, "threads", "must be >= 0")
	check(s.MaxRangeDays >= 1, "max-range-days", "must be >= 1")
	check(s.MaxPageSize >= 1, "max-page-size", "must be >= 1")
	check(s.MaxSample >= 1, "max-sample", "must be >= 1")
	check(s.RequestTimeout > 0, "request-timeout", "must be > 0")
	check(s.MaxHeavy >= 1, "max-heavy", "must be >= 1")
	check(s.ReportWorkers >= 1, "report-workers", "must be >= 1")
	check(s.ReportRetentionDays >= 1, "report-retention-days", "must be >= 1")
	check(s.LakeRetentionDays >= 0, "lake-retention-days", "must be >= 0")
	check(s.QuarantineRetentionDays >= 0, "quarantine-retention-days", "must be >= 0")
	check(s.DemoMessages >= 0, "demo-messages", "must be >= 0")
	check(positiveSize.MatchString(s.CheckpointThreshold), "checkpoint-threshold", fmt.Sprintf("must be a positive size such as 16MB or 1GB, got %q", s.CheckpointThreshold))
	check(memoryLimit.MatchString(s.MemoryLimit), "memory-limit", fmt.Sprintf("must be a positive size such as 512MB, 4GB or 1.5GiB (or none, or empty for DuckDB's default), got %q", s.MemoryLimit))
	for name, spec := range map[string]string{"schedule-incremental": s.ScheduleIncremental,
		"schedule-nightly": s.ScheduleNightly, "schedule-retention": s.ScheduleRetention} {
		if _, err := cron.ParseStandard(spec); err != nil {
			check(false, name, "not a cron schedule: "+err.Error())
		}
	}
	if _, err := ParseTokens(s.AuthTokens); err != nil {
		check(false, "auth-tokens", err.Error())
	}
	if origins, err := ParseOrigins(s.CORSOrigins); err != nil {
		check(false, "cors-origins", err.Error())
	} else if s.NoAuth && slices.Contains(origins, "*") {
		// Without tokens, * would let any page a user visits read every tenant.
		check(false, "cors-origins", "* with no-auth would let any web page read every tenant's data: list the front end's origins")
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// bearerToken is RFC 6750's b64token without its trailing '=' (which would end the
// token in "token=org").
var bearerToken = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+$`)

// ParseTokens reads "token=org[,org…];token=…" into token → organizations.
func ParseTokens(spec string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tok, orgs, ok := strings.Cut(part, "=")
		tok = strings.TrimSpace(tok)
		if !ok || tok == "" {
			return nil, errors.New("each entry must be token=orgUUID[,orgUUID…]")
		}
		if !bearerToken.MatchString(tok) {
			return nil, errors.New("a token is letters, digits and - . _ ~ + / only (what a Bearer header can carry)")
		}
		if _, dup := out[tok]; dup {
			return nil, errors.New("a token is listed twice: list its organizations once, comma-separated")
		}
		for _, o := range strings.Split(orgs, ",") {
			o = strings.ToLower(strings.TrimSpace(o))
			if o == "" {
				continue
			}
			if !ident.IsUUID(o) {
				return nil, fmt.Errorf("organization %q is not a UUID", o)
			}
			out[tok] = append(out[tok], o)
		}
		if len(out[tok]) == 0 {
			return nil, errors.New("a token must list at least one organization")
		}
	}
	return out, nil
}

// ParseOrigins reads "scheme://host[:port],…" (or "*", any origin) into the origins as
// a browser sends them in its Origin header: scheme and host lower case, the scheme's
// default port left out. Spaces around elements and empty elements are ignored; a
// trailing "/" is dropped. An origin that no browser would send (a path, a query, a
// user, a wildcard host, an empty or out-of-range port, a host ending in a dot, a host
// not in ASCII — browsers send the punycode form) is an error, not a silent non-match.
func ParseOrigins(spec string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(spec, ",") {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		bad := func(why string) error {
			return fmt.Errorf("%q is not an origin (%s): write scheme://host[:port] (e.g. https://dash.example.com), or * for any", o, why)
		}
		u, err := url.Parse(o)
		switch {
		case err != nil:
			return nil, bad("unparsable")
		case u.Scheme != "http" && u.Scheme != "https":
			return nil, bad("the scheme must be http or https")
		case u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(o, "#"):
			return nil, bad("an origin has no user, path, query or fragment")
		}
		host, port := u.Hostname(), u.Port()
		switch {
		case host == "" || strings.Contains(host, "*"):
			return nil, bad("no host")
		case strings.HasSuffix(host, "."):
			return nil, bad("the host ends in a dot")
		case strings.HasSuffix(u.Host, ":"):
			return nil, bad("empty port")
		}
		for _, r := range host {
			if r > 0x7f {
				return nil, bad("a non-ASCII host: write its punycode (xn--…) form, as browsers send it")
			}
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, bad("the port must be 1..65535")
			}
		}
		origin := u.Scheme + "://" + strings.ToLower(u.Host)
		if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
			origin = strings.TrimSuffix(origin, ":"+port)
		}
		out = append(out, origin)
	}
	return out, nil
}

// The data directory's layout.
func (s *Settings) LandingDir() string    { return filepath.Join(s.DataDir, "landing") }
func (s *Settings) LakeDir() string       { return filepath.Join(s.DataDir, "lake") }
func (s *Settings) QuarantineDir() string { return filepath.Join(s.DataDir, "quarantine") }
func (s *Settings) WarehouseDir() string  { return filepath.Join(s.DataDir, "warehouse") }
func (s *Settings) ReportsDir() string    { return filepath.Join(s.DataDir, "reports") }

// EnsureLayout creates the data directory's folders.
func (s *Settings) EnsureLayout() error {
	for _, d := range []string{s.LandingDir(), s.LakeDir(), s.QuarantineDir(), s.WarehouseDir(), s.ReportsDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("data-dir: %w", err)
		}
	}
	return nil
}

// Describe lists the settings as a Markdown table (for the README).
func Describe() string {
	s := Default()
	var b strings.Builder
	b.WriteString("| flag | environment | config key | default | what |\n|---|---|---|---|---|\n")
	for _, st := range s.table() {
		def := fmt.Sprint(reflectValue(st.ptr))
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | `%s` | %s |\n", st.name, envName(st.name), fileKey(st.name), def, st.usage)
	}
	return b.String()
}

func reflectValue(p any) any {
	switch v := p.(type) {
	case *string:
		return *v
	case *int:
		return *v
	case *bool:
		return *v
	case *time.Duration:
		return *v
	}
	return nil
}
