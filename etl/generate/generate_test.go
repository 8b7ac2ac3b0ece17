package generate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var offsetTime = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d"`)

var testStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday

func TestGenerateIsDeterministic(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			opts := Options{Seed: 7, Messages: 20_000, Days: 4, Start: testStart, BadLinesRate: 0.01, Gzip: gz}
			var dirs []string
			for _, workers := range []int{1, 2, 3} {
				dir := t.TempDir()
				opts.Workers = workers
				if _, err := Generate(context.Background(), opts, dir); err != nil {
					t.Fatal(err)
				}
				dirs = append(dirs, dir)
			}
			want := readDir(t, dirs[0])
			for _, dir := range dirs[1:] {
				got := readDir(t, dir)
				if len(got) != len(want) {
					t.Fatalf("%d files, want %d", len(got), len(want))
				}
				for name, b := range want {
					if !bytes.Equal(got[name], b) {
						t.Errorf("%s differs between worker counts", name)
					}
				}
			}
		})
	}
}

func TestGenerateTinyRuns(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17} {
		dir := t.TempDir()
		st, err := Generate(context.Background(), Options{Seed: 3, Messages: n, Days: 5, Start: testStart}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Messages != int64(n) || st.Files != 7 {
			t.Errorf("messages %d: stats %+v", n, st)
		}
		var lines int64
		for name := range readDir(t, dir) {
			for _, l := range readLines(t, filepath.Join(dir, name)) {
				if _, err := validate(l); err != nil {
					t.Fatalf("%s: %v: %s", name, err, l)
				}
				lines++
			}
		}
		if lines != st.Lines {
			t.Errorf("messages %d: %d lines, stats say %d", n, lines, st.Lines)
		}
	}
}

