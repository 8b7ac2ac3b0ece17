package api

import (
	"net/http"
	"strconv"
)

func (s *Server) adminRoutes() []route {
	return []route{
		{"GET", "/admin/jobs", "adminJobs", "Job run records, newest first (?job=&limit=); any configured token", s.adminJobs, gateOperator, false},
	}
}

// operatorGate needs a valid configured token (any organization) unless auth is off; a
// demo token beside configured ones opens its organizations only (403 here).
func (s *Server) operatorGate(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.NoAuth {
			g, ok := s.tokenGrant(r)
			if !ok {
				writeError(w, r, http.StatusUnauthorized, "Authorization: a valid bearer token is required")
				return
			}
			if !g.operator {
				writeError(w, r, http.StatusForbidden, "Authorization: the demo token opens the demo organizations only")
				return
			}
		}
		next(w, r)
	}
}

func (s *Server) adminJobs(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, r, http.StatusBadRequest, "limit: must be an integer from 1 to 1000, got "+strconv.Quote(v))
			return
		}
		limit = n
	}
	runs, err := s.wh.Runs(r.Context(), r.URL.Query().Get("job"), limit)
	if err != nil {
		s.log.Error("list runs", "err", err)
		writeError(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	var j jw
	j.raw(`{"runs":[`)
	for i, run := range runs {
		if i > 0 {
			j.byte(',')
		}
		j.raw(`{"id":`)
		j.int(run.ID)
		j.raw(`,"job":`)
		j.str(run.Job)
		j.raw(`,"trigger":`)
		j.str(run.Trigger)
		j.raw(`,"started":`)
		j.time(run.Started.UnixMicro())
		j.raw(`,"finished":`)
		if run.Finished != nil {
			j.time(run.Finished.UnixMicro())
		} else {
			j.null()
		}
		j.raw(`,"status":`)
		j.str(run.Status)
		j.raw(`,"rowsIn":`)
		j.int(run.RowsIn)
		j.raw(`,"loaded":`)
		j.int(run.Loaded)
		j.raw(`,"duplicates":`)
		j.int(run.Duplicates)
		j.raw(`,"superseded":`)
		j.int(run.Superseded)
		j.raw(`,"quarantined":`)
		j.int(run.Quarantined)
		j.raw(`,"detail":`)
		j.str(run.Detail)
		j.raw(`,"error":`)
		if run.Error != "" {
			j.str(run.Error)
		} else {
			j.null()
		}
		j.byte('}')
	}
	j.raw(`]}`)
	writeJSON(w, http.StatusOK, j.b)
}
