package health

// The bodies of the health reports. Each encodes as the JSON document its endpoint answers
// (SPEC "Health"); load balancers, scripts and the end-to-end tests read those bytes, so:
//   - fields are declared in the alphabetical order of their JSON keys (the order the
//     documents have always had);
//   - a field that only some answers hold is a pointer, an omitempty string or bool, or a
//     map with omitzero; a pointer marks a figure that is present even when it is 0 (nil:
//     absent), a string or bool that only some answers set is never "" or false when set.
//
// Times are RFC 3339 strings in UTC; latencies are milliseconds, as the key says.

// Report is one health answer: Code is the HTTP status, Body the JSON document.
type Report[B any] struct {
	Code int
	Body B
}

// LiveBody is /health/: the process runs. The fields marked verbose come with ?verbose.
type LiveBody struct {
	Commit        string `json:"commit,omitempty"`     // verbose
	GoVersion     string `json:"go_version,omitempty"` // verbose
	Service       string `json:"service"`              // always "redwatch"
	StartedAt     string `json:"started_at,omitempty"` // verbose
	Status        string `json:"status"`               // always "ok"
	Timestamp     string `json:"timestamp"`
	UptimeSeconds int64  `json:"uptime_seconds"`
	Version       string `json:"version"`
}

// ReadyBody is /health/ready/: whether redwatch itself can do its job.
type ReadyBody struct {
	Checks    ReadyChecks `json:"checks"`
	Status    string      `json:"status"` // "ready" | "not_ready"
	Timestamp string      `json:"timestamp"`
}

// ReadyChecks are the parts of readiness; each has Status "ok" or, with an Error, another.
type ReadyChecks struct {
	Disk     DiskCheck     `json:"disk"`
	Query    *QueryCheck   `json:"query,omitempty"` // verbose, with storage.remote: never fails readiness
	Samplers SamplersCheck `json:"samplers"`
	Storage  StorageCheck  `json:"storage"`
}

// StorageCheck is whether storage answers and is writable. Status is "ok", "error" (Ping
// failed) or "read_only" (with FreeBytes, MinFreeBytes and Since).
type StorageCheck struct {
	Error        string  `json:"error,omitempty"`
	FreeBytes    *uint64 `json:"free_bytes,omitempty"` // read-only only
	LatencyMs    float64 `json:"latency_ms"`
	MinFreeBytes *uint64 `json:"min_free_bytes,omitempty"` // read-only only
	ReadOnly     bool    `json:"read_only,omitempty"`      // true, or absent
	Since        string  `json:"since,omitempty"`          // read-only only: when it began
	Status       string  `json:"status"`
}

// QueryCheck is whether storage.remote's query engine answered a trivial query: Status "ok"
// or "unavailable" (with Error). It is information: readiness does not depend on it.
type QueryCheck struct {
	Error     string  `json:"error,omitempty"`
	LatencyMs float64 `json:"latency_ms"`
	Status    string  `json:"status"`
	URL       string  `json:"url"` // without credentials
}

// DiskCheck is the data directory's free space. FreeBytes is absent when it could not be read.
type DiskCheck struct {
	Error        string  `json:"error,omitempty"`
	FreeBytes    *uint64 `json:"free_bytes,omitempty"`
	MinFreeBytes *uint64 `json:"min_free_bytes,omitempty"` // verbose, with FreeBytes
	Status       string  `json:"status"`
}

// SamplersCheck is whether every sampler ran recently; Stuck names those that did not
// ("kind:name").
type SamplersCheck struct {
	Detail map[string]SamplerRun `json:"detail,omitzero"` // verbose: by "kind:name", {} without samplers
	Error  string                `json:"error,omitempty"`
	Status string                `json:"status"`
	Stuck  []string              `json:"stuck,omitempty"`
}

// SamplerRun is one sampler in SamplersCheck.Detail.
type SamplerRun struct {
	LastRun string `json:"last_run,omitempty"` // absent before its first attempt
	Running bool   `json:"running"`
}

// DBBody is /health/db/: the embedded storage. The figures from tsdb.Stats (DiskFreeBytes,
// DiskUsedBytes, ReadOnly, Rows, Series, and verbose Path, PendingRows, SamplesWritten,
// RollupsUntil) are absent when the stats could not be read; Error then says why.
type DBBody struct {
	DiskFreeBytes  *uint64 `json:"disk_free_bytes,omitempty"`
	DiskUsedBytes  *int64  `json:"disk_used_bytes,omitempty"`
	Engine         string  `json:"engine"` // always "victoriametrics"
	Error          string  `json:"error,omitempty"`
	LatencyMs      float64 `json:"latency_ms"`
	MinFreeBytes   uint64  `json:"min_free_bytes"`
	Path           *string `json:"path,omitempty"`            // verbose
	PendingRows    *uint64 `json:"pending_rows,omitempty"`    // verbose
	ReadOnly       *bool   `json:"read_only,omitempty"`       // as tsdb.Stats reads it
	ReadOnlySince  string  `json:"read_only_since,omitempty"` // while Status is "read_only"
	RollupsUntil   string  `json:"rollups_until,omitempty"`   // verbose, after the first rollup
	Rows           *uint64 `json:"rows,omitempty"`
	SamplesWritten *uint64 `json:"samples_written,omitempty"` // verbose
	Series         *uint64 `json:"series,omitempty"`
	Status         string  `json:"status"` // "ok" | "read_only" | "error"
	Timestamp      string  `json:"timestamp"`
	Version        string  `json:"version"` // tsdb.Engine
}

