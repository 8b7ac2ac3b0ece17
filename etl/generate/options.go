package generate

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/ident"
)

// Options fix a generated data set: the same Options give byte-identical files.
type Options struct {
	Seed         int64
	Messages     int       // message lines (USER + BOT) to write, not counting duplicates and bad lines
	Days         int       // number of UTC days covered
	Start        time.Time // first UTC day (truncated to 00:00 UTC); zero = today (UTC) - Days + 1
	BadLinesRate float64   // bad lines mixed in per good event line (0 = none), e.g. 0.001
	Gzip         bool      // write events and late updates as .ndjson.gz (BestSpeed)
	Workers      int       // days written in parallel; 0 = runtime.GOMAXPROCS(0)
	Tenants      []Tenant  // nil = DefaultTenants()
}

// Tenant is one bot (org, env, bot) and its share of the traffic.
type Tenant struct {
	OrgUUID, EnvUUID, BotUUID, Name string
	Weight                          float64 // share of traffic, relative to the other tenants
}

// Stats describe what Generate wrote.
type Stats struct {
	Files               int
	Lines               int64 // every line of every file, bad lines and duplicates included
	Messages            int64 // good message lines, duplicates not counted
	Conversations       int64 // first conversation records (one per conversation)
	ConversationUpdates int64 // later conversation records, in the late-updates file
	Channels            int   // channel records in the catalog
	BadLines            int64
	Bytes               int64 // bytes on disk (compressed size when Gzip)
	Duplicates          int64 // message lines written a second time (exact copies)
}

// Limits that keep generated identifiers unique (see ids.go).
const (
	maxDays          = 1 << 20
	maxMessagesTotal = 1 << 32
)

// DefaultTenants is the built-in demo set: three organizations, five bots.
// Org 1 (env prod) holds the large bot and a second one; org 2 has two bots; org 3 one small bot.
func DefaultTenants() []Tenant {
	const (
		org1, env1 = "e0292f69-f65b-44e6-9037-8c46e74a8abd", "73259740-7753-4fb8-9a4d-c8f7300d020d"
		org2, env2 = "b70b1ede-8aed-498c-a6dc-a3b9a10c189c", "78d82003-3e13-4926-8531-03b520c5fd39"
		org3, env3 = "b341a30d-b940-43af-9d73-d37ff771cc10", "7bf613ff-660a-4377-b5e1-484cc95fb933"
	)
	return []Tenant{
		{OrgUUID: org1, EnvUUID: env1, BotUUID: "a8a3385b-3db2-486b-963c-b5df91911239", Name: "Conecta Telecom — Assistente", Weight: 0.60},
		{OrgUUID: org1, EnvUUID: env1, BotUUID: "53784ab7-0a8c-4f07-b90e-bdc25bf5e37d", Name: "Conecta Telecom — Cobrança", Weight: 0.15},
		{OrgUUID: org2, EnvUUID: env2, BotUUID: "22e7b8eb-00c5-4ec3-b0e3-c9e3777de72d", Name: "Banco Horizonte — Atendimento", Weight: 0.10},
		{OrgUUID: org2, EnvUUID: env2, BotUUID: "a5379b1c-0ddb-4067-a39c-bd233dbc866f", Name: "Banco Horizonte — Cartões", Weight: 0.10},
		{OrgUUID: org3, EnvUUID: env3, BotUUID: "205a2bae-37ed-4718-b109-eaa28a931f60", Name: "Clínica Vida — Agendamentos", Weight: 0.05},
	}
}

// normalized checks opts and fills the defaults. now is used only when Start is zero.
func (o Options) normalized(now time.Time) (Options, error) {
	if o.Days < 1 || o.Days > maxDays {
		return o, fmt.Errorf("days %d: want 1..%d", o.Days, maxDays)
	}
	if o.Messages < 0 || int64(o.Messages) > maxMessagesTotal {
		return o, fmt.Errorf("messages %d: want 0..%d", o.Messages, int64(maxMessagesTotal))
	}
	if math.IsNaN(o.BadLinesRate) || o.BadLinesRate < 0 || o.BadLinesRate >= 1 {
		return o, fmt.Errorf("bad lines rate %v: want 0 <= rate < 1", o.BadLinesRate)
	}
	if o.Workers < 0 {
		return o, fmt.Errorf("workers %d: want >= 0", o.Workers)
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Start.IsZero() {
		today := now.UTC().Truncate(24 * time.Hour)
		o.Start = today.AddDate(0, 0, 1-o.Days)
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	if o.Tenants == nil {
		o.Tenants = DefaultTenants()
	}
	if len(o.Tenants) == 0 {
		return o, errors.New("tenants: want at least one")
	}
	tenants := make([]Tenant, len(o.Tenants))
	seen := make(map[string]bool, len(o.Tenants))
	for i, t := range o.Tenants {
		for _, f := range []struct {
			name string
			v    *string
		}{{"org", &t.OrgUUID}, {"env", &t.EnvUUID}, {"bot", &t.BotUUID}} {
			*f.v = strings.ToLower(*f.v)
			if !isCanonicalUUID(*f.v) {
				return o, fmt.Errorf("tenant %d: %s uuid %q is not a canonical UUID", i, f.name, *f.v)
			}
		}
		if !(t.Weight > 0) || math.IsInf(t.Weight, 0) {
			return o, fmt.Errorf("tenant %d: weight %v: want > 0", i, t.Weight)
		}
		key := t.OrgUUID + t.EnvUUID + t.BotUUID
		if seen[key] {
			return o, fmt.Errorf("tenant %d: org/env/bot %s/%s/%s listed twice", i, t.OrgUUID, t.EnvUUID, t.BotUUID)
		}
		seen[key] = true
		tenants[i] = t
	}
	o.Tenants = tenants
	return o, nil
}

// isCanonicalUUID reports whether s is the lower-case 8-4-4-4-12 hex form.
func isCanonicalUUID(s string) bool { return ident.IsUUID(s) }
