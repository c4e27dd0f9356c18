package web

import (
	"bufio"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
)

// showMetrics answers GET /metrics with the Prometheus text exposition of the latest value of
// every series (redwatch's own redwatch_* series included). It reads the in-memory latest
// table only.
func (s *Server) showMetrics(c echo.Context) error {
	type line struct {
		name, key string
		text      string
	}
	var lines []line
	var b strings.Builder
	s.opts.Store.LatestAll(func(lv *tsdb.LatestValue) {
		b.Reset()
		b.WriteString(lv.Name)
		if len(lv.Labels) > 0 {
			b.WriteByte('{')
			for i, l := range lv.Labels {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(l.Name)
				b.WriteString(`="`)
				b.WriteString(escapeLabelValue(l.Value))
				b.WriteByte('"')
			}
			b.WriteByte('}')
		}
		b.WriteByte(' ')
		b.WriteString(formatValue(lv.Value))
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(lv.Timestamp, 10))
		lines = append(lines, line{name: lv.Name, key: seriesKeyOf(lv.Labels), text: b.String()})
	})
	sort.Slice(lines, func(i, j int) bool {
		if lines[i].name != lines[j].name {
			return lines[i].name < lines[j].name
		}
		return lines[i].key < lines[j].key
	})
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	res.WriteHeader(http.StatusOK)
	w := bufio.NewWriter(res)
	prev := ""
	for _, l := range lines {
		if l.name != prev {
			typ := "gauge"
			if strings.HasSuffix(l.name, "_total") {
				typ = "counter"
			}
			w.WriteString("# TYPE " + l.name + " " + typ + "\n")
			prev = l.name
		}
		w.WriteString(l.text)
		w.WriteByte('\n')
	}
	return w.Flush()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabelValue(v string) string { return labelEscaper.Replace(v) }
