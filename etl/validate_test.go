package etl

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dashboard-analytics/dashboard/internal/instant"
)

// The tenant and channel of the hand-written lines.
const (
	tOrg  = "940eee3c-ba6f-475c-ae84-496e7857dd86"
	tEnv  = "b938451e-e325-4aa6-b340-6bc44dc2a627"
	tBot  = "c2354e2b-b774-4a63-81d8-fac168fb90d7"
	tChan = "bdfa7fa4-ffe9-4c11-863d-5f77bb3a6a06"
)

// del, as a value given to line, removes the key.
type delField struct{}

var del = delField{}

func tenantFields(kind string) map[string]any {
	return map[string]any{"kind": kind, "orgUuid": tOrg, "envUuid": tEnv, "botUuid": tBot}
}

func userMessage() map[string]any {
	m := tenantFields("message")
	for k, v := range map[string]any{
		"messageId": "m-1", "sessionCode": "s-1", "channelUuid": tChan, "userId": "u-1",
		"direction": "USER", "createdAt": "2026-01-02T03:04:05.678Z", "content": "Qual o horário?", "type": "TEXT",
		"intent": "horario", "confidence": 0.82, "minimumConfidenceAchieved": true,
		"entities":     []any{"loja", "horario"},
		"nlpResponses": []any{map[string]any{"responseType": "INTENT", "paragraphNumber": 0, "responseName": "horario"}},
		"flow":         "Boas-vindas", "tags": []any{"vip"},
	} {
		m[k] = v
	}
	return m
}

func botMessage() map[string]any {
	m := tenantFields("message")
	for k, v := range map[string]any{
		"messageId": "m-2", "sessionCode": "s-1", "channelUuid": tChan, "userId": "u-1",
		"direction": "BOT", "createdAt": "2026-01-02T03:04:06Z", "content": "Das 8h às 18h.", "type": "BUTTONS",
		"replyTo": "m-1", "answerName": "resposta_horario",
		"buttons": []any{map[string]any{"name": "Ok", "value": "ok", "action": "postback"}},
		"flow":    "Boas-vindas",
	} {
		m[k] = v
	}
	return m
}

func conversation() map[string]any {
	m := tenantFields("conversation")
	for k, v := range map[string]any{
		"sessionCode": "s-1", "businessKey": "BK-1", "channelUuid": tChan, "userId": "u-1",
		"startedAt": "2026-01-02T03:00:00Z", "endedAt": "2026-01-02T03:10:00Z", "updatedAt": "2026-01-02T03:11:00Z",
		"satisfaction": 4, "flows": []any{"Boas-vindas", "Horário", "Boas-vindas"}, "tags": []any{"t1"},
	} {
		m[k] = v
	}
	return m
}

func channel() map[string]any {
	m := tenantFields("channel")
	m["uuid"] = tChan
	m["name"] = "Site"
	m["description"] = "Chat do site"
	m["channelType"] = map[string]any{"id": 3, "name": "WEB", "image": "web.png",
		"channelClassification": map[string]any{"id": 1, "name": "Digital"}}
	return m
}

