package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/keygroup"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// keyTreeMaxGroups caps the namespaces listed under one group of the grouped view.
const keyTreeMaxGroups = 200

// showKeyTree renders /keys?view=tree: the filtered keys (every one, pattern keys under their
// pattern) grouped by namespace with counts and summed length and memory (app/keygroup), from
// the in-memory snapshot alone. It does not poll: opened groups stay open.
func (s *keysHandler) showKeyTree(c echo.Context, kq keyListQuery, keys []redis.KeySnapshot) error {
	now := time.Now()
	in := make([]keygroup.Key, 0, len(keys))
	for i := range keys {
		k := &keys[i]
		if kq.pattern != "" && k.Pattern != kq.pattern {
			continue
		}
		in = append(in, keygroup.Key{Name: k.Key, Pattern: k.Pattern, Length: k.Length, HasLength: k.Exists && k.HasLength, MemoryBytes: k.MemoryBytes, Ref: i})
		if !k.Exists {
			in[len(in)-1].MemoryBytes = 0
		}
	}
	root := keygroup.Tree(in, keygroup.Separator)
	p := s.keyListPage(c, kq)
	p.Tree = &partials.KeyTreeProps{Root: keyGroupView(root, keys, kq.instance, now)}
	return render(c, http.StatusOK, pages.KeyList(p))
}

// keyGroupView maps a keygroup node to its view, capping the keys and namespaces it lists.
func keyGroupView(n *keygroup.Node, keys []redis.KeySnapshot, instance string, now time.Time) partials.KeyGroup {
	g := partials.KeyGroup{
		Name: n.Name, Prefix: n.Prefix, Pattern: n.Pattern, Keys: n.Keys,
		LengthSum: n.LengthSum, LengthKnown: n.LengthKnown, MemorySum: n.MemorySum, MemoryKnown: n.MemoryKnown,
	}
	for i, c := range n.Children {
		if i == keyTreeMaxGroups {
			g.MoreGroups = len(n.Children) - i
			break
		}
		g.Groups = append(g.Groups, keyGroupView(c, keys, instance, now))
	}
	for i, ref := range n.Leaves {
		if i == partials.KeyTreeMaxLeaves {
			g.MoreLeaves = len(n.Leaves) - i
			break
		}
		g.Leaves = append(g.Leaves, keyRow(&keys[ref], now))
	}
	if g.MoreLeaves > 0 || g.MoreGroups > 0 {
		v := url.Values{}
		if instance != "" {
			v.Set("instance", instance)
		}
		if n.Pattern {
			v.Set("pattern", n.Prefix)
		} else if n.Prefix != "" {
			v.Set("q", n.Prefix)
		}
		g.MoreURL = "/keys"
		if len(v) > 0 {
			g.MoreURL += "?" + v.Encode()
		}
	}
	return g
}

// isAdmin reports whether the request's user may change settings.
func isAdmin(c echo.Context) bool {
	u, ok := auth.UserFrom(c)
	return ok && u.Role == auth.RoleAdmin
}