func TestGenerateSeedsDiffer(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for i, dir := range []string{a, b} {
		if _, err := Generate(context.Background(), Options{Seed: int64(i + 1), Messages: 2000, Days: 1, Start: testStart}, dir); err != nil {
			t.Fatal(err)
		}
	}
	fa := readDir(t, a)["gen-1-1-events-20260105.ndjson"]
	fb := readDir(t, b)["gen-2-1-events-20260105.ndjson"]
	if len(fa) == 0 || bytes.Equal(fa, fb) {
		t.Fatal("seeds 1 and 2 gave the same (or empty) day file")
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// record is a parsed good line.
type record struct {
	file, kind, tenant string
	raw                []byte
	m                  map[string]any
}

func (r record) str(k string) string { s, _ := r.m[k].(string); return s }

func (r record) time(t *testing.T, k string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, r.str(k))
	if err != nil {
		t.Fatalf("%s: %s: %v", r.file, k, err)
	}
	return v
}

func TestGeneratedLinesFollowTheContract(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Seed: 42, Messages: 60_000, Days: 9, Start: testStart, BadLinesRate: 0.004, Gzip: true, Workers: 2}
	st, err := Generate(context.Background(), opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats: %+v", st)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var size int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		size += info.Size()
		names = append(names, e.Name())
	}
	slices.Sort(names) // byte-wise file order
	wantNames := []string{"gen-42-0-catalog.ndjson"}
	for d := range opts.Days {
		wantNames = append(wantNames, "gen-42-1-events-"+testStart.AddDate(0, 0, d).Format("20060102")+".ndjson.gz")
	}
	wantNames = append(wantNames, "gen-42-2-late-updates.ndjson.gz")
	if !slices.Equal(names, wantNames) {
		t.Fatalf("files:\n%v\nwant\n%v", names, wantNames)
	}
	if st.Files != len(names) || st.Bytes != size {
		t.Errorf("stats files %d bytes %d, want %d and %d", st.Files, st.Bytes, len(names), size)
	}

	var (
		lines, bad, dups, offsetLines int64
		msgs                          = map[string]record{} // tenant/messageId -> first line
		convs                         = map[string]record{} // tenant/sessionCode -> first record
		users                         = map[string]map[string]bool{}
		channels                      = map[string]bool{} // tenant/uuid
		sessionsOfTenant              = map[string]int{}
		understood, userMsgs          int
		lastSeen                      = map[string]time.Time{} // tenant/session -> last message time
		firstMsg                      = map[string]time.Time{}
		hourCount                     [24]int
		crossings                     int // messages on the day after their conversation started
	)
	for _, name := range names {
		var prev time.Time
		fileDay := ""
		if strings.Contains(name, "-events-") {
			fileDay = strings.TrimSuffix(name[len("gen-42-1-events-"):], ".ndjson.gz")
		}
		for _, raw := range readLines(t, filepath.Join(dir, name)) {
			lines++
			m, err := validate(raw)
			if err != nil {
				bad++
				continue
			}
			r := record{file: name, kind: m["kind"].(string), raw: raw, m: m}
			for _, k := range []string{"orgUuid", "envUuid", "botUuid", "uuid", "channelUuid"} {
				if v, ok := m[k].(string); ok && !isCanonicalUUID(v) {
					t.Fatalf("%s: %s %q is not lower-case canonical", name, k, v)
				}
			}
			if offsetTime.Match(raw) {
				offsetLines++
			}
			r.tenant = r.str("orgUuid") + "/" + r.str("envUuid") + "/" + r.str("botUuid")
			switch r.kind {
			case "channel":
				if name != wantNames[0] {
					t.Fatalf("%s: channel record outside the catalog", name)
				}
				channels[r.tenant+"/"+r.str("uuid")] = true
			case "conversation":
				key := r.tenant + "/" + r.str("sessionCode")
				if !channels[r.tenant+"/"+r.str("channelUuid")] {
					t.Fatalf("%s: conversation on unknown channel: %s", name, raw)
				}
				started := r.time(t, "startedAt")
				if first, ok := convs[key]; ok { // a late update
					if !strings.Contains(name, "late-updates") {
						t.Fatalf("%s: second record of %s outside the late file", name, key)
					}
					if !first.time(t, "startedAt").Equal(started) {
						t.Fatalf("late update of %s moves startedAt", key)
					}
					if !updatedAt(t, r).After(updatedAt(t, first)) {
						t.Fatalf("late update of %s is not later: %s", key, raw)
					}
					if r.m["endedAt"] == nil {
						t.Fatalf("late update of %s has no endedAt", key)
					}
					continue
				}
				if fileDay == "" || started.UTC().Format("20060102") != fileDay {
					t.Fatalf("%s: conversation started %v", name, started)
				}
				if started.Before(prev) {
					t.Fatalf("%s: lines out of time order at %s", name, raw)
				}
				prev = started
				if e, ok := r.m["endedAt"]; ok && e != nil && r.time(t, "endedAt").Before(started) {
					t.Fatalf("%s: ends before it starts", raw)
				}
				convs[key] = r
				sessionsOfTenant[r.tenant]++
				if users[r.tenant] == nil {
					users[r.tenant] = map[string]bool{}
				}
				users[r.tenant][r.str("userId")] = true
			case "message":
				key := r.tenant + "/" + r.str("messageId")
				if first, ok := msgs[key]; ok {
					if !bytes.Equal(first.raw, raw) || first.file != name {
						t.Fatalf("messageId %s reused by a different line", key)
					}
					dups++
					continue
				}
				msgs[key] = r
				created := r.time(t, "createdAt")
				if created.UTC().Format("20060102") != fileDay {
					t.Fatalf("%s: message created %v", name, created)
				}
				if created.Before(prev) {
					t.Fatalf("%s: lines out of time order at %s", name, raw)
				}
				prev = created
				hourCount[created.UTC().Hour()]++
				skey := r.tenant + "/" + r.str("sessionCode")
				conv, ok := convs[skey]
				if !ok {
					t.Fatalf("%s: message before its conversation: %s", name, raw)
				}
				if conv.str("userId") != r.str("userId") || conv.str("channelUuid") != r.str("channelUuid") {
					t.Fatalf("message and conversation disagree: %s", raw)
				}
				if created.Before(conv.time(t, "startedAt")) || !created.After(lastSeen[skey]) {
					t.Fatalf("message out of its session's order: %s", raw)
				}
				if created.UTC().YearDay() != conv.time(t, "startedAt").UTC().YearDay() {
					crossings++
				}
				if _, ok := firstMsg[skey]; !ok {
					firstMsg[skey] = created
				}
				if created.Sub(firstMsg[skey]) > maxSpanMs*time.Millisecond {
					t.Fatalf("session %s lasts more than %v", skey, maxSpanMs*time.Millisecond)
				}
				lastSeen[skey] = created
				switch r.str("direction") {
				case "USER":
					userMsgs++
					if r.m["minimumConfidenceAchieved"] == true {
						understood++
					}
				case "BOT":
					to, ok := msgs[r.tenant+"/"+r.str("replyTo")]
					if !ok || to.str("direction") != "USER" || to.str("sessionCode") != r.str("sessionCode") {
						t.Fatalf("replyTo does not name an earlier USER message of the session: %s", raw)
					}
				}
			}
		}
	}

	if lines != st.Lines {
		t.Errorf("read %d lines, stats say %d", lines, st.Lines)
	}
	if bad != st.BadLines {
		t.Errorf("%d bad lines, stats say %d", bad, st.BadLines)
	}
	if want := float64(lines) * opts.BadLinesRate; float64(bad) < want/2 || float64(bad) > want*2 {
		t.Errorf("%d bad lines, want about %.0f", bad, want)
	}
	if dups != st.Duplicates || dups == 0 {
		t.Errorf("%d duplicates, stats say %d", dups, st.Duplicates)
	}
	if int64(len(msgs)) != st.Messages || st.Messages != int64(opts.Messages) {
		t.Errorf("%d distinct messages, stats say %d, asked for %d", len(msgs), st.Messages, opts.Messages)
	}
	if int64(len(convs)) != st.Conversations {
		t.Errorf("%d conversations, stats say %d", len(convs), st.Conversations)
	}
	if share := float64(st.ConversationUpdates) / float64(st.Conversations); share < 0.015 || share > 0.05 {
		t.Errorf("late updates for %.3f of conversations, want ~0.03", share)
	}
	if st.Channels != len(channels) || len(channels) < 15 {
		t.Errorf("%d channels, stats say %d", len(channels), st.Channels)
	}
	for tenant, n := range sessionsOfTenant {
		if len(users[tenant]) >= n {
			t.Errorf("tenant %s: %d users for %d conversations, want returning users", tenant, len(users[tenant]), n)
		}
	}
	if share := float64(understood) / float64(userMsgs); share < 0.72 || share > 0.84 {
		t.Errorf("understood share %.3f, want ~0.78", share)
	}
	if share := float64(offsetLines) / float64(lines); share < 0.02 || share > 0.1 {
		t.Errorf("lines with offset times %.3f, want ~0.05", share)
	}
	if crossings == 0 {
		t.Error("no conversation crosses midnight")
	}
	if night, peak := hourCount[4], hourCount[11]; night*3 > peak {
		t.Errorf("messages at 04h %d, at 11h %d: want a diurnal curve", night, peak)
	}
}

