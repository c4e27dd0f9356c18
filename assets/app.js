/* redwatch dashboard behaviour. Plain JS, no build step.
 *
 * Loaded synchronously in <head> (so the stored theme applies before first
 * paint); htmx and uPlot are loaded with `defer`, so they are available by
 * DOMContentLoaded, when the rest of this file starts working.
 *
 * Contract with the templates (see views/):
 *   <meta name="csrf-token" content="...">   sent as X-CSRF-Token on htmx requests
 *   <body data-refresh-ms="2000">            default chart refresh period
 *   [data-theme-toggle]                      button that flips light/dark
 *   details[data-nav-menu]                   nav menu; closed on an outside click or Escape
 *   [data-chart]                             a live uPlot line chart, configured by
 *     data-query    series selector (required)
 *     data-range    seconds of history shown (default 3600)
 *     data-agg      avg|min|max|last|rate (optional)
 *     data-unit     percent|bytes|bytes_per_second|seconds|ops|number (default number)
 *     data-refresh  refresh period in ms (default: body data-refresh-ms, else 2000)
 *     data-label    legend name when the query returns a single series (optional)
 *   and this file writes on it:
 *     data-chart-ready="true"  after each successful draw
 *     data-points="N"          number of timestamps currently drawn
 *     data-chart-error="msg"   after a failure (removed after the next success)
 */
