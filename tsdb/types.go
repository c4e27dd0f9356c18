package tsdb

// Label is one name=value pair of a series. The metric name is not a label here: it lives in
// Sample.Name (and is exposed to selectors as __name__).
type Label struct {
	Name  string
	Value string
}

// Sample is one value of one series at one instant.
type Sample struct {
	Name      string  // metric name, e.g. "host_cpu_usage_percent"
	Labels    []Label // any order; labels with empty values are dropped
	Timestamp int64   // unix milliseconds
	Value     float64
}
