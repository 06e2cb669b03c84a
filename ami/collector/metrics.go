package collector

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are per server (label "server", the server id).
type metrics struct {
	received    *prometheus.CounterVec
	journaled   *prometheus.CounterVec
	overflows   *prometheus.GaugeVec
	calls       *prometheus.CounterVec
	lag         *prometheus.GaugeVec
	inFlight    *prometheus.GaugeVec
	sinkDropped *prometheus.CounterVec
	batchTime   *prometheus.HistogramVec
	active      *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	l := []string{"server"}
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkage_collector_events_received_total",
			Help: "AMI events the collector took from the connection (markers included)."}, l),
		journaled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkage_collector_events_journaled_total",
			Help: "Events committed to the journal."}, l),
		overflows: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "linkage_collector_overflows",
			Help: "Events the connection dropped because the collector fell behind (since the connection started)."}, l),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkage_collector_calls_written_total",
			Help: "New calls committed."}, l),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "linkage_collector_lag_seconds",
			Help: "Now minus the Asterisk timestamp of the last event processed (0 without timestamps)."}, l),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "linkage_collector_calls_in_flight",
			Help: "Calls being assembled."}, l),
		sinkDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkage_collector_sink_dropped_total",
			Help: "Live outputs dropped because the sink was slow."}, l),
		batchTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "linkage_collector_batch_seconds",
			Help: "Time to commit one journal/calls batch.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, l),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "linkage_collector_active",
			Help: "1 when this process holds the server's lock and ingests it, 0 on standby."}, l),
	}
	if reg != nil {
		// A second collector on one registry (tests) shares the registered vectors.
		reuse := func(c prometheus.Collector) prometheus.Collector {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if errors.As(err, &are) {
					return are.ExistingCollector
				}
				panic(err) // a programming error: two different metrics with one name
			}
			return c
		}
		m.received = reuse(m.received).(*prometheus.CounterVec)
		m.journaled = reuse(m.journaled).(*prometheus.CounterVec)
		m.overflows = reuse(m.overflows).(*prometheus.GaugeVec)
		m.calls = reuse(m.calls).(*prometheus.CounterVec)
		m.lag = reuse(m.lag).(*prometheus.GaugeVec)
		m.inFlight = reuse(m.inFlight).(*prometheus.GaugeVec)
		m.sinkDropped = reuse(m.sinkDropped).(*prometheus.CounterVec)
		m.batchTime = reuse(m.batchTime).(*prometheus.HistogramVec)
		m.active = reuse(m.active).(*prometheus.GaugeVec)
	}
	return m
}