// line marshals base with the changes applied: pairs of a key (dotted for nested objects:
// "channelType.channelClassification.id") and a value (del removes the key).
func line(base map[string]any, changes ...any) string {
	for i := 0; i < len(changes); i += 2 {
		path := strings.Split(changes[i].(string), ".")
		obj := base
		for _, p := range path[:len(path)-1] {
			obj = obj[p].(map[string]any)
		}
		k := path[len(path)-1]
		if _, ok := changes[i+1].(delField); ok {
			delete(obj, k)
		} else {
			obj[k] = changes[i+1]
		}
	}
	b, err := json.Marshal(base)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// deepJSON is n nested arrays.
func deepJSON(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// raw is a JSON fragment put into a line as written (json.RawMessage marshals verbatim).
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// badLineCases: every line must be rejected with a reason starting "field: ".
func badLineCases() []struct{ name, line, field string } {
	type c = struct{ name, line, field string }
	um, bm, cv, ch := userMessage, botMessage, conversation, channel
	cases := []c{
		// Not JSON.
		{"truncated", `{"kind": "message", "orgUuid": "x"`, "line"},
		{"a known field nested 400 levels deep", line(um(), "tags", raw(deepJSON(400))), "tags"},
		{"a known field's element nested 400 levels deep", line(um(), "nlpResponses", raw(`[{"responseType":"INTENT","paragraphNumber":1,"responseName":`+deepJSON(400)+`}]`)), "nlpResponses[0].responseName"},
		{"a deep line that is not JSON", line(um(), "extra", raw(deepJSON(400)))[1:], "line"},
		{"single quotes", `{'kind': 'message'}`, "line"},
		{"trailing brace", line(um()) + "}", "line"},
		{"trailing comma", `{"kind": "message",}`, "line"},
		{"bare word", `hello`, "line"},
		{"NaN", strings.Replace(line(um()), `0.82`, `NaN`, 1), "line"},
		{"two objects", line(um()) + line(um()), "line"},
		{"invalid UTF-8", strings.Replace(line(um()), "horário", "hor\xe1rio", 1), "line"},
		{"raw control character in string", strings.Replace(line(um()), "horário", "hor\x01ário", 1), "line"},
		// JSON, not an object.
		{"array", `["message", "m-1", 1]`, "line"},
		{"string", `"message"`, "line"},
		{"number", `42`, "line"},
		{"null", `null`, "line"},
		{"boolean", `true`, "line"},
		// kind.
		{"empty object", `{}`, "kind"},
		{"kind missing", line(um(), "kind", del), "kind"},
		{"kind null", line(um(), "kind", nil), "kind"},
		{"kind empty", line(um(), "kind", ""), "kind"},
		{"kind number", line(um(), "kind", 3), "kind"},
		{"kind unknown", line(um(), "kind", "event"), "kind"},
		{"kind wrong case", line(um(), "kind", "Message"), "kind"},
	}
	// Tenant UUIDs, on every kind.
	for _, f := range []string{"orgUuid", "envUuid", "botUuid"} {
		for _, u := range []struct {
			name string
			v    any
		}{
			{"missing", del}, {"null", nil}, {"empty", ""}, {"number", 7}, {"object", map[string]any{}},
			{"braces", "{" + tOrg + "}"}, {"urn", "urn:uuid:" + tOrg}, {"short", tOrg[:35]}, {"long", tOrg + "0"},
			{"no dashes", strings.ReplaceAll(tOrg, "-", "")}, {"dash misplaced", "940eee3cb-a6f-475c-ae84-496e7857dd86"},
			{"not hex", "940eee3c-ba6f-475c-ae84-496e7857dd8g"}, {"spaces", " " + tOrg[1:]},
		} {
			cases = append(cases,
				c{"message " + f + " " + u.name, line(um(), f, u.v), f},
				c{"conversation " + f + " " + u.name, line(cv(), f, u.v), f},
				c{"channel " + f + " " + u.name, line(ch(), f, u.v), f})
		}
	}
	// Required fields of each kind: missing, null, wrong type.
	for _, f := range []string{"messageId", "sessionCode", "channelUuid", "userId", "direction", "createdAt", "content", "type"} {
		cases = append(cases,
			c{"user message " + f + " missing", line(um(), f, del), f},
			c{"bot message " + f + " missing", line(bm(), f, del), f},
			c{"message " + f + " null", line(um(), f, nil), f},
			c{"message " + f + " number", line(um(), f, 12), f},
			c{"message " + f + " array", line(um(), f, []any{"a"}), f})
	}
	for _, f := range []string{"sessionCode", "channelUuid", "userId", "startedAt"} {
		cases = append(cases,
			c{"conversation " + f + " missing", line(cv(), f, del), f},
			c{"conversation " + f + " null", line(cv(), f, nil), f},
			c{"conversation " + f + " number", line(cv(), f, 12), f},
			c{"conversation " + f + " bool", line(cv(), f, true), f})
	}
	for _, f := range []string{"uuid", "name"} {
		cases = append(cases,
			c{"channel " + f + " missing", line(ch(), f, del), f},
			c{"channel " + f + " null", line(ch(), f, nil), f},
			c{"channel " + f + " number", line(ch(), f, 12), f})
	}
	// "" for a required string (content "" is allowed, see the good lines).
	for _, f := range []string{"messageId", "sessionCode", "channelUuid", "userId", "direction", "createdAt", "type"} {
		cases = append(cases, c{"message " + f + " empty", line(um(), f, ""), f})
	}
	for _, f := range []string{"sessionCode", "channelUuid", "userId", "startedAt"} {
		cases = append(cases, c{"conversation " + f + " empty", line(cv(), f, ""), f})
	}
	cases = append(cases,
		c{"channel uuid empty", line(ch(), "uuid", ""), "uuid"},
		c{"channel name empty", line(ch(), "name", ""), "name"},
		c{"message channelUuid braces", line(um(), "channelUuid", "{"+tChan+"}"), "channelUuid"},
		c{"conversation channelUuid short", line(cv(), "channelUuid", tChan[:30]), "channelUuid"},
		c{"channel uuid urn", line(ch(), "uuid", "urn:uuid:"+tChan), "uuid"},

		// Message domains and types.
		c{"direction lower case", line(um(), "direction", "user"), "direction"},
		c{"direction unknown", line(um(), "direction", "SYSTEM"), "direction"},
		c{"type lower case", line(um(), "type", "text"), "type"},
		c{"type unknown", line(um(), "type", "STICKER"), "type"},
		c{"content bool", line(bm(), "content", false), "content"},
		c{"flow number", line(um(), "flow", 1), "flow"},
		c{"tags string", line(um(), "tags", "vip"), "tags"},
		c{"tags of numbers", line(bm(), "tags", []any{"a", 1}), "tags"},
		// USER-only fields on a USER message.
		c{"intent number", line(um(), "intent", 5), "intent"},
		c{"confidence negative", line(um(), "confidence", raw("-0.1")), "confidence"},
		c{"confidence above 1", line(um(), "confidence", raw("1.0001")), "confidence"},
		c{"confidence 1.5", line(um(), "confidence", 1.5), "confidence"},
		c{"confidence string", line(um(), "confidence", "0.5"), "confidence"},
		c{"confidence bool", line(um(), "confidence", true), "confidence"},
		c{"confidence huge", line(um(), "confidence", raw("1e400")), "confidence"},
		c{"minimumConfidenceAchieved string", line(um(), "minimumConfidenceAchieved", "true"), "minimumConfidenceAchieved"},
		c{"minimumConfidenceAchieved number", line(um(), "minimumConfidenceAchieved", 1), "minimumConfidenceAchieved"},
		c{"entities string", line(um(), "entities", "loja"), "entities"},
		c{"entities of objects", line(um(), "entities", []any{map[string]any{}}), "entities"},
		c{"nlpResponses object", line(um(), "nlpResponses", map[string]any{}), "nlpResponses"},
		c{"nlpResponses of strings", line(um(), "nlpResponses", []any{"INTENT"}), "nlpResponses[0]"},
		c{"nlpResponses unknown responseType", line(um(), "nlpResponses", []any{
			map[string]any{"responseType": "INTENT", "paragraphNumber": 0, "responseName": "a"},
			map[string]any{"responseType": "OTHER", "paragraphNumber": 0, "responseName": "a"}}), "nlpResponses[1].responseType"},
		c{"nlpResponses responseType lower case", line(um(), "nlpResponses", []any{
			map[string]any{"responseType": "intent", "paragraphNumber": 0, "responseName": "a"}}), "nlpResponses[0].responseType"},
		c{"nlpResponses responseType missing", line(um(), "nlpResponses", []any{
			map[string]any{"paragraphNumber": 0, "responseName": "a"}}), "nlpResponses[0].responseType"},
		c{"nlpResponses paragraphNumber string", line(um(), "nlpResponses", []any{
			map[string]any{"responseType": "DOCUMENT", "paragraphNumber": "1", "responseName": "a"}}), "nlpResponses[0].paragraphNumber"},
		c{"nlpResponses paragraphNumber fraction", line(um(), "nlpResponses", []any{
			map[string]any{"responseType": "DOCUMENT", "paragraphNumber": 1.5, "responseName": "a"}}), "nlpResponses[0].paragraphNumber"},
		c{"nlpResponses paragraphNumber missing", line(um(), "nlpResponses", []any{
			map[string]any{"responseType": "DOCUMENT", "responseName": "a"}}), "nlpResponses[0].paragraphNumber"},
		c{"nlpResponses responseName missing", line(um(), "nlpResponses", []any{
			map[string]any{"responseType": "FALLBACK", "paragraphNumber": 2}}), "nlpResponses[0].responseName"},
		c{"nlpResponses responseName empty", line(um(), "nlpResponses", []any{
			map[string]any{"responseType": "FALLBACK", "paragraphNumber": 2, "responseName": ""}}), "nlpResponses[0].responseName"},
		// BOT-only fields on a BOT message.
		c{"replyTo number", line(bm(), "replyTo", 5), "replyTo"},
		c{"answerName bool", line(bm(), "answerName", false), "answerName"},
		c{"buttons string", line(bm(), "buttons", "x"), "buttons"},
		c{"buttons of strings", line(bm(), "buttons", []any{"Ok"}), "buttons[0]"},
		c{"button without name", line(bm(), "buttons", []any{map[string]any{"value": "v"}}), "buttons[0].name"},
		c{"button value number", line(bm(), "buttons", []any{map[string]any{"name": "a"}, map[string]any{"name": "b", "value": 1}}), "buttons[1].value"},
		c{"button action object", line(bm(), "buttons", []any{map[string]any{"name": "a", "action": map[string]any{}}}), "buttons[0].action"},

		// Times.
		c{"createdAt without offset", line(um(), "createdAt", "2026-01-02T03:04:05"), "createdAt"},
		c{"createdAt fraction without offset", line(um(), "createdAt", "2026-01-02T03:04:05.123"), "createdAt"},
		c{"createdAt hour 25", line(um(), "createdAt", "2026-01-02T25:04:05Z"), "createdAt"},
		c{"createdAt hour 24", line(um(), "createdAt", "2026-01-02T24:00:00Z"), "createdAt"},
		c{"createdAt minute 60", line(um(), "createdAt", "2026-01-02T03:60:05Z"), "createdAt"},
		c{"createdAt second 60", line(um(), "createdAt", "2026-01-02T03:04:60Z"), "createdAt"},
		c{"createdAt Feb 30", line(um(), "createdAt", "2026-02-30T03:04:05Z"), "createdAt"},
		c{"createdAt Feb 29 of a common year", line(um(), "createdAt", "2025-02-29T03:04:05Z"), "createdAt"},
		c{"createdAt month 13", line(um(), "createdAt", "2026-13-01T03:04:05Z"), "createdAt"},
		c{"createdAt 10 fraction digits", line(um(), "createdAt", "2026-01-02T03:04:05.1234567891Z"), "createdAt"},
		c{"createdAt empty fraction", line(um(), "createdAt", "2026-01-02T03:04:05.Z"), "createdAt"},
		c{"createdAt date only", line(um(), "createdAt", "2026-01-02"), "createdAt"},
		c{"createdAt space separator", line(um(), "createdAt", "2026-01-02 03:04:05Z"), "createdAt"},
		c{"createdAt offset without colon", line(um(), "createdAt", "2026-01-02T03:04:05+0300"), "createdAt"},
		c{"createdAt offset hour 24", line(um(), "createdAt", "2026-01-02T03:04:05+24:00"), "createdAt"},
		c{"createdAt trailing text", line(um(), "createdAt", "2026-01-02T03:04:05Z "), "createdAt"},
		c{"createdAt before 0001-01-01 in UTC", line(um(), "createdAt", "0001-01-01T00:30:00+01:00"), "createdAt"},
		c{"createdAt after 9999-12-31 in UTC", line(um(), "createdAt", "9999-12-31T23:30:00-01:00"), "createdAt"},
		c{"createdAt year 0", line(um(), "createdAt", "0000-12-31T23:30:00Z"), "createdAt"},
		c{"startedAt before 0001-01-01 in UTC", line(cv(), "startedAt", "0001-01-01T00:00:00.5+00:01"), "startedAt"},
		c{"updatedAt after 9999-12-31 in UTC", line(cv(), "updatedAt", "9999-12-31T20:00:00-05:00"), "updatedAt"},
		c{"createdAt epoch number", line(um(), "createdAt", 1767323045), "createdAt"},
		c{"createdAt text", line(um(), "createdAt", "yesterday"), "createdAt"},
		c{"startedAt hour 25", line(cv(), "startedAt", "2026-01-02T25:00:00Z"), "startedAt"},
		c{"endedAt without offset", line(cv(), "endedAt", "2026-01-02T03:10:00"), "endedAt"},
		c{"endedAt number", line(cv(), "endedAt", 5), "endedAt"},
		c{"updatedAt Feb 30", line(cv(), "updatedAt", "2026-02-30T00:00:00Z"), "updatedAt"},
		c{"updatedAt without offset", line(cv(), "updatedAt", "2026-01-02T03:11:00.5"), "updatedAt"},

		// Conversation domains and types.
		c{"satisfaction 0", line(cv(), "satisfaction", 0), "satisfaction"},
		c{"satisfaction 6", line(cv(), "satisfaction", 6), "satisfaction"},
		c{"satisfaction -1", line(cv(), "satisfaction", -1), "satisfaction"},
		c{"satisfaction 3.5", line(cv(), "satisfaction", 3.5), "satisfaction"},
		c{"satisfaction string", line(cv(), "satisfaction", "3"), "satisfaction"},
		c{"satisfaction bool", line(cv(), "satisfaction", true), "satisfaction"},
		c{"satisfaction huge", line(cv(), "satisfaction", raw("1e300")), "satisfaction"},
		c{"businessKey number", line(cv(), "businessKey", 12), "businessKey"},
		c{"flows string", line(cv(), "flows", "Boas-vindas"), "flows"},
		c{"flows of numbers", line(cv(), "flows", []any{1, 2}), "flows"},
		c{"flows with null", line(cv(), "flows", []any{"a", nil}), "flows"},
		c{"conversation tags object", line(cv(), "tags", map[string]any{}), "tags"},

		// Channel catalog.
		c{"description number", line(ch(), "description", 3), "description"},
		c{"channelType missing", line(ch(), "channelType", del), "channelType"},
		c{"channelType null", line(ch(), "channelType", nil), "channelType"},
		c{"channelType string", line(ch(), "channelType", "WEB"), "channelType"},
		c{"channelType array", line(ch(), "channelType", []any{}), "channelType"},
		c{"channelType.id missing", line(ch(), "channelType.id", del), "channelType.id"},
		c{"channelType.id string", line(ch(), "channelType.id", "3"), "channelType.id"},
		c{"channelType.id fraction", line(ch(), "channelType.id", 3.5), "channelType.id"},
		c{"channelType.id too big", line(ch(), "channelType.id", int64(1)<<40), "channelType.id"},
		c{"channelType.name missing", line(ch(), "channelType.name", del), "channelType.name"},
		c{"channelType.name empty", line(ch(), "channelType.name", ""), "channelType.name"},
		c{"channelType.name null", line(ch(), "channelType.name", nil), "channelType.name"},
		c{"channelType.image missing", line(ch(), "channelType.image", del), "channelType.image"},
		c{"channelType.image null", line(ch(), "channelType.image", nil), "channelType.image"},
		c{"channelType.image number", line(ch(), "channelType.image", 1), "channelType.image"},
		c{"channelClassification missing", line(ch(), "channelType.channelClassification", del), "channelType.channelClassification"},
		c{"channelClassification string", line(ch(), "channelType.channelClassification", "Digital"), "channelType.channelClassification"},
		c{"channelClassification.id missing", line(ch(), "channelType.channelClassification.id", del), "channelType.channelClassification.id"},
		c{"channelClassification.id string", line(ch(), "channelType.channelClassification.id", "1"), "channelType.channelClassification.id"},
		c{"channelClassification.name missing", line(ch(), "channelType.channelClassification.name", del), "channelType.channelClassification.name"},
		c{"channelClassification.name empty", line(ch(), "channelType.channelClassification.name", ""), "channelType.channelClassification.name"},
	)
	return cases
}

func TestValidatorRejects(t *testing.T) {
	var v Validator
	for _, tc := range badLineCases() {
		t.Run(tc.name, func(t *testing.T) {
			kind, err := v.Parse([]byte(tc.line))
			if err == nil {
				t.Fatalf("accepted as kind %d, want rejected (field %s)\nline: %s", kind, tc.field, tc.line)
			}
			if kind != KindNone {
				t.Errorf("kind = %d with an error, want KindNone", kind)
			}
			reason := err.Error()
			if !strings.HasPrefix(reason, tc.field+": ") || len(reason) <= len(tc.field)+2 {
				t.Errorf("reason %q does not name the field: want %q", reason, tc.field+": <why>")
			}
		})
	}
}

func mustTime(t *testing.T, s string) instant.Micros {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return instant.FromTime(tm)
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func eqStrings(t *testing.T, what string, got [][]byte, want ...string) {
	t.Helper()
	g := strs(got)
	if strings.Join(g, "\x00") != strings.Join(want, "\x00") || len(g) != len(want) {
		t.Errorf("%s = %q, want %q", what, g, want)
	}
}

func TestValidatorAccepts(t *testing.T) {
	upper := strings.ToUpper
	u2028 := strings.Replace(line(userMessage(), "content", "linha\u2028outra\u2029fim"), `\u2028`, "\u2028", 1)
	u2028 = strings.Replace(u2028, `\u2029`, "\u2029", 1)
	cases := []struct {
		name  string
		line  string
		kind  Kind
		check func(t *testing.T, v *Validator)
	}{
		{"user message", line(userMessage()), KindMessage, func(t *testing.T, v *Validator) {
			m := &v.Msg
			eq(t, "org", string(m.Org[:]), tOrg)
			eq(t, "env", string(m.Env[:]), tEnv)
			eq(t, "bot", string(m.Bot[:]), tBot)
			eq(t, "messageId", string(m.MessageID), "m-1")
			eq(t, "sessionCode", string(m.SessionCode), "s-1")
			eq(t, "channelUuid", string(m.ChannelUUID[:]), tChan)
			eq(t, "userId", string(m.UserID), "u-1")
			eq(t, "direction", string(m.Direction), "USER")
			eq(t, "IsUser", m.IsUser(), true)
			eq(t, "createdAt", m.CreatedAt, mustTime(t, "2026-01-02T03:04:05.678Z"))
			eq(t, "content", string(m.Content), "Qual o horário?")
			eq(t, "type", string(m.Type), "TEXT")
			eq(t, "intent", m.Intent.Valid && string(m.Intent.S) == "horario", true)
			eq(t, "confidence", m.HasConfidence && m.Confidence == 0.82, true)
			eq(t, "minimumConfidenceAchieved", m.MinConfAchieved, true)
			eqStrings(t, "entities", m.Entities, "loja", "horario")
			if len(m.NLPResponses) != 1 || string(m.NLPResponses[0].ResponseType) != "INTENT" ||
				m.NLPResponses[0].ParagraphNumber != 0 || string(m.NLPResponses[0].ResponseName) != "horario" {
				t.Errorf("nlpResponses = %+v", m.NLPResponses)
			}
			eq(t, "flow", string(m.Flow.S), "Boas-vindas")
			eqStrings(t, "tags", m.Tags, "vip")
		}},
		{"bot message", line(botMessage()), KindMessage, func(t *testing.T, v *Validator) {
			m := &v.Msg
			eq(t, "IsUser", m.IsUser(), false)
			eq(t, "direction", string(m.Direction), "BOT")
			eq(t, "replyTo", m.ReplyTo.Valid && string(m.ReplyTo.S) == "m-1", true)
			eq(t, "answerName", m.AnswerName.Valid && string(m.AnswerName.S) == "resposta_horario", true)
			if len(m.Buttons) != 1 || string(m.Buttons[0].Name) != "Ok" || string(m.Buttons[0].Value.S) != "ok" || string(m.Buttons[0].Action.S) != "postback" {
				t.Errorf("buttons = %+v", m.Buttons)
			}
			eq(t, "createdAt", m.CreatedAt, mustTime(t, "2026-01-02T03:04:06Z"))
		}},
		{"every message type", line(botMessage(), "type", "LOCATION"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "type", string(v.Msg.Type), "LOCATION")
		}},
		{"content empty (a bot card)", line(botMessage(), "content", "", "type", "CAROUSEL"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "content", string(v.Msg.Content), "")
		}},
		{"content empty on a user message", line(userMessage(), "content", ""), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "content", string(v.Msg.Content), "")
		}},
		{"upper-case UUIDs stored lower-case", line(userMessage(), "orgUuid", upper(tOrg), "envUuid", upper(tEnv), "botUuid", "C2354e2B-B774-4A63-81d8-FAC168fb90d7", "channelUuid", upper(tChan)), KindMessage, func(t *testing.T, v *Validator) {
			m := &v.Msg
			eq(t, "org", string(m.Org[:]), tOrg)
			eq(t, "env", string(m.Env[:]), tEnv)
			eq(t, "bot", string(m.Bot[:]), tBot)
			eq(t, "channelUuid", string(m.ChannelUUID[:]), tChan)
		}},
		{"upper-case channel uuid", line(channel(), "uuid", upper(tChan), "orgUuid", upper(tOrg)), KindChannel, func(t *testing.T, v *Validator) {
			eq(t, "uuid", string(v.Chan.UUID[:]), tChan)
			eq(t, "org", string(v.Chan.Org[:]), tOrg)
		}},
		{"offset converted to UTC", line(userMessage(), "createdAt", "2026-01-02T01:30:00+03:00"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", instant.Time(v.Msg.CreatedAt).Format(time.RFC3339Nano), "2026-01-01T22:30:00Z")
		}},
		{"negative offset crosses midnight", line(userMessage(), "createdAt", "2026-01-31T22:15:00.5-05:30"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", instant.Time(v.Msg.CreatedAt).Format(time.RFC3339Nano), "2026-02-01T03:45:00.5Z")
		}},
		{"lower-case t and z", line(userMessage(), "createdAt", "2026-01-02t03:04:05z"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", v.Msg.CreatedAt, mustTime(t, "2026-01-02T03:04:05Z"))
		}},
		{"9 fraction digits truncated to microseconds", line(userMessage(), "createdAt", "2026-01-02T03:04:05.123456789Z"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", v.Msg.CreatedAt, mustTime(t, "2026-01-02T03:04:05.123456Z"))
		}},
		{"7 fraction digits, negative offset", line(conversation(), "startedAt", "2026-01-02T03:04:05.9999999-01:00"), KindConversation, func(t *testing.T, v *Validator) {
			eq(t, "startedAt", v.Conv.StartedAt, mustTime(t, "2026-01-02T04:04:05.999999Z"))
		}},
		{"1 fraction digit", line(userMessage(), "createdAt", "2026-01-02T03:04:05.7Z"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", v.Msg.CreatedAt, mustTime(t, "2026-01-02T03:04:05.7Z"))
		}},
		{"first instant of year 1", line(userMessage(), "createdAt", "0001-01-01T01:00:00+01:00"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", v.Msg.CreatedAt, mustTime(t, "0001-01-01T00:00:00Z"))
		}},
		{"last instant of year 9999", line(userMessage(), "createdAt", "9999-12-31T23:59:59.9999999Z"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", v.Msg.CreatedAt, mustTime(t, "9999-12-31T23:59:59.999999Z"))
		}},
		{"Feb 29 of a leap year", line(userMessage(), "createdAt", "2028-02-29T23:59:59Z"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "createdAt", v.Msg.CreatedAt, mustTime(t, "2028-02-29T23:59:59Z"))
		}},
		{"null optional user fields are absent", line(userMessage(), "intent", nil, "confidence", nil, "minimumConfidenceAchieved", nil,
			"entities", nil, "nlpResponses", nil, "flow", nil, "tags", nil), KindMessage, func(t *testing.T, v *Validator) {
			m := &v.Msg
			eq(t, "intent valid", m.Intent.Valid, false)
			eq(t, "has confidence", m.HasConfidence, false)
			eq(t, "minimumConfidenceAchieved", m.MinConfAchieved, false)
			eq(t, "entities", len(m.Entities), 0)
			eq(t, "nlpResponses", len(m.NLPResponses), 0)
			eq(t, "flow valid", m.Flow.Valid, false)
			eq(t, "tags", len(m.Tags), 0)
		}},
		{"absent optional user fields", line(userMessage(), "intent", del, "confidence", del, "minimumConfidenceAchieved", del,
			"entities", del, "nlpResponses", del, "flow", del, "tags", del), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "intent valid", v.Msg.Intent.Valid, false)
			eq(t, "has confidence", v.Msg.HasConfidence, false)
			eq(t, "minimumConfidenceAchieved", v.Msg.MinConfAchieved, false)
		}},
		{"null optional bot fields are absent", line(botMessage(), "replyTo", nil, "answerName", nil, "buttons", nil, "flow", nil), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "replyTo valid", v.Msg.ReplyTo.Valid, false)
			eq(t, "answerName valid", v.Msg.AnswerName.Valid, false)
			eq(t, "buttons", len(v.Msg.Buttons), 0)
		}},
		{"null button value and action", line(botMessage(), "buttons", []any{map[string]any{"name": "a", "value": nil, "action": nil}}), KindMessage, func(t *testing.T, v *Validator) {
			if len(v.Msg.Buttons) != 1 || v.Msg.Buttons[0].Value.Valid || v.Msg.Buttons[0].Action.Valid {
				t.Errorf("buttons = %+v", v.Msg.Buttons)
			}
		}},
		{"confidence bounds 0 and 1", line(userMessage(), "confidence", 1), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "confidence", v.Msg.Confidence, 1.0)
		}},
		{"confidence 0", line(userMessage(), "confidence", raw("0.0")), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "has confidence", v.Msg.HasConfidence, true)
			eq(t, "confidence", v.Msg.Confidence, 0.0)
		}},
		{"intent empty string is kept", line(userMessage(), "intent", ""), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "intent valid", v.Msg.Intent.Valid, true)
		}},
		{"bot message ignores user-only fields", line(botMessage(), "confidence", "x", "intent", 5, "minimumConfidenceAchieved", "yes",
			"entities", "x", "nlpResponses", []any{"bad"}), KindMessage, func(t *testing.T, v *Validator) {
			m := &v.Msg
			eq(t, "intent valid", m.Intent.Valid, false)
			eq(t, "has confidence", m.HasConfidence, false)
			eq(t, "minimumConfidenceAchieved", m.MinConfAchieved, false)
			eq(t, "entities", len(m.Entities), 0)
			eq(t, "nlpResponses", len(m.NLPResponses), 0)
		}},
		{"bot message drops valid user-only fields", line(botMessage(), "confidence", 0.5, "intent", "x", "minimumConfidenceAchieved", true,
			"entities", []any{"e"}), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "intent valid", v.Msg.Intent.Valid, false)
			eq(t, "has confidence", v.Msg.HasConfidence, false)
			eq(t, "entities", len(v.Msg.Entities), 0)
		}},
		{"user message ignores bot-only fields", line(userMessage(), "buttons", "x", "replyTo", 5, "answerName", []any{}), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "replyTo valid", v.Msg.ReplyTo.Valid, false)
			eq(t, "answerName valid", v.Msg.AnswerName.Valid, false)
			eq(t, "buttons", len(v.Msg.Buttons), 0)
		}},
		{"user message drops valid bot-only fields", line(userMessage(), "buttons", []any{map[string]any{"name": "a"}}, "replyTo", "m-0"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "replyTo valid", v.Msg.ReplyTo.Valid, false)
			eq(t, "buttons", len(v.Msg.Buttons), 0)
		}},
		{"unknown fields ignored", line(userMessage(), "schemaVersion", 1, "extra", map[string]any{"nested": []any{1, nil, "x"}}, "Kind", 5, "createdat", "nope"), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "messageId", string(v.Msg.MessageID), "m-1")
		}},
		// The parser stops at 300 levels: a deep line is cut to 64 levels before parsing,
		// keeping every key in order (the last of a repeated key wins, escaped keys
		// count); an ignored field stays ignored however deep, inside known objects too.
		{"unknown field nested 5000 levels deep ignored", strings.TrimSuffix(line(userMessage(), "extra", raw(deepJSON(5000))), "}") +
			`,"direction":"BOT","\u0063ontent":"deep","x":{"y":` + deepJSON(400) + `}}`, KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "messageId", string(v.Msg.MessageID), "m-1")
			eq(t, "direction", string(v.Msg.Direction), "BOT")
			eq(t, "content", string(v.Msg.Content), "deep")
		}},
		{"unknown field nested 300 levels deep ignored", line(userMessage(), "extra", raw(deepJSON(299))), KindMessage, nil},
		{"unknown field nested deep inside channelType ignored", line(channel(), "channelType", raw(`{"id":1,"name":"WEB","image":"","channelClassification":{"id":2,"name":"CHAT","meta":`+deepJSON(400)+`},"meta":`+deepJSON(400)+`}`)), KindChannel, func(t *testing.T, v *Validator) {
			eq(t, "channelType.name", string(v.Chan.TypeName), "WEB")
		}},
		{"unknown field nested deep inside a button and an nlpResponse ignored", line(botMessage(), "buttons", raw(`[{"name":"n","meta":`+deepJSON(400)+`}]`)), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "buttons", len(v.Msg.Buttons), 1)
		}},
		{"unknown field nested deep inside an nlpResponse ignored", line(userMessage(), "nlpResponses", raw(`[{"responseType":"INTENT","paragraphNumber":1,"responseName":"x","meta":`+deepJSON(400)+`}]`)), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "nlpResponses", len(v.Msg.NLPResponses), 1)
		}},
		{"a field of the other direction nested deep ignored", line(userMessage(), "buttons", raw(deepJSON(400)), "replyTo", raw(`{"a":`+deepJSON(5000)+`}`)), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "buttons", len(v.Msg.Buttons), 0)
		}},
		{"a string holding brackets is not nesting", line(userMessage(), "content", strings.Repeat("[{\\\"", 400), "extra", raw(deepJSON(400))), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "content", string(v.Msg.Content), strings.Repeat("[{\\\"", 400))
		}},
		{"U+2028 and U+2029 inside a string", u2028, KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "content", string(v.Msg.Content), "linha\u2028outra\u2029fim")
		}},
		{"escaped characters decoded", line(userMessage(), "content", raw(`"a\"b\\c\u00e9\ud83d\ude00\n"`)), KindMessage, func(t *testing.T, v *Validator) {
			eq(t, "content", string(v.Msg.Content), "a\"b\\cé😀\n")
		}},
		{"conversation", line(conversation()), KindConversation, func(t *testing.T, v *Validator) {
			c := &v.Conv
			eq(t, "org", string(c.Org[:]), tOrg)
			eq(t, "sessionCode", string(c.SessionCode), "s-1")
			eq(t, "businessKey", string(c.BusinessKey.S), "BK-1")
			eq(t, "channelUuid", string(c.ChannelUUID[:]), tChan)
			eq(t, "userId", string(c.UserID), "u-1")
			eq(t, "startedAt", c.StartedAt, mustTime(t, "2026-01-02T03:00:00Z"))
			eq(t, "endedAt", c.HasEndedAt && c.EndedAt == mustTime(t, "2026-01-02T03:10:00Z"), true)
			eq(t, "updatedAt", c.UpdatedAt, mustTime(t, "2026-01-02T03:11:00Z"))
			eq(t, "satisfaction", c.HasSatisfaction && c.Satisfaction == 4, true)
			eqStrings(t, "flows", c.Flows, "Boas-vindas", "Horário", "Boas-vindas")
			eqStrings(t, "tags", c.Tags, "t1")
		}},
		{"satisfaction 1", line(conversation(), "satisfaction", 1), KindConversation, func(t *testing.T, v *Validator) {
			eq(t, "satisfaction", v.Conv.Satisfaction, int32(1))
		}},
		{"satisfaction 5", line(conversation(), "satisfaction", 5), KindConversation, func(t *testing.T, v *Validator) {
			eq(t, "satisfaction", v.Conv.Satisfaction, int32(5))
		}},
		{"updatedAt defaults to endedAt", line(conversation(), "updatedAt", nil), KindConversation, func(t *testing.T, v *Validator) {
			eq(t, "updatedAt", v.Conv.UpdatedAt, mustTime(t, "2026-01-02T03:10:00Z"))
		}},
		{"updatedAt defaults to startedAt", line(conversation(), "updatedAt", del, "endedAt", nil), KindConversation, func(t *testing.T, v *Validator) {
			eq(t, "updatedAt", v.Conv.UpdatedAt, mustTime(t, "2026-01-02T03:00:00Z"))
			eq(t, "has endedAt", v.Conv.HasEndedAt, false)
		}},
		{"null optional conversation fields are absent", line(conversation(), "businessKey", nil, "satisfaction", nil, "flows", nil, "tags", nil, "endedAt", nil), KindConversation, func(t *testing.T, v *Validator) {
			c := &v.Conv
			eq(t, "businessKey valid", c.BusinessKey.Valid, false)
			eq(t, "has satisfaction", c.HasSatisfaction, false)
			eq(t, "flows", len(c.Flows), 0)
			eq(t, "tags", len(c.Tags), 0)
		}},
		{"channel", line(channel()), KindChannel, func(t *testing.T, v *Validator) {
			c := &v.Chan
			eq(t, "uuid", string(c.UUID[:]), tChan)
			eq(t, "name", string(c.Name), "Site")
			eq(t, "description", string(c.Description.S), "Chat do site")
			eq(t, "type id", c.TypeID, int32(3))
			eq(t, "type name", string(c.TypeName), "WEB")
			eq(t, "type image", string(c.TypeImage), "web.png")
			eq(t, "class id", c.ClassID, int32(1))
			eq(t, "class name", string(c.ClassName), "Digital")
		}},
		{"channel image empty", line(channel(), "channelType.image", "", "description", nil), KindChannel, func(t *testing.T, v *Validator) {
			eq(t, "type image", string(v.Chan.TypeImage), "")
			eq(t, "description valid", v.Chan.Description.Valid, false)
		}},
		{"channel unknown fields in channelType ignored", line(channel(), "channelType.extra", true, "channelType.channelClassification.x", []any{}), KindChannel, nil},
	}
	var v Validator
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind, err := v.Parse([]byte(tc.line))
			if err != nil {
				t.Fatalf("rejected: %v\nline: %s", err, tc.line)
			}
			if kind != tc.kind {
				t.Fatalf("kind = %d, want %d", kind, tc.kind)
			}
			if tc.check != nil {
				tc.check(t, &v)
			}
		})
	}
}

