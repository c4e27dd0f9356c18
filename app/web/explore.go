package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// exploreHandler serves /explore.
type exploreHandler struct {
	*pageKit
}

// maxExploreQuery bounds ?query= (bytes): a longer expression is refused before parsing.
const maxExploreQuery = 16 << 10

// showExplore renders /explore?query=EXPR&range=|from=&to=: the query box and, for a valid
// EXPR, the chart and table app.js fills from /api/v1/query_range. An expression that does
// not parse answers 400 with the page and the parse error beside the box; a bad range 400.
func (s *exploreHandler) showExplore(c echo.Context) error {
	now := time.Now()
	r, err := pageRange(c.QueryParams(), now)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	p := pages.ExploreProps{
		Layout: s.layoutProps(c, "Explore", layouts.NavExplore),
		Range:  rangePicker("/explore", c.QueryParams(), r),
		Query:  strings.TrimSpace(c.QueryParam("query")),
		Start:  r.Start.Unix(),
		Span:   r.Seconds(),
	}
	if !r.Live {
		p.End = r.End.Unix()
	}
	status := http.StatusOK
	switch {
	case len(p.Query) > maxExploreQuery:
		p.Error = "query: longer than 16 KiB"
	case p.Query != "":
		if err := tsdb.ValidateExpr(p.Query); err != nil {
			p.Error = "query: " + err.Error()
		}
	}
	if p.Error != "" {
		status = http.StatusBadRequest
	}
	return render(c, status, pages.Explore(p))
}
