// Package keygroup groups watched keys by namespace, as RedisInsight's tree view does: the
// parts of a key name before each separator (":" by default) are nested namespaces, each
// with the count of keys under it and their summed length and memory. Keys a pattern found
// are grouped under their pattern instead, so one pattern's thousands of keys are one node.
package keygroup

import (
	"cmp"
	"slices"
	"strings"
)

// Separator is the namespace separator of Redis key names by convention.
const Separator = ":"

// Key is one watched key as the tree needs it.
type Key struct {
	Name        string // the key
	Pattern     string // the pattern that found it; "" for an exact key
	Length      int64
	HasLength   bool  // Length is known (the key exists and was sampled)
	MemoryBytes int64 // 0 or less: unknown
	Ref         int   // the caller's index of the key, returned in Node.Leaves
}

// Node is a namespace (or a pattern) and what lies under it.
type Node struct {
	// Name is the node's own part: "queue:" under "app:", or the pattern of a pattern node;
	// "" for the root.
	Name string
	// Prefix is the whole namespace, every key under it starts with it ("app:queue:"); the
	// pattern of a pattern node; "" for the root.
	Prefix  string
	Pattern bool // the node holds the keys one pattern found

	Keys        int   // keys under the node, at any depth
	LengthSum   int64 // summed length of those with a known length
	LengthKnown int   // how many of them have a known length
	MemorySum   int64 // summed memory of those with a known memory
	MemoryKnown int

	Children []*Node // pattern nodes first, then namespaces by name
	Leaves   []int   // Refs of the keys directly in the node, in name order
}

// Tree groups keys by namespace on sep ("" is Separator): a key "a:b:c" lies in "a:" →
// "a:b:"; a key without sep lies in the root. Keys with a Pattern lie, flat, in one pattern
// node per pattern directly under the root. Every node's sums cover all keys under it.
func Tree(keys []Key, sep string) *Node {
	if sep == "" {
		sep = Separator
	}
	root := &Node{}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a].Name, keys[b].Name) })
	patterns := map[string]*Node{}
	for _, i := range order {
		k := &keys[i]
		path := []*Node{root}
		if k.Pattern != "" {
			n := patterns[k.Pattern]
			if n == nil {
				n = &Node{Name: k.Pattern, Prefix: k.Pattern, Pattern: true}
				patterns[k.Pattern] = n
				root.Children = append(root.Children, n)
			}
			path = append(path, n)
		} else {
			parts := strings.Split(k.Name, sep)
			prefix := ""
			for _, part := range parts[:len(parts)-1] {
				name := part + sep
				prefix += name
				path = append(path, path[len(path)-1].child(name, prefix))
			}
		}
		for _, n := range path {
			n.add(k)
		}
		last := path[len(path)-1]
		last.Leaves = append(last.Leaves, k.Ref)
	}
	root.sort()
	return root
}

// child finds or makes the namespace child name of n.
func (n *Node) child(name, prefix string) *Node {
	for _, c := range n.Children {
		if !c.Pattern && c.Name == name {
			return c
		}
	}
	c := &Node{Name: name, Prefix: prefix}
	n.Children = append(n.Children, c)
	return c
}

func (n *Node) add(k *Key) {
	n.Keys++
	if k.HasLength {
		n.LengthSum += k.Length
		n.LengthKnown++
	}
	if k.MemoryBytes > 0 {
		n.MemorySum += k.MemoryBytes
		n.MemoryKnown++
	}
}

// sort orders children: pattern nodes first, then by name, at every depth.
func (n *Node) sort() {
	slices.SortStableFunc(n.Children, func(a, b *Node) int {
		if a.Pattern != b.Pattern {
			if a.Pattern {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for _, c := range n.Children {
		c.sort()
	}
}