// TestValidatorReuse: one Validator parses many lines; nothing of a line leaks into the next.
func TestValidatorReuse(t *testing.T) {
	var v Validator
	parse := func(l string) {
		t.Helper()
		if _, err := v.Parse([]byte(l)); err != nil {
			t.Fatalf("rejected: %v\nline: %s", err, l)
		}
	}
	parse(line(botMessage(), "buttons", []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}, "tags", []any{"x"}))
	parse(line(botMessage(), "buttons", del, "replyTo", del, "answerName", del, "flow", del))
	if len(v.Msg.Buttons) != 0 || v.Msg.ReplyTo.Valid || v.Msg.AnswerName.Valid || v.Msg.Flow.Valid || len(v.Msg.Tags) != 0 {
		t.Errorf("bot fields leaked from the previous line: %+v", v.Msg)
	}
	parse(line(userMessage()))
	if _, err := v.Parse([]byte(line(userMessage(), "confidence", 7))); err == nil {
		t.Fatal("confidence 7 accepted")
	}
	parse(line(userMessage(), "intent", del, "confidence", del, "minimumConfidenceAchieved", del, "entities", del, "nlpResponses", del))
	m := &v.Msg
	if m.Intent.Valid || m.HasConfidence || m.MinConfAchieved || len(m.Entities) != 0 || len(m.NLPResponses) != 0 {
		t.Errorf("user fields leaked from the previous line: %+v", *m)
	}
	parse(line(conversation()))
	parse(line(conversation(), "satisfaction", del, "endedAt", del, "updatedAt", del, "businessKey", del, "flows", del, "tags", del))
	c := &v.Conv
	if c.HasSatisfaction || c.HasEndedAt || c.BusinessKey.Valid || len(c.Flows) != 0 || len(c.Tags) != 0 || c.UpdatedAt != c.StartedAt {
		t.Errorf("conversation fields leaked from the previous line: %+v", *c)
	}
	parse(line(channel()))
	parse(line(channel(), "description", del))
	if v.Chan.Description.Valid {
		t.Error("channel description leaked from the previous line")
	}
}

