// Package htmltest renders templ components and queries the resulting HTML
// by stable hooks (data-testid), for the views tests.
package htmltest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
)

// Doc is a parsed document plus the raw HTML it came from.
type Doc struct {
	Root *html.Node
	HTML string
}

// Render renders c and parses the output as a full HTML document.
func Render(t testing.TB, c templ.Component) *Doc {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("cannot render: %s", err)
	}
	return Parse(t, buf.String())
}

// RenderFragments renders only the given templ fragments of c.
func RenderFragments(t testing.TB, c templ.Component, ids ...any) *Doc {
	t.Helper()
	var buf bytes.Buffer
	if err := templ.RenderFragments(context.Background(), &buf, c, ids...); err != nil {
		t.Fatalf("cannot render fragments %v: %s", ids, err)
	}
	return Parse(t, buf.String())
}

// Parse parses s as an HTML document.
func Parse(t testing.TB, s string) *Doc {
	t.Helper()
	root, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("cannot parse HTML: %s\n%s", err, s)
	}
	return &Doc{Root: root, HTML: s}
}

// All returns every element below n for which match is true, in document order.
func All(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

// ByTestID returns all elements with data-testid=id.
func (d *Doc) ByTestID(id string) []*html.Node {
	return All(d.Root, func(n *html.Node) bool { return Attr(n, "data-testid") == id })
}

// One returns the single element with data-testid=id, failing the test when
// there is not exactly one.
func (d *Doc) One(t testing.TB, id string) *html.Node {
	t.Helper()
	ns := d.ByTestID(id)
	if len(ns) != 1 {
		t.Fatalf("want exactly one data-testid=%q, found %d in:\n%s", id, len(ns), d.HTML)
	}
	return ns[0]
}

// None fails the test when an element with data-testid=id exists.
func (d *Doc) None(t testing.TB, id string) {
	t.Helper()
	if ns := d.ByTestID(id); len(ns) != 0 {
		t.Fatalf("want no data-testid=%q, found %d", id, len(ns))
	}
}

// Tag returns all elements with the given tag name.
func (d *Doc) Tag(name string) []*html.Node {
	return All(d.Root, func(n *html.Node) bool { return n.Data == name })
}

// Attr returns the value of attribute key on n, or "".
func Attr(n *html.Node, key string) string {
	v, _ := LookupAttr(n, key)
	return v
}

// LookupAttr returns the value of attribute key on n and whether it is present.
func LookupAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// Text returns the text content of n with runs of whitespace collapsed.
func Text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Node is an alias so tests need not import golang.org/x/net/html.
type Node = html.Node
