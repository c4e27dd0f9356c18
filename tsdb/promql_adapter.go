package tsdb

import (
	"errors"
	"fmt"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/querytracer"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage/metricnamestats"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage/metricsmetadata"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/vmselectapi"
)

// vmSelect is VictoriaMetrics' vmselectapi.API over the raw storage of one DB: what the query
// engine (app/vmselect/netstorage) reads through vmstorage.VMSelectAPI, vmstorage.GetSearch and
// vmstorage.PutSearch instead of the storage vmstorage.Init would open. Its callers hold db.mu
// shared and the engine (engine.acquire) for db, so db.s stays open while they read. It only
// reads: deleting series, registering names and resetting statistics are refused.
type vmSelect struct{ db *DB }

var _ vmselectapi.API = vmSelect{}

// errNotServed is returned by the parts of vmselectapi.API redwatch does not serve.
var errNotServed = errors.New("tsdb: not served by redwatch's query engine")

// maxMetrics bounds the series of one search: the query's own bound, at most
// Options.MaxSeriesPerQuery.
func (a vmSelect) maxMetrics(sq *storage.SearchQuery) int {
	limit := a.db.opts.MaxSeriesPerQuery
	if sq.MaxMetrics > 0 && sq.MaxMetrics < limit {
		return sq.MaxMetrics
	}
	return limit
}

// tagFilters turns the query's filters into storage's.
func tagFilters(sq *storage.SearchQuery) ([]*storage.TagFilters, error) {
	tfss := make([]*storage.TagFilters, 0, len(sq.TagFilterss))
	for _, filters := range sq.TagFilterss {
		tfs := storage.NewTagFilters()
		for i := range filters {
			tf := &filters[i]
			if string(tf.Key) == "__graphite__" {
				return nil, fmt.Errorf("__graphite__ filters are not supported")
			}
			if err := tfs.Add(tf.Key, tf.Value, tf.IsNegative, tf.IsRegexp); err != nil {
				return nil, fmt.Errorf("cannot parse tag filter %s: %w", tf, err)
			}
		}
		tfss = append(tfss, tfs)
	}
	return tfss, nil
}

// getSearch is vmstorage.GetSearch: a search over db.s the caller returns with putSearch.
func (a vmSelect) getSearch(qt *querytracer.Tracer, sq *storage.SearchQuery, deadline uint64) (*storage.Search, int, error) {
	tfss, err := tagFilters(sq)
	if err != nil {
		return nil, 0, err
	}
	sr := &storage.Search{}
	n := sr.Init(qt, a.db.s, tfss, sq.GetTimeRange(), a.maxMetrics(sq), deadline)
	return sr, n, nil
}

// putSearch is vmstorage.PutSearch.
func putSearch(sr *storage.Search) { sr.MustClose() }

// InitSearch serves vmselect cluster nodes, which redwatch is not.
func (a vmSelect) InitSearch(*querytracer.Tracer, *storage.SearchQuery, uint64) (vmselectapi.BlockIterator, error) {
	return nil, errNotServed
}

func (a vmSelect) SearchMetricNames(qt *querytracer.Tracer, sq *storage.SearchQuery, deadline uint64) ([]string, error) {
	tfss, err := tagFilters(sq)
	if err != nil {
		return nil, err
	}
	if len(tfss) == 0 {
		return nil, errors.New("missing tag filters")
	}
	return a.db.s.SearchMetricNames(qt, tfss, sq.GetTimeRange(), a.maxMetrics(sq), deadline)
}

// labelsAPIMaxMetrics is how many series the labels APIs may scan when they have match[]
// filters: VictoriaMetrics' -search.maxLabelsAPISeries default; the label APIs only read the
// index.
const labelsAPIMaxMetrics = 1_000_000

func labelsMaxMetrics(sq *storage.SearchQuery) int {
	if sq.MaxMetrics > 0 && sq.MaxMetrics < labelsAPIMaxMetrics {
		return sq.MaxMetrics
	}
	return labelsAPIMaxMetrics
}

// maxLabelValues bounds the names or values one labels API call returns, as VictoriaMetrics'
// -search.maxTagKeys and -search.maxTagValues defaults.
const maxLabelValues = 100_000

func (a vmSelect) LabelValues(qt *querytracer.Tracer, sq *storage.SearchQuery, labelName string, limit int, deadline uint64) ([]string, error) {
	tfss, err := tagFilters(sq)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxLabelValues {
		limit = maxLabelValues
	}
	return a.db.s.SearchLabelValues(qt, labelName, tfss, sq.GetTimeRange(), limit, labelsMaxMetrics(sq), deadline)
}

func (a vmSelect) LabelNames(qt *querytracer.Tracer, sq *storage.SearchQuery, limit int, deadline uint64) ([]string, error) {
	tfss, err := tagFilters(sq)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxLabelValues {
		limit = maxLabelValues
	}
	return a.db.s.SearchLabelNames(qt, tfss, sq.GetTimeRange(), limit, labelsMaxMetrics(sq), deadline)
}

func (a vmSelect) TagValueSuffixes(qt *querytracer.Tracer, _, _ uint32, tr storage.TimeRange, tagKey, tagValuePrefix string, delimiter byte, maxSuffixes int, deadline uint64) ([]string, error) {
	if maxSuffixes <= 0 || maxSuffixes > maxLabelValues {
		maxSuffixes = maxLabelValues
	}
	return a.db.s.SearchTagValueSuffixes(qt, tr, tagKey, tagValuePrefix, delimiter, maxSuffixes, deadline)
}

func (a vmSelect) SeriesCount(_ *querytracer.Tracer, _, _ uint32, deadline uint64) (uint64, error) {
	return a.db.s.GetSeriesCount(deadline)
}

func (a vmSelect) TSDBStatus(qt *querytracer.Tracer, sq *storage.SearchQuery, focusLabel string, topN int, deadline uint64) (*storage.TSDBStatus, error) {
	tfss, err := tagFilters(sq)
	if err != nil {
		return nil, err
	}
	date := uint64(sq.MinTimestamp) / (24 * 3600 * 1000)
	return a.db.s.GetTSDBStatus(qt, tfss, date, focusLabel, topN, a.maxMetrics(sq), deadline)
}

func (a vmSelect) DeleteSeries(*querytracer.Tracer, *storage.SearchQuery, uint64) (int, error) {
	return 0, errNotServed
}

func (a vmSelect) RegisterMetricNames(*querytracer.Tracer, []storage.MetricRow, uint64) error {
	return errNotServed
}

func (a vmSelect) Tenants(*querytracer.Tracer, storage.TimeRange, uint64) ([]string, error) {
	return nil, nil
}

func (a vmSelect) GetMetricNamesUsageStats(qt *querytracer.Tracer, _ *storage.TenantToken, limit, le int, matchPattern string, _ uint64) (metricnamestats.StatsResult, error) {
	return a.db.s.GetMetricNamesStats(qt, limit, le, matchPattern), nil
}

func (a vmSelect) ResetMetricNamesUsageStats(*querytracer.Tracer, uint64) error {
	return errNotServed
}

// GetMetadataRecords returns none: redwatch keeps HELP and TYPE itself (the web layer's
// /api/v1/metadata), not in storage.
func (a vmSelect) GetMetadataRecords(*querytracer.Tracer, *storage.TenantToken, int, string, uint64) ([]*metricsmetadata.Row, error) {
	return nil, nil
}