// TestEscapesDecodeAsEncodingJSON: a string's escapes decode as encoding/json decodes
// them; a lone UTF-16 surrogate is U+FFFD and the escape after it is kept (the parser
// alone kept "\ud800" as six characters, or dropped the "\u0041" after it).
func TestEscapesDecodeAsEncodingJSON(t *testing.T) {
	for _, esc := range []string{
		`a\ud800b`, `a\ud800\u0041b`, `\udc00`, `\ud800`, `x\ud800\ud800\udc00y`, `\uD83D\uDE00`,
		`\\ud800`, `\\\ud800`, `\"\ud800\"`, `\udbff\udfff\udfff`, `\u00e9\n\t\/`, `\ud800\n`,
	} {
		l := strings.Replace(line(userMessage(), "content", "@"), "@", esc, 1)
		var want string
		if err := json.Unmarshal([]byte(`"`+esc+`"`), &want); err != nil {
			t.Fatal(err)
		}
		var v Validator
		if _, err := v.Parse([]byte(l)); err != nil {
			t.Fatalf("%s: %v", esc, err)
		}
		if got := string(v.Msg.Content); got != want {
			t.Errorf("%s: content %q, want %q", esc, got, want)
		}
	}
}

func FuzzValidator(f *testing.F) {
	for _, l := range []string{
		line(userMessage()), line(botMessage()), line(conversation()), line(channel()),
		line(userMessage(), "createdAt", "2026-01-02t03:04:05.123456789+05:45", "confidence", raw("1e-3")),
		line(botMessage(), "content", "", "confidence", "x"),
		line(conversation(), "updatedAt", nil, "satisfaction", nil),
		`{"kind":"message"}`, `[]`, `null`, `"x"`, `{`, "",
		strings.Replace(line(userMessage(), "content", "@"), "@", `a\ud800\u0041\\ud800\udbff\udfff\udc00`, 1),
	} {
		f.Add([]byte(l))
	}
	for _, tc := range badLineCases() {
		f.Add([]byte(tc.line))
	}
	// A few real lines of the examples.
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "examples", "landing", "001-catalog.ndjson")); err == nil {
		for i, l := range bytes.Split(b, []byte("\n")) {
			if i < 40 {
				f.Add(l)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Validator
		kind, err := v.Parse(data)
		if (err == nil) == (kind == KindNone) {
			t.Fatalf("kind %d with error %v", kind, err)
		}
		if err != nil {
			r := err.Error()
			if i := strings.Index(r, ": "); i <= 0 || i+2 >= len(r) {
				t.Fatalf("reason %q is not \"field: why\"", r)
			}
			return
		}
		// An accepted line is a JSON object (by another parser too, within its 10,000
		// levels of nesting) with that kind.
		if mayNestDeeper(data, 10_000) {
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatalf("accepted, but encoding/json says %v", err)
		}
		var tenant *Tenant
		switch kind {
		case KindMessage:
			m := &v.Msg
			tenant = &m.Tenant
			// Escapes decode as encoding/json decodes them (lone surrogates too).
			var content string
			if err := json.Unmarshal(obj["content"], &content); err != nil || content != string(m.Content) {
				t.Fatalf("content %q, encoding/json %q (%v)", m.Content, content, err)
			}
			if len(m.MessageID) == 0 || len(m.SessionCode) == 0 || len(m.UserID) == 0 || len(m.Type) == 0 {
				t.Fatalf("empty required field: %+v", m)
			}
			if d := string(m.Direction); d != "USER" && d != "BOT" {
				t.Fatalf("direction %q", d)
			}
			if !messageTypes[string(m.Type)] {
				t.Fatalf("type %q", m.Type)
			}
			checkUUID(t, "channelUuid", m.ChannelUUID)
			if m.HasConfidence && !(m.Confidence >= 0 && m.Confidence <= 1) {
				t.Fatalf("confidence %v", m.Confidence)
			}
			if m.IsUser() {
				if m.ReplyTo.Valid || m.AnswerName.Valid || len(m.Buttons) > 0 {
					t.Fatalf("user message with bot fields: %+v", m)
				}
				for _, r := range m.NLPResponses {
					if s := string(r.ResponseType); s != "INTENT" && s != "DOCUMENT" && s != "FALLBACK" || len(r.ResponseName) == 0 {
						t.Fatalf("nlpResponse %+v", r)
					}
				}
			} else if m.Intent.Valid || m.HasConfidence || m.MinConfAchieved || len(m.Entities) > 0 || len(m.NLPResponses) > 0 {
				t.Fatalf("bot message with user fields: %+v", m)
			} else {
				for _, b := range m.Buttons {
					if len(b.Name) == 0 {
						t.Fatalf("button without name: %+v", b)
					}
				}
			}
		case KindConversation:
			c := &v.Conv
			tenant = &c.Tenant
			if len(c.SessionCode) == 0 || len(c.UserID) == 0 {
				t.Fatalf("empty required field: %+v", c)
			}
			checkUUID(t, "channelUuid", c.ChannelUUID)
			if c.HasSatisfaction && (c.Satisfaction < 1 || c.Satisfaction > 5) {
				t.Fatalf("satisfaction %d", c.Satisfaction)
			}
			if _, ok := obj["updatedAt"]; !ok && c.UpdatedAt != c.StartedAt && !(c.HasEndedAt && c.UpdatedAt == c.EndedAt) {
				t.Fatalf("updatedAt %d is neither endedAt nor startedAt", c.UpdatedAt)
			}
		case KindChannel:
			c := &v.Chan
			tenant = &c.Tenant
			if len(c.Name) == 0 || len(c.TypeName) == 0 || len(c.ClassName) == 0 {
				t.Fatalf("empty required field: %+v", c)
			}
			checkUUID(t, "uuid", c.UUID)
		default:
			t.Fatalf("unknown kind %d", kind)
		}
		// Every string is valid UTF-8 (DuckDB refuses anything else, failing the whole
		// extract) and every instant has a UTC day from 0001-01-01 to 9999-12-31.
		var texts [][]byte
		var times []instant.Micros
		switch kind {
		case KindMessage:
			m := &v.Msg
			texts = append(texts, m.MessageID, m.SessionCode, m.UserID, m.Content, m.Intent.S, m.ReplyTo.S, m.AnswerName.S, m.Flow.S)
			texts = append(append(texts, m.Entities...), m.Tags...)
			for _, r := range m.NLPResponses {
				texts = append(texts, r.ResponseName)
			}
			for _, b := range m.Buttons {
				texts = append(texts, b.Name, b.Value.S, b.Action.S)
			}
			times = append(times, m.CreatedAt)
		case KindConversation:
			c := &v.Conv
			texts = append(texts, c.SessionCode, c.UserID, c.BusinessKey.S)
			texts = append(append(texts, c.Flows...), c.Tags...)
			times = append(times, c.StartedAt, c.UpdatedAt)
			if c.HasEndedAt {
				times = append(times, c.EndedAt)
			}
		case KindChannel:
			c := &v.Chan
			texts = append(texts, c.Name, c.Description.S, c.TypeName, c.TypeImage, c.ClassName)
		}
		for _, s := range texts {
			if !utf8.Valid(s) {
				t.Fatalf("accepted a string that is not UTF-8: %q", s)
			}
		}
		for _, us := range times {
			if y := instant.Time(us).Year(); y < 1 || y > 9999 {
				t.Fatalf("accepted an instant of year %d", y)
			}
		}
		checkUUID(t, "orgUuid", tenant.Org)
		checkUUID(t, "envUuid", tenant.Env)
		checkUUID(t, "botUuid", tenant.Bot)
		// Parsing is a function of the line: a second parse agrees.
		var v2 Validator
		if k2, err2 := v2.Parse(data); k2 != kind || err2 != nil {
			t.Fatalf("second parse: kind %d, %v", k2, err2)
		}
	})
}

