package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// ArrowStream is the media type of an Arrow IPC stream.
const ArrowStream = "application/vnd.apache.arrow.stream"

// arrowPageCap is the page-size cap of Arrow answers (notebooks page in bulk).
const arrowPageCap = 100000

func wantsArrow(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), ArrowStream)
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
