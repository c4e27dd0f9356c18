package components

import "net/url"

// RedisInstanceURL is the page of one Redis instance: /redis/{name}, path-escaped.
func RedisInstanceURL(name string) string { return "/redis/" + url.PathEscape(name) }

// KeysURL is the watched-keys page filtered to an instance and a search (either may be empty).
func KeysURL(instance, q string) string {
	v := url.Values{}
	if instance != "" {
		v.Set("instance", instance)
	}
	if q != "" {
		v.Set("q", q)
	}
	if len(v) == 0 {
		return "/keys"
	}
	return "/keys?" + v.Encode()
}