// checkUUID: a stored UUID is the canonical lower-case 8-4-4-4-12 form.
func checkUUID(t *testing.T, field string, u [36]byte) {
	t.Helper()
	for i, c := range u {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				t.Fatalf("%s %q: byte %d is not '-'", field, u[:], i)
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				t.Fatalf("%s %q: byte %d is not lower-case hex", field, u[:], i)
			}
		}
	}
}

// TestDeepReasons: a line too deep for the parser is quarantined for what it is, and an
// ignored field nested however deep is ignored ("" means the line is accepted).
func TestDeepReasons(t *testing.T) {
	var v Validator
	withExtra := func(extra string) string {
		return strings.TrimSuffix(line(userMessage()), "}") + `,"extra":` + extra + "}"
	}
	for _, c := range []struct{ line, reason string }{
		{" " + deepJSON(400), "line: not a JSON object (an array)"},
		{line(userMessage(), "tags", raw(deepJSON(400))), "tags: element 0 must be a string, got array"},
		{`["x"]`, "line: not a JSON object (an array)"},
		// Deeper than any stack should go: checked without recursion.
		{deepJSON(3_000_000), "line: not a JSON object (an array)"},
		{withExtra(deepJSON(10_001)), ""},
		{withExtra(deepJSON(1_000_000)), ""},
		{withExtra(strings.Repeat(`{"a":[`, 200_000) + "1" + strings.Repeat("]}", 200_000)), ""},
		{withExtra(strings.Repeat(`{"a":[`, 200_000) + "1" + strings.Repeat("]}", 199_999) + "]]"), "line: not valid JSON: invalid character ']'"},
		{strings.TrimSuffix(line(userMessage(), "extra", raw(deepJSON(400))), "}"), "line: not valid JSON: unexpected end of JSON input"},
		{withExtra(strings.Repeat("[", 400) + "01" + strings.Repeat("]", 400)), "line: not valid JSON: invalid character '1'"},
		{`"x"`, "line: not a JSON object (a string)"},
	} {
		_, err := v.Parse([]byte(c.line))
		if c.reason == "" && err != nil || c.reason != "" && (err == nil || !strings.HasPrefix(err.Error(), c.reason)) {
			t.Errorf("%.40s: %v, want %q", c.line, err, c.reason)
		}
	}
}

