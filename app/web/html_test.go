package web

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// parse parses an HTML body; find and friends query it by data-testid.
func parse(t *testing.T, body string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("cannot parse HTML: %s", err)
	}
	return n
}

func find(n *html.Node, testID string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && attr(d, "data-testid") == testID {
			out = append(out, d)
		}
	}
	return out
}

func one(t *testing.T, n *html.Node, testID string) *html.Node {
	t.Helper()
	ns := find(n, testID)
	if len(ns) != 1 {
		t.Fatalf("want one data-testid=%q, found %d", testID, len(ns))
	}
	return ns[0]
}

func attr(n *html.Node, key string) string {
	v, _ := lookupAttr(n, key)
	return v
}

// lookupAttr returns the value of n's attribute key and whether n has it.
func lookupAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// findAttr returns the elements below n (n included) that have the attribute key.
func findAttr(n *html.Node, key string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if _, ok := lookupAttr(d, key); ok && d.Type == html.ElementNode {
			out = append(out, d)
		}
	}
	return out
}

// findTag returns the elements named tag below n.
func findTag(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// texts returns the text of every element with testID, in document order.
func texts(n *html.Node, testID string) []string {
	var out []string
	for _, d := range find(n, testID) {
		out = append(out, text(d))
	}
	return out
}

// navCurrent is the data-nav of the nav link marked as the current page.
func navCurrent(doc *html.Node) string {
	for d := range doc.Descendants() {
		if attr(d, "aria-current") == "page" && attr(d, "data-nav") != "" {
			return attr(d, "data-nav")
		}
	}
	return ""
}

// assertFragment checks that body is only a polled fragment: no document, nav or charts, and
// its first element is the polled root carrying hx-get.
func assertFragment(t *testing.T, body, rootTestID string) *html.Node {
	t.Helper()
	for _, bad := range []string{"<html", "<head>", "<body", "<nav", "data-chart", "<title"} {
		if strings.Contains(body, bad) {
			t.Fatalf("fragment %s contains %q:\n%.300s", rootTestID, bad, body)
		}
	}
	doc := parse(t, body)
	root := one(t, doc, rootTestID)
	if attr(root, "hx-get") == "" || attr(root, "hx-swap") != "outerHTML" {
		t.Fatalf("fragment root %s does not poll itself: hx-get=%q hx-swap=%q", rootTestID, attr(root, "hx-get"), attr(root, "hx-swap"))
	}
	if !strings.HasPrefix(strings.TrimSpace(body), "<"+root.Data) {
		t.Fatalf("fragment does not start with its root <%s>: %.80s", root.Data, body)
	}
	return doc
}

// hasTestID reports whether an element with data-testid=testID is below n (n included).
func hasTestID(n *html.Node, testID string) bool { return len(find(n, testID)) > 0 }

// hasAttr reports whether n has the attribute key, whatever its value.
func hasAttr(n *html.Node, key string) bool {
	_, ok := lookupAttr(n, key)
	return ok
}

// findWith returns the elements with data-testid=testID whose attribute key is val.
func findWith(n *html.Node, testID, key, val string) []*html.Node {
	var out []*html.Node
	for _, d := range find(n, testID) {
		if attr(d, key) == val {
			out = append(out, d)
		}
	}
	return out
}

// oneWith returns the one element with data-testid=testID whose attribute key is val, failing
// the test if there is not exactly one.
func oneWith(t *testing.T, n *html.Node, testID, key, val string) *html.Node {
	t.Helper()
	ns := findWith(n, testID, key, val)
	if len(ns) != 1 {
		t.Fatalf("want one data-testid=%q with %s=%q, found %d", testID, key, val, len(ns))
	}
	return ns[0]
}

// byID returns the element below n with the HTML id, or an empty node if there is none.
func byID(n *html.Node, id string) *html.Node {
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && attr(d, "id") == id {
			return d
		}
	}
	return &html.Node{}
}

// formField returns the input or select named name below n, failing the test if there is none.
func formField(t *testing.T, n *html.Node, name string) *html.Node {
	t.Helper()
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && (d.Data == "input" || d.Data == "select") && attr(d, "name") == name {
			return d
		}
	}
	t.Fatalf("no field named %q", name)
	return nil
}

// selectedValue is the value of the selected option of the select named name below n.
func selectedValue(n *html.Node, name string) string {
	for _, sel := range findTag(n, "select") {
		if attr(sel, "name") != name {
			continue
		}
		for _, o := range findTag(sel, "option") {
			if hasAttr(o, "selected") {
				return attr(o, "value")
			}
		}
	}
	return ""
}

// cells returns the text of each cell of a table row.
func cells(row *html.Node) []string {
	var out []string
	for c := row.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			out = append(out, text(c))
		}
	}
	return out
}

// outerHTML renders n back to HTML text.
func outerHTML(n *html.Node) string {
	var b strings.Builder
	_ = html.Render(&b, n)
	return b.String()
}
