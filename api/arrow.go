package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// ArrowStream is the media type of an Arrow IPC stream.
const ArrowStream = "application/vnd.apache.arrow.stream"

// arrowPageCap is the page-size cap of Arrow answers (notebooks page in bulk).
const arrowPageCap = 100000

func wantsArrow(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if !strings.Contains(accept, ArrowStream) {
		return false
	}
	// Content negotiation: the Arrow stream unless JSON is preferred (a higher q).
	arrowQ, jsonQ := 0.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		typ, params, _ := strings.Cut(part, ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(typ)) {
		case ArrowStream:
			arrowQ = max(arrowQ, q)
		case "application/json":
			jsonQ = max(jsonQ, q)
		}
	}
	return arrowQ > 0 && arrowQ >= jsonQ
}

// listArrow answers a list page as an Arrow IPC stream: the JSON page's rows as typed
// columns (times as timestamps, arrays as lists, channel as channelName/channelType).
func (s *Server) listArrow(w http.ResponseWriter, r *http.Request, kind string, f warehouse.ListFilter) {
	s.heavyQuery(w, r, func(ctx context.Context) error {
		return s.wh.ListArrow(ctx, kind, f, func(rdr warehouse.RecordReader) error {
			w.Header().Set("Content-Type", ArrowStream)
			iw := ipc.NewWriter(w, ipc.WithSchema(rdr.Schema()))
			for rdr.Next() {
				if err := iw.Write(rdr.RecordBatch()); err != nil {
					return err
				}
			}
			if err := rdr.Err(); err != nil {
				return err
			}
			return iw.Close()
		})
	})
}
