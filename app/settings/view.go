package settings

import "github.com/redwatch/redwatch/app/config"

// Source says where an object comes from.
type Source string

// Sources.
const (
	SourceConfig Source = "config" // the config file: read-only
	SourceUI     Source = "ui"     // made from the UI: editable
)

// View is what the settings page shows. It holds no passwords.
type View struct {
	Instances []InstanceView // the config file's, then the UI's, each in its order
	Orphans   []KeyView      // UI keys whose instance no longer exists: kept, ignored
	Rules     []RuleView     // alert rules: the config file's, then the UI's, each in its order
}

// InstanceView is one instance with its keys.
type InstanceView struct {
	Source Source
	// Redis has defaults applied; its Password and Keys are always empty.
	Redis       config.Redis
	HasPassword bool // a password is stored (or was read from password_file)
	// OwnTimeout is false for a UI instance whose timeout follows its interval (min(2s,
	// interval)); Redis.Timeout is then that value.
	OwnTimeout bool
	Paused     bool // UI instances only
	// Shadowed: a UI instance whose name the config file has taken since; it is not watched
	// (the config file's instance is).
	Shadowed bool
	Keys     []KeyView // the config file's, then the UI's
	Meta     Meta      // UI instances only
}

// KeyView is one watched key or pattern.
type KeyView struct {
	Source   Source
	ID       string // UI keys only
	Instance string
	Key      config.Key // defaults applied (a UI key's interval follows its instance's)
	// OwnInterval is false for a UI key that follows its instance's interval.
	OwnInterval bool
	Paused      bool
	Meta        Meta // UI keys only
}

// Name is the key or the pattern, whichever is set.
func (k *KeyView) Name() string {
	if k.Key.Pattern != "" {
		return k.Key.Pattern
	}
	return k.Key.Key
}

// View returns the current settings for display.
func (s *Service) View() View {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.data.view(s.opts.FromConfig)
	v.Rules = s.data.viewRules(s.opts.FromConfigRules, s.refused)
	return v
}

func (d *Data) view(fromConfig []config.Redis) View {
	var v View
	keys := d.keysByInstance()
	seen := map[string]bool{}
	for _, r := range fromConfig {
		seen[r.Name] = true
		iv := InstanceView{Source: SourceConfig, Redis: r, HasPassword: r.Password != "", OwnTimeout: true}
		for _, k := range r.Keys {
			iv.Keys = append(iv.Keys, KeyView{Source: SourceConfig, Instance: r.Name, Key: k, OwnInterval: true, Paused: !k.IsEnabled()})
		}
		iv.Keys = appendUIKeys(iv.Keys, keys[r.Name], r.Interval)
		iv.Redis.Password, iv.Redis.Keys = "", nil
		v.Instances = append(v.Instances, iv)
	}
	for i := range d.Instances {
		in := &d.Instances[i]
		r := in.config(nil)
		iv := InstanceView{Source: SourceUI, Redis: r, HasPassword: in.Password != "", OwnTimeout: in.Timeout != 0, Paused: in.Paused,
			Shadowed: seen[in.Name], Meta: in.Meta}
		iv.Redis.Password = ""
		if !iv.Shadowed {
			iv.Keys = appendUIKeys(nil, keys[in.Name], r.Interval)
		}
		seen[in.Name] = true
		v.Instances = append(v.Instances, iv)
	}
	for _, k := range d.Keys {
		if !seen[k.Instance] {
			v.Orphans = appendUIKeys(v.Orphans, []Key{k}, config.DefaultInterval)
		}
	}
	return v
}

func appendUIKeys(out []KeyView, keys []Key, instanceInterval config.Duration) []KeyView {
	for _, k := range keys {
		out = append(out, KeyView{Source: SourceUI, ID: k.ID, Instance: k.Instance, Key: k.config(instanceInterval),
			OwnInterval: k.Interval != 0, Paused: k.Paused, Meta: k.Meta})
	}
	return out
}
