package config

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, file string, env map[string]string, args ...string) (Settings, error) {
	t.Helper()
	s := Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	s.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if file != "" {
		p := filepath.Join(t.TempDir(), "dashboard.yaml")
		if err := os.WriteFile(p, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		env["DASHBOARD_CONFIG"] = p
	}
	err := s.Load(fs, func(k string) string { return env[k] })
	return s, err
}

// Flags win over the environment, which wins over the file, which wins over defaults.
func TestPrecedence(t *testing.T) {
	file := "addr: ':9000'\nmax_page_size: 50\nrequest_timeout: 3s\nauth:\n  tokens: 'a=0a000000-0000-4000-8000-00000000000a'\n"
	s, err := load(t, file, map[string]string{"DASHBOARD_MAX_PAGE_SIZE": "70", "DASHBOARD_ADDR": ":9001"}, "--addr", ":9002")
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != ":9002" || s.MaxPageSize != 70 || s.RequestTimeout != 3*time.Second || s.MaxSample != 10000 {
		t.Errorf("settings: addr %q page %d timeout %v sample %d", s.Addr, s.MaxPageSize, s.RequestTimeout, s.MaxSample)
	}
	toks, _ := ParseTokens(s.AuthTokens)
	if len(toks["a"]) != 1 {
		t.Errorf("auth.tokens from the file: %v", toks)
	}
}

// Errors name the setting.
func TestValidationNamesTheSetting(t *testing.T) {
	for _, c := range []struct {
		file string
		env  map[string]string
		args []string
		want string
	}{
		{"", map[string]string{}, []string{"--max-page-size", "0"}, "max-page-size"},
		{"", map[string]string{"DASHBOARD_SCHEDULE_NIGHTLY": "every night"}, nil, "schedule-nightly"},
		{"", map[string]string{"DASHBOARD_WORKERS": "two"}, nil, "workers"},
		{"", map[string]string{"DASHBOARD_AUTH_TOKENS": "t=not-a-uuid"}, nil, "auth-tokens"},
		{"", map[string]string{"DASHBOARD_CORS_ORIGINS": "dash.example.com"}, nil, "cors-origins"},
		{"", map[string]string{"DASHBOARD_CORS_ORIGINS": "*"}, []string{"--no-auth"}, "cors-origins"},
		{"cors_origins: 'https://dash.example.com/app'\n", map[string]string{}, nil, "cors-origins"},
		{"no_such_setting: 1\n", map[string]string{}, nil, "no_such_setting"},
		{"", map[string]string{"DASHBOARD_LOG_LEVEL": "loud"}, nil, "log-level"},
		{"", map[string]string{}, []string{"--memory-limit", "lots"}, "memory-limit"},
		{"", map[string]string{}, []string{"--memory-limit", "0"}, "memory-limit"},
		{"", map[string]string{}, []string{"--memory-limit", "0GB"}, "memory-limit"},
		{"", map[string]string{}, []string{"--memory-limit", "-1GB"}, "memory-limit"},
		{"", map[string]string{"DASHBOARD_MEMORY_LIMIT": "4"}, nil, "memory-limit"},
		{"", map[string]string{}, []string{"--checkpoint-threshold", "none"}, "checkpoint-threshold"},
		{"", map[string]string{}, []string{"--checkpoint-threshold", "0MB"}, "checkpoint-threshold"},
		{"", map[string]string{"DASHBOARD_CHECKPOINT_THRESHOLD": "1.5"}, nil, "checkpoint-threshold"},
		{"", map[string]string{}, []string{"--addr", "bogus"}, "addr"},
		{"", map[string]string{}, []string{"--addr", ":99999"}, "addr"},
		{"", map[string]string{"DASHBOARD_METRICS_ADDR": "nope"}, nil, "metrics-addr"},
		{"data_dir:\n", map[string]string{}, nil, "data_dir: no value"},
		{"auth:\n  tokenz: 'a=0a000000-0000-4000-8000-00000000000a'\n", map[string]string{}, nil, "auth.tokenz"},
		{"auth_tokens: 'a=0a000000-0000-4000-8000-00000000000a'\nauth:\n  tokens: 'b=0a000000-0000-4000-8000-00000000000a'\n", map[string]string{}, nil, "auth.tokens and auth_tokens"},
	} {
		_, err := load(t, c.file, c.env, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v %q: error %v, want one naming %s", c.args, c.env, c.file, err, c.want)
		}
	}
}

func TestParseTokens(t *testing.T) {
	got, err := ParseTokens(" t1 = 0A000000-0000-4000-8000-00000000000A , 0b000000-0000-4000-8000-00000000000b ; t2=0c000000-0000-4000-8000-00000000000c;")
	if err != nil {
		t.Fatal(err)
	}
	if len(got["t1"]) != 2 || got["t1"][0] != "0a000000-0000-4000-8000-00000000000a" || len(got["t2"]) != 1 {
		t.Errorf("tokens %v", got)
	}
	for _, bad := range []string{"t1", "=0a000000-0000-4000-8000-00000000000a", "t1=", "t1=x",
		"a=0a000000-0000-4000-8000-00000000000a;a=0b000000-0000-4000-8000-00000000000b", // listed twice
		"my tok=0a000000-0000-4000-8000-00000000000a", "t\u00e9=0a000000-0000-4000-8000-00000000000a"} {
		if _, err := ParseTokens(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins(" https://dash.example.com/ ,, http://localhost:3000,*,HTTPS://Dash.Example.COM:443,http://a.example:80,https://b.example:8443,http://[::1]:3000")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://dash.example.com", "http://localhost:3000", "*", "https://dash.example.com", "http://a.example",
		"https://b.example:8443", "http://[::1]:3000"}
	if !slices.Equal(got, want) {
		t.Errorf("origins %q, want %q", got, want)
	}
	// A listed origin with --no-auth is a local demo's front end; * is refused (above).
	if _, err := load(t, "", map[string]string{"DASHBOARD_CORS_ORIGINS": "http://localhost:3000"}, "--no-auth"); err != nil {
		t.Errorf("a listed origin with --no-auth: %v", err)
	}
	if got, err := ParseOrigins(" , "); err != nil || len(got) != 0 {
		t.Errorf("only separators: %q, %v; want none", got, err)
	}
	for _, bad := range []string{"dash.example.com", "ftp://dash.example.com", "https://", "https://dash.example.com/app",
		"https://dash.example.com?x=1", "https://dash.example.com?", "https://u@dash.example.com", "https://*.example.com",
		"https://dash.example.com#top", "https://dash.example.com:", "https://dash.example.com:99999", "https://dash.example.com:0",
		"https://dash.example.com.", "https://bücher.example"} {
		if _, err := ParseOrigins(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMemoryLimitSizes(t *testing.T) {
	for _, ok := range []string{"4GB", "512MB", "1.5GiB", "100 mb", "0.5GB", "2TB", "1000000b", "4G", "4 GiB", "none", "-1", ""} {
		if !memoryLimit.MatchString(ok) {
			t.Errorf("%q rejected", ok)
		}
	}
}

func TestMemoryBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4GB", 4_000_000_000, true}, {"1.5GiB", 3 << 29, true}, {" 512 mb ", 512_000_000, true},
		{"2G", 2_000_000_000, true}, {"100KiB", 102_400, true}, {"7 bytes", 7, true}, {"1TB", 1e12, true}, {"9300000TB", math.MaxInt64, true},
		{"", 0, false}, {"none", 0, false}, {"-1", 0, false}, {"4XB", 0, false},
	} {
		s := Settings{MemoryLimit: c.in}
		if n, ok := s.MemoryBytes(); n != c.want || ok != c.ok {
			t.Errorf("MemoryBytes(%q) = %d, %t; want %d, %t", c.in, n, ok, c.want, c.ok)
		}
	}
}

// The README's settings table lists every setting with its flag, environment variable,
// config key, default and usage, as the flags print them.
func TestReadmeListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	s.Register(fs)
	rows := 0
	for _, st := range s.table() {
		f := fs.Lookup(st.name)
		usage := strings.TrimSuffix(f.Usage, " (env "+envName(st.name)+")")
		want := fmt.Sprintf("| `--%s` | `%s` | `%s` | `%s` | %s |", st.name, envName(st.name), fileKey(st.name), f.DefValue, usage)
		if !strings.Contains(string(readme), want+"\n") {
			t.Errorf("README has no row\n%s", want)
		}
		rows++
	}
	if got := strings.Count(string(readme), "\n| `--"); got != rows {
		t.Errorf("README's settings table has %d rows, the settings are %d", got, rows)
	}
}