func updatedAt(t *testing.T, r record) time.Time {
	for _, k := range []string{"updatedAt", "endedAt", "startedAt"} {
		if v, ok := r.m[k]; ok && v != nil {
			return r.time(t, k)
		}
	}
	return time.Time{}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rd io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s: no final newline", path)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}

// validate checks one line against CONTRACT §2 and §7 and returns it decoded.
func validate(raw []byte) (map[string]any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	var errs []error
	need := func(k string) any {
		x, ok := m[k]
		if !ok || x == nil {
			errs = append(errs, fmt.Errorf("%s missing", k))
		}
		return x
	}
	str := func(k string, required, nonEmpty bool) {
		x, ok := m[k]
		if !ok || x == nil {
			if required {
				errs = append(errs, fmt.Errorf("%s missing", k))
			}
			return
		}
		s, ok := x.(string)
		if !ok || nonEmpty && s == "" {
			errs = append(errs, fmt.Errorf("%s: want a non-empty string", k))
		}
	}
	uuid := func(k string) {
		s, ok := need(k).(string)
		if !ok || !isCanonicalUUID(strings.ToLower(s)) {
			errs = append(errs, fmt.Errorf("%s: not a UUID", k))
		}
	}
	instant := func(k string, required bool) {
		x, ok := m[k]
		if !ok || x == nil {
			if required {
				errs = append(errs, fmt.Errorf("%s missing", k))
			}
			return
		}
		s, ok := x.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
			errs = append(errs, fmt.Errorf("%s: not an instant", k))
		}
	}
	strings_ := func(k string) {
		if x, ok := m[k]; ok && x != nil {
			a, ok := x.([]any)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: want an array", k))
				return
			}
			for _, e := range a {
				if _, ok := e.(string); !ok {
					errs = append(errs, fmt.Errorf("%s: want strings", k))
				}
			}
		}
	}
	intIn := func(x any, lo, hi int64) bool {
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		i, err := n.Int64()
		return err == nil && lo <= i && i <= hi
	}
	uuid("orgUuid")
	uuid("envUuid")
	uuid("botUuid")
	switch m["kind"] {
	case "channel":
		uuid("uuid")
		str("name", true, true)
		str("description", false, false)
		ct, ok := need("channelType").(map[string]any)
		if !ok {
			errs = append(errs, errors.New("channelType: want an object"))
			break
		}
		cc, _ := ct["channelClassification"].(map[string]any)
		if n, _ := ct["name"].(string); n == "" || !intIn(ct["id"], -1<<31, 1<<31) || cc == nil {
			errs = append(errs, errors.New("channelType incomplete"))
		} else if n, _ := cc["name"].(string); n == "" || !intIn(cc["id"], -1<<31, 1<<31) {
			errs = append(errs, errors.New("channelClassification incomplete"))
		}
		if _, ok := ct["image"].(string); !ok {
			errs = append(errs, errors.New("channelType.image: want a string"))
		}
	case "conversation":
		str("sessionCode", true, true)
		str("businessKey", false, false)
		uuid("channelUuid")
		str("userId", true, true)
		instant("startedAt", true)
		instant("endedAt", false)
		instant("updatedAt", false)
		if x, ok := m["satisfaction"]; ok && x != nil && !intIn(x, 1, 5) {
			errs = append(errs, errors.New("satisfaction: want 1..5"))
		}
		strings_("flows")
		strings_("tags")
	case "message":
		str("messageId", true, true)
		str("sessionCode", true, true)
		uuid("channelUuid")
		str("userId", true, true)
		instant("createdAt", true)
		str("content", true, false)
		str("flow", false, false)
		strings_("tags")
		if !slices.Contains([]any{"TEXT", "CAROUSEL", "BUTTONS", "IMAGE", "FILE", "AUDIO", "VIDEO", "LOCATION"}, m["type"]) {
			errs = append(errs, errors.New("type: unknown"))
		}
		switch m["direction"] {
		case "USER":
			str("intent", false, false)
			if x, ok := m["confidence"]; ok && x != nil {
				n, ok := x.(json.Number)
				f, err := n.Float64()
				if !ok || err != nil || f < 0 || f > 1 {
					errs = append(errs, errors.New("confidence: want 0..1"))
				}
			}
			if x, ok := m["minimumConfidenceAchieved"]; ok && x != nil {
				if _, ok := x.(bool); !ok {
					errs = append(errs, errors.New("minimumConfidenceAchieved: want a bool"))
				}
			}
			strings_("entities")
			if x, ok := m["nlpResponses"]; ok && x != nil {
				a, _ := x.([]any)
				for _, e := range a {
					o, _ := e.(map[string]any)
					if o == nil || !slices.Contains([]any{"INTENT", "DOCUMENT", "FALLBACK"}, o["responseType"]) ||
						!intIn(o["paragraphNumber"], -1<<31, 1<<31) {
						errs = append(errs, errors.New("nlpResponses: bad element"))
						continue
					}
					if _, ok := o["responseName"].(string); !ok {
						errs = append(errs, errors.New("nlpResponses: responseName"))
					}
				}
				if a == nil {
					errs = append(errs, errors.New("nlpResponses: want an array"))
				}
			}
		case "BOT":
			str("replyTo", false, false)
			str("answerName", false, false)
			if x, ok := m["buttons"]; ok && x != nil {
				a, _ := x.([]any)
				for _, e := range a {
					o, _ := e.(map[string]any)
					for _, k := range []string{"name", "value", "action"} {
						if _, ok := o[k].(string); !ok {
							errs = append(errs, errors.New("buttons: bad element"))
						}
					}
				}
			}
		default:
			errs = append(errs, errors.New("direction: unknown"))
		}
	default:
		errs = append(errs, errors.New("kind: unknown"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func TestBadLinesAreBad(t *testing.T) {
	m := newModel(mustNormalize(t, Options{Seed: 1, Messages: 10_000, Days: 1, Start: testStart}))
	b := newBuilder(m)
	var goods [][]byte
	var c conv
	for i := 0; len(goods) < 400; i++ {
		p := planned{start: m.startMs + int64(i)*60_000, seed: uint64(i), turns: 3, replies: 0b10_01_10}
		b.build(&c, &p, 0, i)
		goods = append(goods, m.appendConversation(nil, &c, false), m.appendConversation(nil, &c, true))
		for j := 0; j < c.n; j++ {
			goods = append(goods, m.appendMessage(nil, &c, j))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range goods {
		if _, err := validate(bytes.TrimSuffix(g, []byte("\n"))); err != nil {
			t.Fatalf("good line rejected: %v\n%s", err, g)
		}
		for range 40 {
			bl := badLine(nil, g, r)
			if bytes.Count(bl, []byte("\n")) != 1 || bl[len(bl)-1] != '\n' {
				t.Fatalf("bad line is not one line: %q", bl)
			}
			if _, err := validate(bl[:len(bl)-1]); err == nil {
				t.Fatalf("bad line passes validation:\n%s\nfrom\n%s", bl, g)
			}
		}
	}
}

func mustNormalize(t *testing.T, o Options) Options {
	t.Helper()
	o, err := o.normalized(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "new\nline\r\ttab\b\f", "\x00\x01\x1f\x7f",
		"Olá, ação — 😀 \u2028 \u2029 fim", "<html>&amp;</html>", "C:\\dir\\",
	} {
		var got string
		b := appendJSONString(nil, s)
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("%q: wrote %s, read back %q (%v)", s, b, got, err)
		}
		if bytes.ContainsAny(b, "\n\r") {
			t.Errorf("%q: raw line break in %s", s, b)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("Olá \"mundo\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ToValidUTF8(s, "") != s {
			t.Skip()
		}
		var got string
		b := appendJSONString(nil, s)
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Fatalf("%q: wrote %s, read back %q (%v)", s, b, got, err)
		}
	})
}

func TestAppendTime(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		ms := r.Int64N(8_000_000_000_000) - 1_000_000_000_000 // 1938..2223
		off := 0
		if r.IntN(2) == 0 {
			off = offsets[r.IntN(len(offsets))]
		}
		got := string(appendTime(nil, ms, off))
		want := time.UnixMilli(ms).In(time.FixedZone("", off*60)).Format("2006-01-02T15:04:05.000Z07:00")
		if got != want {
			t.Fatalf("appendTime(%d, %d) = %s, want %s", ms, off, got, want)
		}
	}
}

func TestAppendConfidence(t *testing.T) {
	for c := 0; c <= 10_000; c++ {
		var f float64
		if err := json.Unmarshal(appendConfidence(nil, c), &f); err != nil || f != float64(c)/10_000 {
			t.Fatalf("%d: %s", c, appendConfidence(nil, c))
		}
	}
}

func TestPermuteIsABijection(t *testing.T) {
	for _, bits := range []uint{53, 62} {
		seen := map[uint64]bool{}
		for x := range uint64(1 << 16) {
			y := permute(x<<20|x, 12345, bits)
			if y >= 1<<bits || seen[y] {
				t.Fatalf("bits %d: collision or overflow at %d", bits, x)
			}
			seen[y] = true
		}
	}
}

func TestDayBudgetsAddUp(t *testing.T) {
	for _, tc := range []struct {
		messages int64
		days     int
	}{{0, 3}, {1, 7}, {10, 30}, {1_000_003, 31}, {10_000_000, 1}} {
		b := dayBudgets(tc.messages, testStart, tc.days)
		var sum int64
		for _, n := range b {
			sum += n
		}
		if sum != tc.messages {
			t.Errorf("%d messages over %d days: budgets add up to %d", tc.messages, tc.days, sum)
		}
	}
	b := dayBudgets(700_000, testStart, 7) // Monday..Sunday
	if b[5] > b[0]*7/10 || b[6] > b[0]*7/10 {
		t.Errorf("weekend budgets %v: want ~60%% of weekdays", b)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, o := range []Options{
		{Days: 0, Messages: 1},
		{Days: 1, Messages: -1},
		{Days: 1, BadLinesRate: 1},
		{Days: 1, Workers: -1},
		{Days: 1, Tenants: []Tenant{}},
		{Days: 1, Tenants: []Tenant{{OrgUUID: "x", EnvUUID: "x", BotUUID: "x", Weight: 1}}},
		{Days: 1, Tenants: []Tenant{{OrgUUID: DefaultTenants()[0].OrgUUID, EnvUUID: DefaultTenants()[0].EnvUUID, BotUUID: DefaultTenants()[0].BotUUID}}},
	} {
		if _, err := Generate(context.Background(), o, t.TempDir()); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestDefaultStartEndsToday(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 4, 5, 0, time.FixedZone("", -3*3600))
	o, err := Options{Days: 7}.normalized(now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC); !o.Start.Equal(want) {
		t.Errorf("start %v, want %v", o.Start, want)
	}
}

func TestGenerateStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := Generate(ctx, Options{Seed: 1, Messages: 100_000, Days: 3, Start: testStart}, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run(fmt.Sprintf("gzip=%v", gz), func(b *testing.B) {
			dir := b.TempDir()
			opts := Options{Seed: 1, Messages: 200_000, Days: 7, Start: testStart, BadLinesRate: 0.001, Gzip: gz}
			var size int64
			for b.Loop() {
				st, err := Generate(context.Background(), opts, dir)
				if err != nil {
					b.Fatal(err)
				}
				size = st.Bytes
			}
			b.ReportMetric(float64(opts.Messages)*float64(b.N)/b.Elapsed().Seconds(), "messages/s")
			b.ReportMetric(float64(size), "file-bytes/op")
		})
	}
}
