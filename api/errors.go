package api

import (
	"net/http"
	"strconv"
)

// writeError answers with the contract's error shape: status, reason phrase, message
// and the request path without the query.
func writeError(w http.ResponseWriter, r *http.Request, status int, message string) {
	var j jw
	j.raw(`{"status":`)
	j.int(int64(status))
	j.raw(`,"error":`)
	j.str(http.StatusText(status))
	j.raw(`,"message":`)
	j.str(message)
	j.raw(`,"path":`)
	j.str(r.URL.Path)
	j.byte('}')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(j.b)))
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	w.Write(j.b)
}

// paramError is a request parameter that is wrong; it becomes a 400.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// notUTF8 is why a text parameter that reaches a query is refused: DuckDB binds only
// valid UTF-8, and no stored value could match it. (Parameters parsed to numbers,
// UUIDs or enums refuse such bytes by their own rules; ignored ones are ignored.)
const notUTF8 = "not valid UTF-8 (after percent-decoding)"

func badParam(name, why string) error { return &paramError{name + ": " + why} }
