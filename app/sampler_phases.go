package app

import (
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/app/selfmon"
)

// redisPhases reads the Redis instances' sampling phases for selfmon: each instance's phases
// that ran, as redwatch_sampler_duration_seconds{sampler="redis:NAME",phase} and
// redwatch_sampler_overruns_total{sampler="redis:NAME",phase}.
func redisPhases(m *redis.Manager) func() map[string][]selfmon.Phase {
	return func() map[string][]selfmon.Phase {
		out := map[string][]selfmon.Phase{}
		for _, in := range m.Phases() {
			for _, p := range in.Phases {
				out[in.Name] = append(out[in.Name], selfmon.Phase{Name: p.Phase.String(), Last: p.Last, Overruns: p.Overruns})
			}
		}
		return out
	}
}