(function () {
  "use strict";

  var THEME_KEY = "redwatch-theme";
  var root = document.documentElement;

  // ---------- Theme (runs immediately, before first paint) ----------

  function storedTheme() {
    try {
      var t = window.localStorage.getItem(THEME_KEY);
      return t === "light" || t === "dark" ? t : null;
    } catch (e) {
      return null;
    }
  }

  function systemTheme() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function effectiveTheme() {
    var t = root.getAttribute("data-theme");
    return t === "light" || t === "dark" ? t : systemTheme();
  }

  (function applyStoredTheme() {
    var t = storedTheme();
    if (t) root.setAttribute("data-theme", t);
  })();

  function updateToggles() {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (b) {
      b.setAttribute("aria-label", "Switch to " + next + " theme");
      b.setAttribute("title", "Switch to " + next + " theme");
    });
  }

  function toggleTheme() {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try {
      window.localStorage.setItem(THEME_KEY, next);
    } catch (e) {
      /* private mode: the choice lasts for this page only */
    }
    updateToggles();
    redrawAllCharts();
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-theme-toggle]");
    if (b) {
      e.preventDefault();
      toggleTheme();
    }
  });

  // ---------- Nav menus ([data-nav-menu] <details>) ----------
  // They open and close without script; this closes an open one on a click outside it or on
  // Escape, as people expect of a menu.
  function closeNavMenus(except) {
    document.querySelectorAll("details[data-nav-menu][open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (e) {
    closeNavMenus(e.target.closest && e.target.closest("details[data-nav-menu]"));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.querySelector("details[data-nav-menu][open]");
    if (!open) return;
    closeNavMenus(null);
    var s = open.querySelector("summary");
    if (s) s.focus();
  });

  if (window.matchMedia) {
    var mq = window.matchMedia("(prefers-color-scheme: dark)");
    var onSystemTheme = function () {
      updateToggles();
      redrawAllCharts();
    };
    if (mq.addEventListener) mq.addEventListener("change", onSystemTheme);
  }

  // ---------- htmx: CSRF header, offline marking ----------

  var csrfToken = null;
  function csrf() {
    if (csrfToken === null) {
      var m = document.querySelector('meta[name="csrf-token"]');
      csrfToken = m ? m.getAttribute("content") || "" : "";
    }
    return csrfToken;
  }

  document.addEventListener("htmx:configRequest", function (e) {
    var token = csrf();
    if (token) e.detail.headers["X-CSRF-Token"] = token;
  });

  // A polled panel whose request fails is dimmed until its next successful swap
  // (the swap replaces the element, so the class disappears by itself).
  function markOffline(e) {
    var el = e.detail && e.detail.elt;
    if (el && el.classList) el.classList.add("is-offline");
  }
  // Polling pauses while the tab is hidden: a polled element's request is
  // cancelled and the next tick after the tab shows again goes through. (A
  // hx-trigger filter such as [!document.hidden] would need eval, which the
  // Content-Security-Policy forbids.)
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!document.hidden || !elt || !elt.getAttribute) return;
    if (/\bevery\b/.test(elt.getAttribute("hx-trigger") || "")) e.preventDefault();
  });
  document.addEventListener("htmx:sendError", markOffline);
  document.addEventListener("htmx:responseError", markOffline);

  // ---------- Formatting ----------

  var DASH = "\u2014";

  function trimZeros(s) {
    return s.indexOf(".") >= 0 ? s.replace(/\.?0+$/, "") : s;
  }

  // fixed gives one decimal below 100 and none from 100 up, like the Go side.
  function fixed(v) {
    return Math.abs(v) < 99.95 ? v.toFixed(1) : v.toFixed(0);
  }

  var BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

  function formatBytes(v) {
    if (!isFinite(v)) return DASH;
    var sign = v < 0 ? "-" : "";
    var a = Math.abs(v);
    if (Math.round(a) < 1024) return sign + Math.round(a) + " B";
    var i = 0;
    while (a >= 1024 && i < BYTE_UNITS.length - 1) {
      a /= 1024;
      i++;
    }
    // 1023.95 KiB would print as "1024.0 KiB"; move up a unit instead.
    if (fixed(a) === "1024" && i < BYTE_UNITS.length - 1) {
      a /= 1024;
      i++;
    }
    return sign + fixed(a) + " " + BYTE_UNITS[i];
  }

  function formatBytesPerSec(v) {
    return isFinite(v) ? formatBytes(v) + "/s" : DASH;
  }

  function formatPercent(v) {
    return isFinite(v) ? v.toFixed(1) + "%" : DASH;
  }

  var SI = [
    [1e15, "P"],
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];

  function formatNumber(v) {
    if (!isFinite(v)) return DASH;
    var a = Math.abs(v);
    if (a < 1e4) return trimZeros(v.toFixed(a < 10 ? 2 : a < 100 ? 1 : 0));
    for (var i = 0; i < SI.length; i++) {
      if (a >= SI[i][0]) return trimZeros((v / SI[i][0]).toFixed(1)) + SI[i][1];
    }
    return String(v);
  }

  function formatOps(v) {
    return isFinite(v) ? formatNumber(v) + " ops/s" : DASH;
  }

  function formatDuration(sec) {
    if (!isFinite(sec)) return DASH;
    var sign = sec < 0 ? "-" : "";
    var s = Math.abs(sec);
    if (s === 0) return "0s";
    if (s < 1e-3) return sign + trimZeros((s * 1e6).toFixed(s < 1e-5 ? 1 : 0)) + "\u00b5s";
    if (s < 1) return sign + trimZeros((s * 1e3).toFixed(s < 0.01 ? 2 : s < 0.1 ? 1 : 0)) + "ms";
    if (s < 10) return sign + trimZeros(s.toFixed(1)) + "s";
    if (s < 60) return sign + Math.floor(s) + "s";
    var t = Math.floor(s);
    var d = Math.floor(t / 86400),
      h = Math.floor((t % 86400) / 3600),
      m = Math.floor((t % 3600) / 60),
      r = t % 60;
    if (d > 0) return sign + d + "d " + h + "h";
    if (h > 0) return sign + h + "h " + m + "m";
    return sign + m + "m " + r + "s";
  }

  var FORMATTERS = {
    percent: formatPercent,
    bytes: formatBytes,
    bytes_per_second: formatBytesPerSec,
    seconds: formatDuration,
    ops: formatOps,
    number: formatNumber,
  };

  function formatterFor(unit) {
    return FORMATTERS[unit] || formatNumber;
  }

  // Axis tick labels: shorter than the legend ("1.5 GiB" rather than "1.5 GiB/s").
  function axisFormatterFor(unit) {
    if (unit === "bytes_per_second") return formatBytes;
    if (unit === "ops") return formatNumber;
    if (unit === "percent") {
      return function (v) {
        return isFinite(v) ? trimZeros(v.toFixed(1)) + "%" : DASH;
      };
    }
    return formatterFor(unit);
  }

  // Exposed for debugging in the console and for anyone extending the UI.
  window.redwatch = {
    format: {
      bytes: formatBytes,
      bytesPerSec: formatBytesPerSec,
      percent: formatPercent,
      number: formatNumber,
      ops: formatOps,
      duration: formatDuration,
      forUnit: formatterFor,
    },
  };

  // ---------- Charts ----------

  var DEFAULT_RANGE_S = 3600;
  var MIN_STEP_S = 10;
  var DEFAULT_REFRESH_MS = 2000;
  var MIN_REFRESH_MS = 500;
  var PALETTE_VARS = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6"];

  var charts = new Set();

  function cssVar(name, fallback) {
    var v = getComputedStyle(root).getPropertyValue(name).trim();
    return v || fallback;
  }

  function intAttr(el, name, def) {
    var v = parseInt(el.getAttribute(name), 10);
    return isFinite(v) && v > 0 ? v : def;
  }

  function defaultRefreshMs() {
    return document.body ? intAttr(document.body, "data-refresh-ms", DEFAULT_REFRESH_MS) : DEFAULT_REFRESH_MS;
  }

  function stepFor(rangeS, widthPx) {
    var w = Math.max(1, Math.floor(widthPx) || 1);
    return Math.max(MIN_STEP_S, Math.max(1, Math.ceil(rangeS / w)));
  }

  function seriesKey(metric) {
    return Object.keys(metric)
      .sort()
      .map(function (k) {
        return k + "=" + JSON.stringify(metric[k]);
      })
      .join(",");
  }

  // Legend names: the labels that tell the series apart; with one series, its
  // metric name (or the host/instance it belongs to).
  function legendNames(metrics) {
    if (metrics.length === 0) return [];
    var keys = {};
    metrics.forEach(function (m) {
      Object.keys(m).forEach(function (k) {
        keys[k] = true;
      });
    });
    var varying = Object.keys(keys)
      .filter(function (k) {
        var first = metrics[0][k];
        return metrics.some(function (m) {
          return m[k] !== first;
        });
      })
      .sort();
    return metrics.map(function (m) {
      if (varying.length === 0) return m.__name__ || m.host || m.instance || "value";
      if (varying.length === 1) return m[varying[0]] === undefined ? "" : String(m[varying[0]]);
      return varying
        .map(function (k) {
          return (k === "__name__" ? "" : k + "=") + (m[k] === undefined ? "" : m[k]);
        })
        .join(" ");
    });
  }

  function Chart(el) {
    this.el = el;
    this.query = el.getAttribute("data-query") || "";
    this.rangeS = intAttr(el, "data-range", DEFAULT_RANGE_S);
    this.agg = el.getAttribute("data-agg") || "";
    this.unit = el.getAttribute("data-unit") || "number";
    this.label = el.getAttribute("data-label") || "";
    this.refreshMs = Math.max(MIN_REFRESH_MS, intAttr(el, "data-refresh", defaultRefreshMs()));
    this.fmt = formatterFor(this.unit);
    this.axisFmt = axisFormatterFor(this.unit);
    this.step = stepFor(this.rangeS, el.clientWidth);
    // series key -> {metric: labels, points: Map(ts seconds -> value or null)}
    this.series = new Map();
    this.order = []; // series keys in uPlot series order (index + 1)
    this.lastTs = 0;
    this.needFull = true; // next load fetches the whole range (first load, step change)
    this.plot = null;
    this.timer = null;
    this.inflight = null;
    this.resizeTimer = null;
    this.destroyed = false;
    this.zoomed = false; // the user dragged to zoom; keep their x range on refresh
    this.settingData = false;

    el.textContent = "";
    this.msg = document.createElement("div");
    this.msg.className = "chart-msg";
    this.msg.setAttribute("role", "status");
    this.msg.textContent = "Loading\u2026";
    el.appendChild(this.msg);

    var self = this;
    if (window.ResizeObserver) {
      this.ro = new ResizeObserver(function () {
        self.onResize();
      });
      this.ro.observe(el);
    }
    this.onVisibility = function () {
      if (!document.hidden) self.tick();
    };
    document.addEventListener("visibilitychange", this.onVisibility);

    this.load(true);
    this.timer = setInterval(function () {
      self.tick();
    }, this.refreshMs);
  }

  Chart.prototype.url = function (start, end) {
    var q = "query=" + encodeURIComponent(this.query) + "&start=" + start + "&end=" + end + "&step=" + this.step;
    if (this.agg) q += "&agg=" + encodeURIComponent(this.agg);
    return "/api/v1/query_range?" + q;
  };

  Chart.prototype.tick = function () {
    if (!this.el.isConnected) {
      this.destroy();
      return;
    }
    if (document.hidden || this.inflight) return;
    this.load(this.needFull || this.lastTs === 0);
  };

  // load fetches the whole range (full) or only the tail since the last point.
  Chart.prototype.load = function (full) {
    if (!this.query) {
      this.fail("missing data-query");
      return;
    }
    var self = this;
    if (full) this.needFull = false;
    var end = Math.floor(Date.now() / 1000);
    var start = full || !this.lastTs ? end - this.rangeS : this.lastTs;
    var ctrl = window.AbortController ? new AbortController() : null;
    this.inflight = ctrl || true;
    fetch(this.url(start, end), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: ctrl ? ctrl.signal : undefined,
    })
      .then(function (resp) {
        return resp.text().then(function (text) {
          var body = null;
          try {
            body = JSON.parse(text);
          } catch (e) {
            /* not JSON */
          }
          var ct = resp.headers.get("Content-Type") || "";
          if (resp.status === 401 || resp.status === 403 || (resp.ok && ct.indexOf("text/html") === 0)) {
            // An expired session answers 401, or redirects to the login page.
            throw new Error("not logged in \u2014 reload the page");
          }
          if (!resp.ok || !body || body.status !== "success") {
            var why = body && body.error ? body.error : text.slice(0, 200) || resp.statusText;
            throw new Error("HTTP " + resp.status + ": " + why);
          }
          if (!body.data || !Array.isArray(body.data.result)) throw new Error("unexpected response shape");
          return body.data.result;
        });
      })
      .then(function (result) {
        self.inflight = null;
        if (self.destroyed) return;
        if (full) self.series.clear();
        else if (self.needFull) return; // the step changed meanwhile; the next tick reloads
        self.merge(result, end);
        self.draw();
      })
      .catch(function (err) {
        self.inflight = null;
        if (full) self.needFull = true;
        if (self.destroyed || (err && err.name === "AbortError")) return;
        self.fail(err && err.message ? err.message : String(err));
      });
  };

  Chart.prototype.merge = function (result, end) {
    var cutoff = end - this.rangeS;
    var self = this;
    result.forEach(function (r) {
      var metric = r.metric || {};
      var key = seriesKey(metric);
      var s = self.series.get(key);
      if (!s) {
        s = { metric: metric, points: new Map() };
        self.series.set(key, s);
      }
      (r.values || []).forEach(function (pair) {
        var ts = Number(pair[0]);
        var v = parseFloat(pair[1]);
        if (isFinite(ts)) s.points.set(ts, isFinite(v) ? v : null);
      });
    });
    // Trim points older than the range; forget series with nothing left.
    this.lastTs = 0;
    this.series.forEach(function (s, key) {
      s.points.forEach(function (_, ts) {
        if (ts < cutoff) s.points.delete(ts);
      });
      if (s.points.size === 0) {
        self.series.delete(key);
        return;
      }
      s.points.forEach(function (_, ts) {
        if (ts > self.lastTs) self.lastTs = ts;
      });
    });
  };

  // aligned builds uPlot's AlignedData for the series in this.order.
  Chart.prototype.aligned = function () {
    var tsSet = new Set();
    var self = this;
    this.order.forEach(function (key) {
      self.series.get(key).points.forEach(function (_, ts) {
        tsSet.add(ts);
      });
    });
    var xs = Array.from(tsSet).sort(function (a, b) {
      return a - b;
    });
    var data = [xs];
    this.order.forEach(function (key) {
      var pts = self.series.get(key).points;
      data.push(
        xs.map(function (ts) {
          var v = pts.get(ts);
          return v === undefined ? null : v;
        })
      );
    });
    return data;
  };

  Chart.prototype.seriesOpts = function (i, name) {
    var fmt = this.fmt;
    var color = cssVar(PALETTE_VARS[i % PALETTE_VARS.length], "#2563eb");
    return {
      label: name,
      stroke: color,
      width: 1.5,
      fill: this.order.length <= 1 ? color + "22" : undefined,
      spanGaps: false,
      points: { show: false },
      value: function (u, v) {
        return v == null ? DASH : fmt(v);
      },
    };
  };

  Chart.prototype.names = function () {
    var self = this;
    if (this.order.length === 1 && this.label) return [this.label];
    return legendNames(
      this.order.map(function (k) {
        return self.series.get(k).metric;
      })
    );
  };

  Chart.prototype.draw = function () {
    var keys = Array.from(this.series.keys()).sort();
    var sameSeries = this.plot && keys.length === this.order.length && keys.every(function (k, i) {
      return k === this.order[i];
    }, this);
    this.order = keys;
    var data = this.aligned();

    if (this.plot && sameSeries) {
      this.setData(data);
    } else if (this.plot) {
      // The set of series changed (a new interface appeared, an old one aged
      // out, or everything did): rebuild the series list in place, keeping
      // the chart.
      var u = this.plot;
      while (u.series.length > 1) u.delSeries(u.series.length - 1);
      var names = this.names();
      for (var i = 0; i < keys.length; i++) u.addSeries(this.seriesOpts(i, names[i]), i + 1);
      this.setData(data);
      this.fitHeight();
    } else if (!this.plot && keys.length > 0) {
      this.create(data);
    }

    var n = data[0].length;
    if (n === 0) {
      this.msg.textContent = "No data in the last " + formatDuration(this.rangeS);
    } else {
      this.msg.textContent = "";
    }
    this.el.removeAttribute("data-chart-error");
    this.el.setAttribute("data-points", String(n));
    this.el.setAttribute("data-chart-ready", "true");
  };

  Chart.prototype.create = function (data) {
    if (typeof window.uPlot !== "function") {
      this.fail("chart library not loaded");
      return;
    }
    var self = this;
    var names = this.names();
    var series = [{}];
    for (var i = 0; i < this.order.length; i++) series.push(this.seriesOpts(i, names[i]));
    var axisFmt = this.axisFmt;
    var unit = this.unit;
    var axisStroke = function () {
      return cssVar("--muted", "#666");
    };
    var grid = {
      stroke: function () {
        return cssVar("--grid", "rgba(0,0,0,0.07)");
      },
      width: 1,
    };
    var yScale = { auto: true };
    yScale.range = function (u, min, max) {
      if (min == null || max == null) return [0, unit === "percent" ? 100 : 1];
      var lo = Math.min(0, min);
      var hi = max;
      if (unit === "percent") hi = Math.max(100, max);
      else if (hi <= lo) hi = lo + 1;
      else hi = hi + (hi - lo) * 0.08;
      return [lo, hi];
    };
    var yAxis = {
      stroke: axisStroke,
      grid: grid,
      ticks: { show: false },
      size: 64,
      values: function (u, splits) {
        return splits.map(function (v) {
          return v == null ? "" : axisFmt(v);
        });
      },
    };
    if (unit === "bytes" || unit === "bytes_per_second") yAxis.incrs = BINARY_INCRS;
    var opts = {
      width: Math.max(50, this.el.clientWidth),
      height: Math.max(60, this.el.clientHeight - 30),
      series: series,
      scales: { x: { time: true }, y: yScale },
      axes: [{ stroke: axisStroke, grid: grid, ticks: { show: false } }, yAxis],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        // Drag-to-zoom sets the x scale; remember that so refreshes do not
        // undo it. Double-click (uPlot's reset) zooms back out.
        setScale: [
          function (u, key) {
            if (key !== "x" || self.settingData) return;
            var xs = u.data[0];
            if (!xs || xs.length === 0) return;
            self.zoomed = u.scales.x.min > xs[0] || u.scales.x.max < xs[xs.length - 1];
          },
        ],
      },
    };
    this.plot = new window.uPlot(opts, data, this.el);
    this.settingData = true;
    try {
      this.pinWindow();
    } finally {
      this.settingData = false;
    }
    // The message overlay must stay on top of the canvas.
    this.el.appendChild(this.msg);
    this.fitHeight();
  };

  // setData replaces the plotted data in place (the chart is never recreated
  // for new points); while the user is zoomed in, the scales stay put.
  Chart.prototype.setData = function (data) {
    this.settingData = true;
    try {
      this.plot.setData(data, !this.zoomed);
      this.pinWindow();
    } finally {
      this.settingData = false;
    }
  };

  // pinWindow shows the whole requested range ending now, however few points
  // there are, so a young series does not stretch over the whole axis.
  Chart.prototype.pinWindow = function () {
    if (this.zoomed || !this.plot) return;
    var now = Date.now() / 1000;
    this.plot.setScale("x", { min: now - this.rangeS, max: now });
  };

  // fitHeight gives the plot whatever height the legend leaves free, so the
  // element keeps the height the stylesheet gives it (no layout jumps).
  Chart.prototype.fitHeight = function () {
    if (!this.plot) return;
    var legend = this.plot.root.querySelector(".u-legend");
    // Two passes: a new width can re-wrap the legend and change its height.
    for (var pass = 0; pass < 2; pass++) {
      var lh = legend ? legend.offsetHeight : 0;
      var w = Math.max(50, this.el.clientWidth);
      var h = Math.max(60, this.el.clientHeight - lh);
      if (w === this.plot.width && h === this.plot.height) return;
      this.plot.setSize({ width: w, height: h });
    }
  };

  Chart.prototype.onResize = function () {
    var self = this;
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(function () {
      if (self.destroyed) return;
      self.fitHeight();
      var step = stepFor(self.rangeS, self.el.clientWidth);
      // Re-fetch at the new resolution when the width changed enough that the
      // step no longer matches (keeps points <= pixels).
      if (step !== self.step) {
        self.step = step;
        self.needFull = true;
        if (!self.inflight && !document.hidden) self.load(true);
      }
    }, 150);
  };

  Chart.prototype.fail = function (message) {
    this.el.setAttribute("data-chart-error", message);
    this.msg.textContent = message;
    if (!this.plot) this.el.setAttribute("data-chart-ready", "false");
  };

  Chart.prototype.redraw = function () {
    if (!this.plot) return;
    var u = this.plot;
    // Series colours are fixed at creation; rebuild them for the new theme.
    var names = this.names();
    for (var i = 0; i < this.order.length; i++) {
      u.delSeries(i + 1);
      u.addSeries(this.seriesOpts(i, names[i]), i + 1);
    }
    this.setData(this.aligned());
    u.redraw(false, true);
  };

  Chart.prototype.destroy = function () {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.timer);
    clearTimeout(this.resizeTimer);
    if (this.ro) this.ro.disconnect();
    document.removeEventListener("visibilitychange", this.onVisibility);
    if (this.inflight && this.inflight.abort) this.inflight.abort();
    if (this.plot) this.plot.destroy();
    this.plot = null;
    charts.delete(this);
  };

  // Tick increments for byte axes: powers of two, so ticks read 256 MiB, 512 MiB, 1 GiB.
  var BINARY_INCRS = (function () {
    var a = [];
    for (var e = 0; e <= 60; e++) a.push(Math.pow(2, e));
    return a;
  })();

  function redrawAllCharts() {
    charts.forEach(function (c) {
      c.redraw();
    });
  }

  function initCharts(scope) {
    var rootEl = scope && scope.querySelectorAll ? scope : document;
    var els = [];
    if (rootEl.matches && rootEl.matches("[data-chart]")) els.push(rootEl);
    rootEl.querySelectorAll("[data-chart]").forEach(function (el) {
      els.push(el);
    });
    els.forEach(function (el) {
      if (el.__redwatchChart) return;
      el.__redwatchChart = new Chart(el);
      charts.add(el.__redwatchChart);
    });
    // Forget charts whose element was removed by a swap.
    charts.forEach(function (c) {
      if (!c.el.isConnected) c.destroy();
    });
  }

  function start() {
    updateToggles();
    initCharts(document);
    // htmx:load fires for every piece of content htmx adds to the page.
    document.addEventListener("htmx:load", function (e) {
      initCharts(e.target);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
