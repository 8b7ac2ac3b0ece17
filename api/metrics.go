package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the service's Prometheus metrics: requests and latency per route here,
// jobs and sizes registered by the process that runs them.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// JobDuration and JobRuns are observed by the job runner; Rows counts records processed.
	JobDuration *prometheus.HistogramVec
	JobRuns     *prometheus.CounterVec
	Rows        *prometheus.CounterVec
	// ReportDuration: a report's run, from its worker taking it to DONE or FAILED.
	ReportDuration *prometheus.HistogramVec
}

// NewMetrics registers the metrics in a new registry (with the Go runtime's).
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dashboard_http_requests_total",
			Help: "API requests by route and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dashboard_http_request_duration_seconds",
			Help: "API request latency by route.", Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 10}},
			[]string{"route"}),
		JobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dashboard_job_duration_seconds",
			Help: "Job run durations by job and outcome.", Buckets: prometheus.ExponentialBuckets(0.05, 2.5, 12)}, []string{"job", "status"}),
		JobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dashboard_job_runs_total",
			Help: "Job runs by job and outcome (DONE, FAILED)."}, []string{"job", "status"}),
		Rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dashboard_rows_total",
			Help: "Records processed by jobs: read, loaded, duplicates, quarantined."}, []string{"kind"}),
		ReportDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dashboard_report_duration_seconds",
			Help: "Report runs by kind, export type and outcome (DONE, FAILED).", Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)},
			[]string{"kind", "export", "status"}),
	}
	reg.MustRegister(m.requests, m.latency, m.JobDuration, m.JobRuns, m.Rows, m.ReportDuration,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// DirSize registers a gauge of a directory's size, read at most once a minute.
func (m *Metrics) DirSize(name, help string, size func() int64) {
	var last time.Time
	var cached float64
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		if time.Since(last) > time.Minute {
			cached, last = float64(size()), time.Now()
		}
		return cached
	}))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// instrument counts and times requests by route name.
func (m *Metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := "unmatched"
		if rt := mux.CurrentRoute(r); rt != nil {
			route = rt.GetName()
		}
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
