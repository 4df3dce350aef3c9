package app

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
)

// httpMetrics counts requests and their durations by route pattern.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coop_http_requests_total", Help: "HTTP requests answered, by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "coop_http_request_duration_seconds", Help: "Time to answer HTTP requests, by method and route.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *httpMetrics) observe(method, route string, status int, took time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(took.Seconds())
}

// passCollector reports the latest matcher pass, whichever process ran it, read from the
// database when /metrics is scraped: one small query.
type passCollector struct {
	matches *domain.Matches
	log     *slog.Logger
}

var (
	passStartedDesc = prometheus.NewDesc("coop_match_last_pass_started_seconds",
		"When the latest matcher pass started, in seconds since 1970.", nil, nil)
	passDurationDesc = prometheus.NewDesc("coop_match_last_pass_duration_seconds",
		"How long the latest matcher pass took.", nil, nil)
	passProposedDesc = prometheus.NewDesc("coop_match_last_pass_proposed",
		"Proposals the latest matcher pass made.", nil, nil)
	passExpiredDesc = prometheus.NewDesc("coop_match_last_pass_expired",
		"Requests the latest matcher pass expired, their start passed unmet.", nil, nil)
	passUnmatchedDesc = prometheus.NewDesc("coop_match_last_pass_unmatched",
		"Requests the latest matcher pass left unmatched, by reason.", []string{"reason"}, nil)
)

func (passCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{passStartedDesc, passDurationDesc, passProposedDesc, passExpiredDesc, passUnmatchedDesc} {
		ch <- d
	}
}

func (p passCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pass, err := p.matches.LatestPass(ctx)
	if err != nil {
		if !errors.Is(err, domain.ErrNotFound) {
			p.log.Warn("metrics: unable to read the latest matcher pass", "err", err)
		}
		return
	}
	ch <- prometheus.MustNewConstMetric(passStartedDesc, prometheus.GaugeValue, float64(pass.StartedAt.UnixMilli())/1000)
	ch <- prometheus.MustNewConstMetric(passDurationDesc, prometheus.GaugeValue, pass.Duration.Seconds())
	ch <- prometheus.MustNewConstMetric(passProposedDesc, prometheus.GaugeValue, float64(pass.Proposed))
	ch <- prometheus.MustNewConstMetric(passExpiredDesc, prometheus.GaugeValue, float64(pass.Expired))
	for _, code := range matching.Codes {
		ch <- prometheus.MustNewConstMetric(passUnmatchedDesc, prometheus.GaugeValue, float64(pass.UnmatchedReasons[string(code)]), string(code))
	}
}