// TargetsBody is /health/targets/: every watched target, and the forwarder when configured.
type TargetsBody struct {
	Down        int                `json:"down"`
	RemoteWrite *RemoteWriteStatus `json:"remote_write,omitempty"`
	Status      string             `json:"status"`  // "ok" | "degraded"
	Targets     []TargetStatus     `json:"targets"` // never null
	Timestamp   string             `json:"timestamp"`
	Total       int                `json:"total"`
}

// TargetStatus is one target, in TargetsBody and as the body of /health/redis/{name}/ (then
// with its Timestamp).
type TargetStatus struct {
	// Deployment is "sentinel" or "cluster"; absent for standalone instances and hosts.
	Deployment      string   `json:"deployment,omitempty"`
	Error           string   `json:"error,omitempty"`
	IntervalSeconds *float64 `json:"interval_seconds,omitempty"` // verbose
	Kind            string   `json:"kind"`
	LastRun         string   `json:"last_run,omitempty"` // verbose, after its first attempt
	LastSeen        *string  `json:"last_seen"`          // null before its first sample
	LatencyMs       float64  `json:"latency_ms"`
	Name            string   `json:"name"`
	Pushed          bool     `json:"pushed,omitempty"` // true, or absent
	Status          string   `json:"status"`           // "up" | "down"
	Timestamp       string   `json:"timestamp,omitempty"`
	// Topology is the Sentinel or Cluster detail (verbose); absent otherwise.
	Topology *TopologyStatus `json:"topology,omitempty"`
}

// UnknownTarget is the body of /health/redis/{name}/ for a name that is not watched.
type UnknownTarget struct {
	Error  string `json:"error"`
	Status string `json:"status"` // always "unknown"
}

// RemoteWriteStatus is the [remote_write] forwarder in TargetsBody.
type RemoteWriteStatus struct {
	DroppedTotal uint64  `json:"dropped_total"`
	Error        string  `json:"error,omitempty"`
	FailedTotal  uint64  `json:"failed_total"`
	LastSuccess  *string `json:"last_success"` // null before the first delivery
	QueueSamples int     `json:"queue_samples"`
	SentTotal    uint64  `json:"sent_total"`
	Since        string  `json:"since"`
	State        string  `json:"state"`  // remotewrite.Stats.State
	Status       string  `json:"status"` // "up" | "down"
	URL          string  `json:"url"`    // without the password
}

// TopologyStatus is how a Sentinel or Cluster instance is deployed, in TargetStatus with
// ?verbose; absent for standalone instances and other targets. Sentinel answers have
// master_name, master_addr, quorum and sentinels; Cluster ones cluster_state and the slots.
type TopologyStatus struct {
	ClusterState  string           `json:"cluster_state,omitempty"` // "ok" | "fail"; absent when no node answered
	Failovers     *int64           `json:"failovers,omitempty"`     // sentinel
	Kind          string           `json:"kind"`                    // "sentinel" | "cluster"
	LastFailover  string           `json:"last_failover,omitempty"` // sentinel, after one
	MasterAddr    string           `json:"master_addr,omitempty"`   // sentinel; absent when no sentinel answered
	MasterName    string           `json:"master_name,omitempty"`   // sentinel
	Masters       int              `json:"masters"`
	MastersUp     int              `json:"masters_up"`
	Nodes         []NodeStatus     `json:"nodes"`                    // never null
	Quorum        *int             `json:"quorum,omitempty"`         // sentinel: the configured quorum
	QuorumOK      *bool            `json:"quorum_ok,omitempty"`      // sentinel, when SENTINEL CKQUORUM answered
	Sentinels     []SentinelStatus `json:"sentinels,omitempty"`      // sentinel
	SlotsAssigned *int             `json:"slots_assigned,omitempty"` // cluster
	SlotsOK       *int             `json:"slots_ok,omitempty"`       // cluster
}

// NodeStatus is one data node of a Sentinel or Cluster instance.
type NodeStatus struct {
	Addr     string  `json:"addr"`
	Error    string  `json:"error,omitempty"`
	LastSeen *string `json:"last_seen"` // null before its first successful round
	Role     string  `json:"role"`      // "master" | "replica"
	Slots    string  `json:"slots,omitempty"`
	Status   string  `json:"status"` // "up" | "down"
}

// SentinelStatus is one sentinel watching a Sentinel instance's master.
type SentinelStatus struct {
	Addr   string `json:"addr"`
	Error  string `json:"error,omitempty"`
	Status string `json:"status"` // "up" | "down"
}
