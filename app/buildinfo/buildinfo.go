// Package buildinfo reports redwatch's version. Version and Commit are set at link time:
//
//	go build -ldflags "-X github.com/redwatch/redwatch/app/buildinfo.Version=v1.2.3 -X github.com/redwatch/redwatch/app/buildinfo.Commit=abc123"
//
// Without them, Commit falls back to the VCS revision Go embeds in the binary.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set by -ldflags -X; never written at run time.
var (
	Version = "dev"
	Commit  = ""
)

// Info is what `redwatch version` and /health/ print.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

// Get returns the build information of this binary.
func Get() Info {
	commit := Commit
	if commit == "" {
		commit = vcsRevision()
	}
	return Info{Version: Version, Commit: commit, GoVersion: runtime.Version()}
}

// vcsRevision is the binary's vcs.revision, or "unknown": read once, since parsing the build
// info costs more than the rest of a /health/ answer.
var vcsRevision = sync.OnceValue(func() string {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				commit = s.Value
			}
		}
	}
	return commit
})
