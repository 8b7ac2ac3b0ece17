package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
	"github.com/dashboard-analytics/dashboard/internal/ident"
	"github.com/dashboard-analytics/dashboard/internal/instant"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

const hourUs = calendar.HourMicros

// Range is a request's analytics window (CONTRACT §4): hours [Start, End) since the
// epoch, with the instants as sent for the range checks.
type Range struct {
	StartSent, EndSent int64 // microseconds
	Start, End         int64 // hours since the epoch
	Mask               calendar.Mask
	StartHour, EndHour int
	Channels           []string // nil = all
}

// Previous is the period before: same length, same filters.
func (r Range) Previous() Range {
	p := r
	l := r.End - r.Start
	p.Start, p.End = r.Start-l, r.Start
	return p
}

// RelativeStart and RelativeEnd are the previous period's bounds as the API writes them.
func (r Range) RelativeStart() int64 { return (r.Start - (r.End - r.Start)) * hourUs }
func (r Range) RelativeEnd() int64   { return r.Start*hourUs - 1000 }

// Query is the warehouse query of the range for a tenant.
func (r Range) Query(k warehouse.TenantKey) warehouse.Query {
	return warehouse.Query{Tenant: k, Start: r.Start, End: r.End, Mask: r.Mask, Channels: r.Channels}
}

// parseDate reads a start or end date: an RFC 3339 instant, or a plain date that means
// 00:00:00.000Z (start) or 23:59:59.999Z (end) of that day.
func parseDate(name, v string, end bool) (int64, error) {
	if len(v) == 10 && v[4] == '-' && v[7] == '-' {
		us, err := instant.Parse([]byte(v + "T00:00:00Z"))
		if err != nil {
			return 0, badParam(name, fmt.Sprintf("not a valid date: %q", v))
		}
		if end {
			us += 24*hourUs - 1000
		}
		return us, nil
	}
	us, err := instant.ParseLenientPlus([]byte(v))
	if err != nil {
		return 0, badParam(name, fmt.Sprintf("must be a date (yyyy-MM-dd) or an RFC 3339 instant (yyyy-MM-ddTHH:mm:ss.SSSZ), got %q", v))
	}
	if us < instant.Min || us > instant.Max {
		// An offset carried it out of years 1..9999 in UTC: no yyyy-MM-dd names it.
		return 0, badParam(name, fmt.Sprintf("must be within 0001-01-01 and 9999-12-31 in UTC, got %q", v))
	}
	return us, nil
}

// rangeParams reads startDate, endDate, startHour, endHour and channelUuids.
type rangeInput struct {
	startDate, endDate, startHour, endHour *string
	channels                               []string
}

func queryInput(q url.Values) rangeInput {
	in := rangeInput{channels: q["channelUuids"]}
	for name, dst := range map[string]**string{"startDate": &in.startDate, "endDate": &in.endDate,
		"startHour": &in.startHour, "endHour": &in.endHour} {
		if vs, ok := q[name]; ok && len(vs) > 0 {
			v := vs[0]
			*dst = &v
		}
	}
	return in
}

func (s *Server) parseRange(in rangeInput) (Range, error) {
	var r Range
	if in.startDate == nil || strings.TrimSpace(*in.startDate) == "" {
		return r, badParam("startDate", "required")
	}
	if in.endDate == nil || strings.TrimSpace(*in.endDate) == "" {
		return r, badParam("endDate", "required")
	}
	var err error
	if r.StartSent, err = parseDate("startDate", *in.startDate, false); err != nil {
		return r, err
	}
	if r.EndSent, err = parseDate("endDate", *in.endDate, true); err != nil {
		return r, err
	}
	// Compared on the instants as sent (CONTRACT §7), nanoseconds included: the
	// microseconds first, then the digits past them.
	startNs, endNs := instant.SubMicros([]byte(*in.startDate)), instant.SubMicros([]byte(*in.endDate))
	d, maxUs := r.EndSent-r.StartSent, int64(s.cfg.MaxRangeDays)*24*hourUs
	if d < 0 || d == 0 && endNs < startNs {
		return r, badParam("endDate", "must not be before startDate")
	}
	if d > maxUs || d == maxUs && endNs > startNs {
		return r, badParam("endDate", fmt.Sprintf("the range from startDate is longer than %d days", s.cfg.MaxRangeDays))
	}
	r.Start = calendar.HourOf(r.StartSent)
	r.End = calendar.HourOf(r.EndSent) + 1
	if r.StartHour, err = parseHour("startHour", in.startHour, 0); err != nil {
		return r, err
	}
	if r.EndHour, err = parseHour("endHour", in.endHour, 23); err != nil {
		return r, err
	}
	r.Mask = calendar.NewMask(r.StartHour, r.EndHour)
	if r.Channels, err = parseChannels("channelUuids", in.channels); err != nil {
		return r, err
	}
	return r, nil
}

func parseHour(name string, v *string, def int) (int, error) {
	if v == nil || *v == "" {
		return def, nil
	}
	h, err := strconv.Atoi(*v)
	if err != nil || h < 0 || h > 23 {
		return 0, badParam(name, fmt.Sprintf("must be an integer from 0 to 23, got %q", *v))
	}
	return h, nil
}

// parseChannels reads comma-separated channel UUIDs: elements trimmed, empty ones
// ignored, case ignored, each listed once (a request line of up to 1 MB holds ~28,000).
// Nothing listed means all channels (nil).
func parseChannels(name string, values []string) ([]string, error) {
	var out []string
	var seen map[string]bool
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			var u [36]byte
			if !parseUUID(e, &u) {
				return nil, badParam(name, fmt.Sprintf("not a UUID: %q", e))
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			if c := string(u[:]); !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// parseUUID checks the 8-4-4-4-12 hex form in any case and lower-cases it.
func parseUUID(s string, dst *[36]byte) bool { return ident.ParseUUID(s, dst) }

// enumParam reads an enum ignoring letter case; "" (absent) gives def.
func enumParam(name, v, def string, allowed ...string) (string, error) {
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, nil
		}
	}
	return "", badParam(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
}
