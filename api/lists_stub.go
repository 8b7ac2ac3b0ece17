package api

// extraQueryParams documents the query parameters of routes beyond the analytics ones.
func extraQueryParams(route string) []any { return nil }