// FuzzValidDeep: the validator of deep lines agrees with encoding/json on every valid
// UTF-8 input (within encoding/json's 10,000 levels).
func FuzzValidDeep(f *testing.F) {
	for _, l := range []string{line(userMessage()), line(channel()), deepJSON(20), `{"a":"[{\"","b":[{"c":"\\"}]}`,
		` [ "]" , { "k" : "\\\"[" } ] `, `"[["`, `[]`, `7`, `-0.5e+3`, `01`, `1.`, `[1,]`, `{"a":1,}`, `{"a"}`, `"\u12"`,
		"\"\x01\"", `[true,false,null]`, `nul`, `{} {}`, ` `, `[[[]],{}]`, `{"a":{"b":[{}]}}`} {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) || mayNestDeeper(data, 10_000) {
			return // encoding/json refuses past 10,000 levels
		}
		if got, want := validDeep(data) == nil, json.Valid(data); got != want {
			t.Fatalf("%q: validDeep %v, encoding/json %v (%v)", data, got, want, validDeep(data))
		}
	})
}

// FuzzPruneDeep: cutting valid JSON at any depth leaves valid JSON, and a cut deeper than
// the input changes nothing.
func FuzzPruneDeep(f *testing.F) {
	for _, l := range []string{line(userMessage()), line(channel()), deepJSON(20), `{"a":"[{\"","b":[{"c":"\\"}]}`, ` [ "]" , { "k" : "\\\"[" } ] `, `"[["`, `[]`, `7`} {
		if !json.Valid([]byte(l)) {
			f.Fatalf("seed %s is not JSON: it would never run", l)
		}
		f.Add([]byte(l), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		if !json.Valid(data) {
			return
		}
		out := pruneDeep(nil, data, int(cut%8))
		if !json.Valid(out) {
			t.Fatalf("cut at %d: %q is not JSON", cut%8, out)
		}
		if whole := pruneDeep(nil, data, len(data)+1); !bytes.Equal(whole, data) {
			t.Fatalf("a cut deeper than the input changed it: %q", whole)
		}
	})
}

// BenchmarkValidator: validation of the example landing lines (ns per line).
func BenchmarkValidator(b *testing.B) {
	var lines [][]byte
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "examples", "landing", "*.ndjson"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		b.Skip("no example lines")
	}
	var v Validator
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v.Parse(lines[i%len(lines)])
	}
}
