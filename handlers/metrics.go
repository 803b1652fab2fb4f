package handlers

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers/live"
)

// metrics are the server's Prometheus metrics, on a registry of its own (no globals).
type metrics struct {
	reg           *prometheus.Registry
	heartbeats    *prometheus.CounterVec
	registrations prometheus.Counter
	commands      *prometheus.CounterVec
	results       *prometheus.CounterVec
}

// fleetCollector reads the fleet's counts once per scrape.
type fleetCollector struct {
	fleet                      *fleet.Fleet
	hub                        *events.Hub
	pcs, online, pending, subs *prometheus.Desc
	polls, delivered           *prometheus.Desc
}

func (fc *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{fc.pcs, fc.online, fc.pending, fc.subs, fc.polls, fc.delivered} {
		ch <- d
	}
}

func (fc *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	st := fc.fleet.Stats()
	ch <- prometheus.MustNewConstMetric(fc.pcs, prometheus.GaugeValue, float64(st.PCs))
	ch <- prometheus.MustNewConstMetric(fc.online, prometheus.GaugeValue, float64(st.Online))
	ch <- prometheus.MustNewConstMetric(fc.pending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(fc.subs, prometheus.GaugeValue, float64(fc.hub.Subscribers()))
	ch <- prometheus.MustNewConstMetric(fc.polls, prometheus.CounterValue, float64(st.Polls))
	ch <- prometheus.MustNewConstMetric(fc.delivered, prometheus.CounterValue, float64(st.Delivered))
}

func newMetrics(fl *fleet.Fleet, hub *events.Hub, st *live.Streams) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wcms_heartbeats_total",
			Help: "Heartbeats received, by kind (light or full)."}, []string{"kind"}),
		registrations: prometheus.NewCounter(prometheus.CounterOpts{Name: "wcms_registrations_total",
			Help: "Successful PC registrations."}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wcms_commands_enqueued_total",
			Help: "Commands queued, by type."}, []string{"type"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wcms_command_results_total",
			Help: "Command results recorded, by reported status."}, []string{"status"}),
	}
	deferred := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wcms_stream_events_deferred_total",
		Help: "Live updates held back because a browser was not reading; only the newest per element is kept."},
		func() float64 { return float64(st.Deferred()) })
	m.reg.MustRegister(m.heartbeats, m.registrations, m.commands, m.results, deferred,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&fleetCollector{fleet: fl, hub: hub,
			pcs:       prometheus.NewDesc("wcms_pcs", "Registered PCs.", nil, nil),
			online:    prometheus.NewDesc("wcms_pcs_online", "PCs online.", nil, nil),
			pending:   prometheus.NewDesc("wcms_commands_pending", "Commands queued and not yet delivered.", nil, nil),
			subs:      prometheus.NewDesc("wcms_event_subscribers", "Live event subscribers (dashboard streams).", nil, nil),
			polls:     prometheus.NewDesc("wcms_polls_total", "Agent polls and heartbeats processed.", nil, nil),
			delivered: prometheus.NewDesc("wcms_commands_delivered_total", "Commands handed to agents.", nil, nil),
		})
	return m
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}
