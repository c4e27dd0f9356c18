package keygroup

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// describe flattens a tree into one line per node: indent, name, keys, length sum (known),
// memory sum (known), leaves.
func describe(n *Node, depth int, keys []Key, out *[]string) {
	var leaves []string
	for _, r := range n.Leaves {
		leaves = append(leaves, keys[r].Name)
	}
	kind := ""
	if n.Pattern {
		kind = " pattern"
	}
	*out = append(*out, fmt.Sprintf("%s%q%s keys=%d len=%d/%d mem=%d/%d leaves=%s", strings.Repeat("  ", depth), n.Name, kind, n.Keys, n.LengthSum, n.LengthKnown, n.MemorySum, n.MemoryKnown, strings.Join(leaves, ",")))
	for _, c := range n.Children {
		describe(c, depth+1, keys, out)
	}
}

func TestTree(t *testing.T) {
	k := func(name, pattern string, length int64, mem int64) Key {
		return Key{Name: name, Pattern: pattern, Length: length, HasLength: length >= 0, MemoryBytes: mem}
	}
	keys := []Key{
		k("queue:emails", "", 10, 100),
		k("app:cache:b", "", 2, 20),
		k("plain", "", 7, 70),
		k("app:cache:a", "", 1, 10),
		k("queue:jobs", "", -1, 0), // missing: no length, no memory
		k("app:cfg", "", 5, 50),
		k("session:2", "session:*", 4, 40),
		k("session:1", "session:*", 3, 30),
		k("a::b", "", 1, 1), // an empty part is a namespace too
	}
	for i := range keys {
		keys[i].Ref = i
	}
	var got []string
	describe(Tree(keys, ""), 0, keys, &got)
	want := []string{
		`"" keys=9 len=33/8 mem=321/8 leaves=plain`,
		`  "session:*" pattern keys=2 len=7/2 mem=70/2 leaves=session:1,session:2`,
		`  "a:" keys=1 len=1/1 mem=1/1 leaves=`,
		`    ":" keys=1 len=1/1 mem=1/1 leaves=a::b`,
		`  "app:" keys=3 len=8/3 mem=80/3 leaves=app:cfg`,
		`    "cache:" keys=2 len=3/2 mem=30/2 leaves=app:cache:a,app:cache:b`,
		`  "queue:" keys=2 len=10/1 mem=100/1 leaves=queue:emails,queue:jobs`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p := Tree(keys, "").Children[2].Children[0].Prefix; p != "app:cache:" {
		t.Errorf("prefix %q, want app:cache:", p)
	}
	if n := Tree(nil, "/"); n.Keys != 0 || len(n.Children) != 0 {
		t.Errorf("empty tree %+v", n)
	}
}
