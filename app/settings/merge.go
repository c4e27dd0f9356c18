package settings

import (
	"slices"

	"github.com/redwatch/redwatch/app/config"
)

// Effective is the set of instances to watch: the config file's instances in their order (the
// first len(fromConfig) entries, always all of them), each with the UI keys attached to it
// appended to its own keys, then the UI instances that are not paused, each with
// its UI keys. A paused key is included with Enabled = false. Defaults are applied to UI
// objects (a key without an interval follows its instance's). A UI instance whose name the
// config file has since taken is left out (the config file wins), and so are UI keys whose
// instance no longer exists (orphans: kept in the file, shown by View). For UI instances with
// only a password_file, Password is read from that file as config.Load does (an unreadable
// file, or one not inside secretsDir (server.secrets_dir; see confinePasswordFile), leaves
// it empty: the instance then reports the authentication error).
//
// fromConfig must be validated with defaults applied (as config.Load returns it); it is not
// modified. The result shares no slices with d or fromConfig.
func (d *Data) Effective(fromConfig []config.Redis, secretsDir string) []config.Redis {
	keys := d.keysByInstance()
	inConfig := map[string]bool{}
	out := make([]config.Redis, 0, len(fromConfig)+len(d.Instances))
	for _, r := range fromConfig {
		inConfig[r.Name] = true
		r.Keys = slices.Clone(r.Keys)
		for _, k := range keys[r.Name] {
			r.Keys = append(r.Keys, k.config(r.Interval))
		}
		out = append(out, r)
	}
	for i := range d.Instances {
		in := &d.Instances[i]
		if in.Paused || inConfig[in.Name] {
			continue
		}
		r := in.config(keys[in.Name])
		if _, problem := confinePasswordFile(secretsDir, r.PasswordFile); problem == "" {
			r.ReadPasswordFile()
		}
		out = append(out, r)
	}
	return out
}

// keysByInstance groups d's keys by instance name, keeping their order.
func (d *Data) keysByInstance() map[string][]Key {
	m := map[string][]Key{}
	for _, k := range d.Keys {
		m[k.Instance] = append(m[k.Instance], k)
	}
	return m
}

// config is in as a config instance with keys attached and defaults applied. Password is as
// stored (password_file is not read).
func (in *Instance) config(keys []Key) config.Redis {
	r := config.Redis{
		Name: in.Name, Addr: in.Addr, Username: in.Username, Password: in.Password,
		PasswordFile: in.PasswordFile, DB: in.DB, TLS: in.TLS, TLSCAFile: in.TLSCAFile,
		TLSCertFile: in.TLSCertFile, TLSKeyFile: in.TLSKeyFile, Interval: in.Interval, Timeout: in.Timeout,
	}
	r.ApplyDefaults()
	for _, k := range keys {
		r.Keys = append(r.Keys, k.config(r.Interval))
	}
	return r
}

// config is k as a config key of an instance sampled every instanceInterval, defaults applied.
func (k *Key) config(instanceInterval config.Duration) config.Key {
	ck := config.Key{Key: k.Key, Pattern: k.Pattern, Interval: k.Interval, MaxKeys: k.MaxKeys, ScanInterval: k.ScanInterval,
		ExpectExists: clonePtr(k.ExpectExists)}
	if k.Paused {
		off := false
		ck.Enabled = &off
	}
	ck.ApplyDefaults(instanceInterval)
	return ck
}
