package api

import (
	"encoding/json"
	"net/http"
	"strings"
)

// openapiDoc builds an OpenAPI 3.1 document from the route table, so it cannot drift
// from the router (a test walks the router and checks every route is here).
func (s *Server) openapiDoc() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routeTable() {
		op := map[string]any{
			"operationId": rt.name,
			"summary":     rt.summary,
			"responses": map[string]any{
				"200": map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{}}},
				"400": map[string]any{"$ref": "#/components/responses/Error"},
			},
		}
		var params []any
		for _, p := range []string{"orgUUID", "envUUID", "botUUID"} {
			if strings.Contains(rt.path, "{"+p+"}") {
				params = append(params, map[string]any{"name": p, "in": "path", "required": true,
					"schema": map[string]any{"type": "string", "format": "uuid"}})
			}
		}
		if strings.Contains(rt.path, "{reportId}") {
			params = append(params, map[string]any{"name": "reportId", "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}})
		}
		for _, q := range queryParams(rt.name) {
			params = append(params, q)
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		responses := op["responses"].(map[string]any)
		switch rt.name {
		case "conversationsRequestReport", "messagesRequestReport", "conversationDetailsRequestReport":
			if rt.name != "conversationDetailsRequestReport" {
				op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": reportBodySchema}}}
			}
			delete(responses, "200")
			responses["202"] = map[string]any{"description": "Accepted: the report is written in the background (no body)"}
		case "conversationsList", "messagesList":
			responses["200"] = map[string]any{"description": "OK: a page of rows", "content": map[string]any{
				"application/json": map[string]any{}, ArrowStream: map[string]any{"description": "the page's rows as an Arrow IPC stream"}}}
		case "reportFile":
			responses["200"] = map[string]any{"description": "The report file", "content": map[string]any{
				"text/csv": map[string]any{}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": map[string]any{},
				"application/vnd.apache.parquet": map[string]any{}}}
		}
		if rt.gate != gateNone {
			responses["401"] = map[string]any{"$ref": "#/components/responses/Error"}
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		if rt.gate != gateNone { // another organization; a demo token on an operator route
			responses["403"] = map[string]any{"$ref": "#/components/responses/Error"}
		}
		if rt.gate == gateTenant {
			responses["404"] = map[string]any{"$ref": "#/components/responses/Error"}
		}
		responses["405"] = map[string]any{"$ref": "#/components/responses/Error"}
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	if s.cfg.Metrics != nil && !s.cfg.MetricsElsewhere {
		paths["/metrics"] = map[string]any{"get": map[string]any{"operationId": "metrics", "summary": "Prometheus metrics (text exposition format)",
			"security":  []any{map[string]any{"bearer": []any{}}},
			"responses": map[string]any{"200": map[string]any{"description": "OK", "content": map[string]any{"text/plain": map[string]any{}}}}}}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Dashboard analytics API", "version": "1.0.0"},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses": map[string]any{"Error": map[string]any{"description": "Error",
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object", "properties": map[string]any{
						"status": map[string]any{"type": "integer"}, "error": map[string]any{"type": "string"},
						"message": map[string]any{"type": "string"}, "path": map[string]any{"type": "string"}}}}}}},
		},
	}
}

func qp(name, typ, desc string, required bool) map[string]any {
	return map[string]any{"name": name, "in": "query", "required": required, "description": desc,
		"schema": map[string]any{"type": typ}}
}

var rangeParams = []any{
	qp("startDate", "string", "yyyy-MM-dd or an RFC 3339 instant; the range starts at its hour", true),
	qp("endDate", "string", "yyyy-MM-dd (= 23:59:59.999Z) or an RFC 3339 instant; the range ends after its hour", true),
	qp("startHour", "integer", "0..23, default 0", false),
	qp("endHour", "integer", "0..23, default 23; a window wraps midnight when startHour > endHour", false),
	qp("channelUuids", "string", "comma-separated channel UUIDs; empty = all", false),
}

func queryParams(route string) []any {
	switch route {
	case "dashboardConversations", "dashboardMessages", "dashboardUsers", "dashboardAccuracy", "stackingIntents", "stackingFlows":
		return rangeParams
	}
	return extraQueryParams(route)
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	b, _ := json.MarshalIndent(s.openapiDoc(), "", "  ")
	writeJSON(w, http.StatusOK, b)
}

var reportBodySchema = map[string]any{"type": "object", "required": []any{"startDate", "endDate", "reportType"},
	"properties": map[string]any{
		"startDate": map[string]any{"type": "string"}, "endDate": map[string]any{"type": "string"},
		"startHour": map[string]any{"type": "integer"}, "endHour": map[string]any{"type": "integer"},
		"channelUuids": map[string]any{"type": "string"}, "sampleSize": map[string]any{"type": "integer"},
		"reportType": map[string]any{"type": "string"}, "filterField": map[string]any{"type": "string"},
		"filterTerm": map[string]any{"type": "string"}, "exportType": map[string]any{"type": "string", "enum": []any{"csv", "xlsx", "parquet"}},
	}}
