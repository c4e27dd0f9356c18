/* redwatch dashboard behaviour. Plain JS, no build step. Its contract with the templates
 * (data-* attributes it reads and writes) is in assets/README.md. */
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

  // ---------- Menus and popovers ([data-nav-menu] or [data-popover] <details>) ----------
  // They open and close without script; this closes an open one on a click outside it or on
  // Escape, as people expect of a menu.
  var POPOVERS = "details[data-nav-menu], details[data-popover]";
  function closeNavMenus(except) {
    document.querySelectorAll("details[data-nav-menu][open], details[data-popover][open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (e) {
    closeNavMenus(e.target.closest && e.target.closest(POPOVERS));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.querySelector("details[data-nav-menu][open], details[data-popover][open]");
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

  // ---------- htmx: CSRF header, polling, offline marking, scroll keeping ----------

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

  function isPolled(el) {
    return !!(el && el.getAttribute && /\bevery\b/.test(el.getAttribute("hx-trigger") || ""));
  }

  // A polled panel whose request fails is dimmed and marked until its next successful swap
  // (the swap replaces the element, so the class disappears by itself).
  function markOffline(e) {
    var el = e.detail && e.detail.elt;
    if (el && el.classList && isPolled(el)) el.classList.add("is-offline");
  }
  // Polling pauses while the tab is hidden: a polled element's request is cancelled (htmx
  // keeps its timer, so polling resumes by itself), and every polled panel is refreshed once
  // when the tab shows again. (A hx-trigger filter such as [!document.hidden] would need
  // eval, which the Content-Security-Policy forbids.)
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (document.hidden && isPolled(elt)) e.preventDefault();
  });
  document.addEventListener("htmx:sendError", markOffline);
  document.addEventListener("htmx:responseError", markOffline);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[hx-get][hx-trigger]").forEach(function (el) {
      if (!isPolled(el) || !el.isConnected) return;
      var p = window.htmx.ajax("GET", el.getAttribute("hx-get"), { source: el });
      if (p && p.catch) p.catch(function () {}); // a failure marks the panel offline already
    });
  });

  // Elements with an id inside a swapped element (or the element itself) keep their state
  // across the swap, which replaces them with new ones: scroll boxes ([data-keep-scroll]) their
  // scroll position, which would start at the top; disclosures (details[data-keep-open]) their
  // open state, which would start closed (an alert group opened on /alerts stays open while
  // the list is polled). kept holds [id, restore(newElement)] pairs.
  var kept = [];
  function within(t, sel) {
    var els = Array.prototype.slice.call(t.querySelectorAll(sel));
    if (t.matches && t.matches(sel)) els.push(t);
    return els;
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var t = e.detail && e.detail.target;
    if (!t || !t.querySelectorAll) return;
    kept = [];
    within(t, "[data-keep-scroll][id]").forEach(function (b) {
      var top = b.scrollTop, left = b.scrollLeft;
      if (!top && !left) return;
      kept.push([b.id, function (n) {
        n.scrollTop = top;
        n.scrollLeft = left;
      }]);
    });
    within(t, "details[data-keep-open][id]").forEach(function (d) {
      var open = d.open;
      kept.push([d.id, function (n) {
        if (n.matches("details[data-keep-open]")) n.open = open;
      }]);
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    kept.forEach(function (k) {
      var n = document.getElementById(k[0]);
      if (n) k[1](n);
    });
    kept = [];
  });

  // ---------- Range picker: custom span in the browser's time zone ----------

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // localInput formats unix seconds for a datetime-local input, in local time.
  function localInput(sec) {
    var d = new Date(sec * 1000);
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + "T" + pad2(d.getHours()) + ":" + pad2(d.getMinutes());
  }

  // inputUnix reads a datetime-local value as local time; NaN when empty or invalid.
  function inputUnix(v) {
    if (!v) return NaN;
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(v);
    if (!m) return NaN;
    var d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    return Math.floor(d.getTime() / 1000);
  }

  function initRangeForms(scope) {
    scope.querySelectorAll("form[data-range-form]").forEach(function (form) {
      if (form.__redwatchRange) return;
      form.__redwatchRange = true;
      form.querySelectorAll('input[type="datetime-local"][data-unix]').forEach(function (inp) {
        var u = parseInt(inp.getAttribute("data-unix"), 10);
        if (u > 0) inp.value = localInput(u);
      });
      // Without a start yet, offer the last hour as a starting point.
      var from = form.querySelector('input[name="from"]');
      if (from && !from.value) from.value = localInput(Math.floor(Date.now() / 1000) - 3600);
    });
  }

  // rangeFormURL builds the page URL the custom form asks for: its other fields as they are,
  // the datetime-local ones as unix seconds (an empty "to" is left out: up to now).
  function rangeFormURL(form) {
    var params = new URLSearchParams();
    var bad = null;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if (el.type === "datetime-local") {
        el.setCustomValidity("");
        if (!el.value) return;
        var u = inputUnix(el.value);
        if (!isFinite(u)) bad = bad || el;
        else params.set(el.name, String(u));
        return;
      }
      if (el.type === "submit" || el.type === "button") return;
      params.append(el.name, el.value);
    });
    var f = params.get("from"),
      t = params.get("to");
    if (!bad && f && t && +f >= +t) {
      bad = form.querySelector('input[name="to"]');
      if (bad) bad.setCustomValidity("must be after From");
    }
    if (bad) return { bad: bad };
    var action = form.getAttribute("action") || window.location.pathname;
    return { url: action + "?" + params.toString() };
  }

  document.addEventListener("submit", function (e) {
    var form = e.target && e.target.closest && e.target.closest("form[data-range-form]");
    if (!form) return;
    e.preventDefault();
    var r = rangeFormURL(form);
    if (r.bad) {
      if (r.bad.reportValidity) r.bad.reportValidity();
      return;
    }
    window.location.assign(r.url);
  });
  // Editing either time clears a "to before from" complaint.
  document.addEventListener("input", function (e) {
    var form = e.target && e.target.type === "datetime-local" && e.target.closest("form[data-range-form]");
    if (!form) return;
    form.querySelectorAll('input[type="datetime-local"]').forEach(function (inp) {
      inp.setCustomValidity("");
    });
  });

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

  function formatPerSec(v) {
    return isFinite(v) ? formatNumber(v) + "/s" : DASH;
  }

  // formatTime shows unix seconds as local "YYYY-MM-DD HH:MM:SS".
  function formatTime(sec) {
    if (!isFinite(sec)) return DASH;
    var d = new Date(sec * 1000);
    return (
      d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " +
      pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds())
    );
  }

  // formatUTC shows unix seconds as "YYYY-MM-DD HH:MM:SS UTC".
  function formatUTC(sec) {
    if (!isFinite(sec)) return DASH;
    return new Date(sec * 1000).toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  // axisTimes labels time-axis ticks with the tail of formatTime that changes across the
  // span: "HH:MM" within a day, "MM-DD HH:MM" within a week, else "YYYY-MM-DD".
  function axisTimes(u, splits) {
    var span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    return splits.map(function (ts) {
      var t = formatTime(ts);
      return span <= 86400 ? t.slice(11, 16) : span <= 7 * 86400 ? t.slice(5, 16) : t.slice(0, 10);
    });
  }

  // localTitles rewrites the ISO-8601 UTC times (2026-12-02T07:31:02Z) in the titles of
  // scope's elements as formatTime (the viewer's zone) followed by the UTC time, so hovering
  // any time on any page reads the same way.
  var ISO_UTC = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;
  function localTitles(scope) {
    var els = within(scope, "[title]");
    els.forEach(function (el) {
      var t = el.getAttribute("title");
      if (t.search(ISO_UTC) < 0) return;
      el.setAttribute("title", t.replace(ISO_UTC, function (iso) {
        var sec = Date.parse(iso) / 1000;
        return formatTime(Math.floor(sec)) + " (" + formatUTC(Math.floor(sec)) + ")";
      }));
    });
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
    per_second: formatPerSec,
    number: formatNumber,
  };

  function formatterFor(unit) {
    return FORMATTERS[unit] || formatNumber;
  }

  // Axis tick labels carry the unit, rates as "/s" ("1.5 GiB/s", "12k/s").
  function axisFormatterFor(unit) {
    if (unit === "ops" || unit === "per_second") return formatPerSec;
    if (unit === "percent") {
      return function (v) {
        return isFinite(v) ? trimZeros(v.toFixed(1)) + "%" : DASH;
      };
    }
    return formatterFor(unit);
  }

  // ---------- Charts ----------

  var DEFAULT_RANGE_S = 3600;
  var MIN_STEP_S = 10;
  var DEFAULT_REFRESH_MS = 2000;
  // A chart whose step is longer than its refresh period asks for its tail at most this often
  // (seconds), so the newest, unfinished step keeps up with new samples.
  var TAIL_PERIOD_S = 60;
  var MIN_REFRESH_MS = 500;
  // Series colours (app.css): none is red or amber, which mean critical and warning only.
  var PALETTE_VARS = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6"];
  // Every chart of a page shares one crosshair.
  var SYNC_KEY = "redwatch";
  var AXIS_SIZE = { bytes_per_second: 84, bytes: 70, ops: 64, per_second: 64 };

  var charts = new Set();
  // The page's URL as loaded: double-click after a zoom puts it back.
  var pageURL = window.location.href;

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

  // stepFor is the step (seconds) of a request for spanS seconds drawn widthPx pixels wide: at
  // least spanS/widthPx, so no request returns more points than the chart has pixels. It is
  // rounded up to whole minutes from one minute, and to whole 5-minute rollup buckets from
  // five, so steps line up with the storage's rollups and successive requests share a grid.
  function stepFor(spanS, widthPx) {
    var w = Math.max(1, Math.floor(widthPx) || 1);
    var s = Math.max(MIN_STEP_S, Math.ceil(spanS / w));
    if (s >= 300) return Math.ceil(s / 300) * 300;
    if (s >= 60) return Math.ceil(s / 60) * 60;
    return s;
  }

  function seriesKey(metric) {
    return Object.keys(metric)
      .sort()
      .map(function (k) {
        return k + "=" + JSON.stringify(metric[k]);
      })
      .join(",");
  }

  // humanName turns a metric name into words: host_disk_read_bytes_total -> "disk read".
  function humanName(n) {
    return String(n).replace(/^(host|redis|redwatch)_/, "").replace(/_(total|bytes|seconds|percent)$/g, "").replace(/_/g, " ");
  }

  // Legend names: the labels that tell the series apart (a metric name renamed through
  // renames, else made words); with one series, the host or instance it belongs to.
  function legendNames(metrics, renames) {
    var nm = function (n) {
      return Object.prototype.hasOwnProperty.call(renames, n) ? String(renames[n]) : humanName(n);
    };
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
      if (varying.length === 0) return m.__name__ && renames[m.__name__] ? nm(m.__name__) : m.host || m.instance || (m.__name__ ? nm(m.__name__) : "value");
      if (varying.length === 1) return m[varying[0]] === undefined ? "" : varying[0] === "__name__" ? nm(m.__name__) : String(m[varying[0]]);
      return varying
        .map(function (k) {
          return k === "__name__" ? nm(m[k]) : k + "=" + (m[k] === undefined ? "" : m[k]);
        })
        .join(" ");
    });
  }

  function jsonAttr(el, name) {
    var v = el.getAttribute(name);
    if (!v) return null;
    try {
      var o = JSON.parse(v);
      return o && typeof o === "object" ? o : null;
    } catch (e) {
      return null;
    }
  }

  function Chart(el) {
    this.el = el;
    this.query = el.getAttribute("data-query") || "";
    this.rangeS = intAttr(el, "data-range", DEFAULT_RANGE_S);
    var fs = intAttr(el, "data-start", 0),
      fe = intAttr(el, "data-end", 0);
    // A fixed span (custom range): loaded once, never refreshed, never moved.
    this.fixed = fe > fs && fs > 0 ? { start: fs, end: fe } : null;
    if (this.fixed) this.rangeS = fe - fs;
    this.agg = el.getAttribute("data-agg") || "";
    this.unit = el.getAttribute("data-unit") || "number";
    this.label = el.getAttribute("data-label") || "";
    this.renames = jsonAttr(el, "data-names") || {};
    this.legend = el.getAttribute("data-legend") || "";
    this.limit = el.getAttribute("data-limit") || "";
    var sc = parseFloat(el.getAttribute("data-scale"));
    this.scale = isFinite(sc) && sc !== 0 ? sc : 1;
    this.refreshMs = Math.max(MIN_REFRESH_MS, intAttr(el, "data-refresh", defaultRefreshMs()));
    this.fmt = formatterFor(this.unit);
    this.axisFmt = axisFormatterFor(this.unit);
    this.zoom = null; // {start, end}: the span the user dragged, shown instead of the range
    this.step = stepFor(this.span().end - this.span().start, this.plotWidth());
    // series key -> {metric: labels, points: Map(ts seconds -> value or null)}
    this.series = new Map();
    this.order = []; // series keys in uPlot series order (index + 1)
    this.lastTs = 0; // newest point drawn (unix seconds)
    this.lastGridTs = 0; // newest point on the step grid: where tail loads start
    this.needFull = true; // next load fetches the whole span (first load, step or span change)
    this.gen = 0; // bumped when the span changes, so late answers for the old one are dropped
    this.plot = null;
    this.timer = null;
    this.inflight = null;
    this.resizeTimer = null;
    this.destroyed = false;

    el.textContent = "";
    this.msg = document.createElement("div");
    this.msg.className = "chart-msg";
    this.msg.setAttribute("role", "status");
    this.msg.textContent = "Loading\u2026";
    el.appendChild(this.msg);
    this.staleEl = document.createElement("div");
    this.staleEl.className = "chart-stale";
    this.staleEl.hidden = true;
    el.appendChild(this.staleEl);

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

  // span is what the chart shows: the zoomed span, the fixed span, or the range up to now
  // (live: new points keep coming).
  Chart.prototype.span = function () {
    if (this.zoom) return { start: this.zoom.start, end: this.zoom.end, live: false };
    if (this.fixed) return { start: this.fixed.start, end: this.fixed.end, live: false };
    var now = Math.floor(Date.now() / 1000);
    return { start: now - this.rangeS, end: now, live: true };
  };

  // plotWidth is the width (px) the data is drawn in: the element less the y axis.
  Chart.prototype.plotWidth = function () {
    if (this.plot && this.plot.bbox) return Math.max(1, Math.floor(this.plot.bbox.width / (window.devicePixelRatio || 1)));
    return Math.max(1, this.el.clientWidth - (AXIS_SIZE[this.unit] || 60) - 30); // before the plot: less axis, padding
  };

  Chart.prototype.url = function (start, end) {
    var q = "query=" + encodeURIComponent(this.query) + "&start=" + start + "&end=" + end + "&step=" + this.step;
    // agg (default last) asks for redwatch's own per-step evaluation of the selector, which
    // reads the 5-minute rollups for long ranges; without it the query would be MetricsQL.
    q += "&agg=" + encodeURIComponent(this.agg || "last");
    return "/api/v1/query_range?" + q;
  };

  Chart.prototype.tick = function () {
    if (!this.el.isConnected) {
      this.destroy();
      return;
    }
    if (document.hidden || this.inflight) return;
    // A fixed or zoomed span is loaded once (again only after a failure or a resize).
    if (!this.span().live && !this.needFull) {
      this.checkStale();
      return;
    }
    // A live chart's last grid point changes once a step, its newest, unfinished step (the
    // point at "now") with every sample: with a step longer than the refresh period (a 7-day
    // chart steps 20 min), ask for the tail once a step or once a minute, not every refresh.
    if (!this.needFull && this.lastTs !== 0 && this.loadedAt && Date.now() - this.loadedAt < Math.min(this.step, TAIL_PERIOD_S) * 1000) {
      this.checkStale();
      return;
    }
    this.load(this.needFull || this.lastTs === 0);
  };

  // load fetches the whole span (full) or, while live, only the tail since the last point.
  Chart.prototype.load = function (full) {
    if (!this.query) {
      this.fail("missing data-query");
      return;
    }
    var self = this;
    var sp = this.span();
    this.loadedAt = Date.now();
    if (full) {
      // Tail loads keep the step of the full load they extend, so points stay on one grid.
      this.step = stepFor(sp.end - sp.start, this.plotWidth());
      this.el.setAttribute("data-step", String(this.step));
      this.needFull = false;
    }
    var end = sp.end;
    // Full loads start on a multiple of the step, so that later tail loads (which start at
    // the last grid point) stay on the same grid.
    var start = full || !this.lastGridTs ? Math.floor(sp.start / this.step) * this.step : this.lastGridTs;
    var gen = this.gen;
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
        if (gen !== self.gen) return; // the span changed meanwhile; a newer load is under way
        self.inflight = null;
        if (self.destroyed) return;
        if (full) self.series.clear();
        else if (self.needFull) return; // the step changed meanwhile; the next tick reloads
        self.merge(result, start - self.step);
        self.draw();
      })
      .catch(function (err) {
        if (gen !== self.gen) return;
        self.inflight = null;
        self.loadedAt = 0; // retry at the next refresh, not a step later
        if (full) self.needFull = true;
        if (self.destroyed || (err && err.name === "AbortError")) return;
        self.fail(err && err.message ? err.message : String(err));
      });
  };

  // merge adds a query_range result; points before cutoff (unix seconds) are dropped, and
  // while live so is everything that scrolled out of the range. Points off the step grid are
  // the newest, unfinished step of an earlier answer (storage stamps it at the end of the
  // range): the result, which starts at the last grid point, replaces them.
  Chart.prototype.merge = function (result, cutoff) {
    var sp = this.span();
    if (sp.live) cutoff = Math.floor(sp.start / this.step) * this.step;
    var self = this;
    var k = this.scale;
    var step = this.step;
    this.series.forEach(function (s) {
      s.points.forEach(function (_, ts) {
        if (ts % step !== 0) s.points.delete(ts);
      });
    });
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
        // A limit of 0 means none (maxmemory 0): not drawn.
        if (isFinite(ts)) s.points.set(ts, isFinite(v) && !(s.metric.__name__ === self.limit && v === 0) ? v * k : null);
      });
    });
    // Trim points older than the span; forget series with nothing left.
    this.lastTs = 0;
    this.lastGridTs = 0;
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
        if (ts > self.lastGridTs && ts % step === 0) self.lastGridTs = ts;
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

  // isLimit reports whether the series at order index i is the limit series (data-limit).
  Chart.prototype.isLimit = function (i) {
    var s = this.series.get(this.order[i]);
    return !!(this.limit && s && s.metric.__name__ === this.limit);
  };

  Chart.prototype.seriesOpts = function (i, name) {
    var fmt = this.fmt;
    var lim = this.isLimit(i);
    // Colours go to the data series in order; the limit is a muted dashed line.
    var ci = 0;
    for (var j = 0; j < i; j++) if (!this.isLimit(j)) ci++;
    var color = lim ? cssVar("--muted", "#666") : cssVar(PALETTE_VARS[ci % PALETTE_VARS.length], "#2563eb");
    return {
      label: name,
      stroke: color,
      width: lim ? 1.25 : 1.5,
      dash: lim ? [6, 4] : undefined,
      points: lim ? { show: false } : undefined,
      fill: this.order.length <= 1 ? color + "22" : undefined,
      spanGaps: false,
      // uPlot's default: dots only where points are sparse, so a lone sample still shows.
      value: function (u, v) {
        return v == null ? DASH : fmt(v);
      },
    };
  };

  Chart.prototype.names = function () {
    var self = this;
    var metrics = this.order.map(function (k) {
      return self.series.get(k).metric;
    });
    if (this.legend) {
      return metrics.map(function (m) {
        return self.legend.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, function (_, l) {
          return m[l] === undefined ? "" : String(m[l]);
        });
      });
    }
    if (this.order.length === 1 && this.label) return [this.label];
    // The limit's legend says its value: it may be above the axis ("maxmemory 1.0 GiB").
    return legendNames(metrics, this.renames).map(function (n, i) {
      var last = null, lt = -1;
      if (self.isLimit(i)) self.series.get(self.order[i]).points.forEach(function (v, ts) {
        if (v != null && ts > lt) (last = v), (lt = ts);
      });
      // (Only zeros, "no limit", are null.)
      return !self.isLimit(i) ? n : last == null ? n + " none" : n + " " + self.fmt(last);
    });
  };

  Chart.prototype.draw = function () {
    // Numbers in labels sort by value: load1, load5, load15.
    var keys = Array.from(this.series.keys()).sort(function (a, b) {
      return a.localeCompare(b, "en", { numeric: true });
    });
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
      var sp = this.span();
      this.msg.textContent = sp.live ? "No data in the last " + formatDuration(this.rangeS) : "No data from " + formatTime(sp.start) + " to " + formatTime(sp.end);
    } else {
      this.msg.textContent = "";
    }
    this.el.removeAttribute("data-chart-error");
    this.el.setAttribute("data-points", String(n));
    this.el.setAttribute("data-chart-ready", "true");
    this.checkStale();
  };

  // checkStale marks a live chart whose newest point is older than 3 refresh periods (or 3
  // steps: with a long step the newest point is legitimately up to a step old).
  Chart.prototype.checkStale = function () {
    var sp = this.span();
    var limit = 3 * Math.max(this.refreshMs / 1000, this.step);
    var age = sp.end - this.lastTs;
    var stale = sp.live && this.lastTs > 0 && age > limit;
    if (stale) {
      this.el.setAttribute("data-stale", "true");
      this.staleEl.textContent = "stale \u00b7 last point " + formatDuration(age) + " ago";
      this.staleEl.title = "newest point: " + formatTime(this.lastTs);
      this.staleEl.hidden = false;
    } else if (this.el.hasAttribute("data-stale")) {
      this.el.removeAttribute("data-stale");
      this.staleEl.hidden = true;
    }
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
      // The limit series (maxmemory) scales the axis only when near the data (within 1.5x),
      // so 2 MiB used of 256 MiB is not a flat line at zero.
      if (self.limit) {
        var lo0 = null, hi0 = null, lim = null;
        for (var i = 1; i < u.data.length; i++) {
          var isLim = self.isLimit(i - 1);
          u.data[i].forEach(function (v) {
            if (v == null) return;
            if (isLim) lim = lim == null ? v : Math.max(lim, v);
            else {
              lo0 = lo0 == null ? v : Math.min(lo0, v);
              hi0 = hi0 == null ? v : Math.max(hi0, v);
            }
          });
        }
        if (hi0 != null) {
          min = lo0;
          max = lim != null && lim <= hi0 * 1.5 ? Math.max(hi0, lim) : hi0;
        }
      }
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
      // Wide enough for the longest tick label of the unit ("1023.9 KiB/s"); fixed, so the
      // plot width (and the step fitting it) does not change with the data.
      size: AXIS_SIZE[unit] || 60,
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
      axes: [{ stroke: axisStroke, grid: grid, ticks: { show: false }, values: axisTimes }, yAxis],
      // The legend names the series (click one to hide it); values are in the tooltip, so
      // the legend never changes size while the cursor moves.
      legend: { live: false },
      // Dragging selects a span; setSelect below turns it into a zoom of every chart.
      cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: SYNC_KEY } },
      hooks: {
        setSelect: [
          function (u) {
            var sel = u.select;
            if (!sel || sel.width < 3) return;
            var min = u.posToVal(sel.left, "x");
            var max = u.posToVal(sel.left + sel.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoomCharts(self, Math.floor(min), Math.ceil(max));
          },
        ],
        setCursor: [
          function (u) {
            self.showTip(u);
          },
        ],
      },
    };
    this.plot = new window.uPlot(opts, data, this.el);
    this.tip = document.createElement("div");
    this.tip.className = "chart-tip";
    this.tip.setAttribute("aria-hidden", "true");
    this.tip.hidden = true;
    this.plot.over.appendChild(this.tip);
    this.plot.over.addEventListener("dblclick", function () {
      // uPlot's own double-click handler has just fitted the x scale to the data.
      if (self.zoom) resetZoom(self);
      else self.pinWindow();
    });
    this.plot.over.addEventListener("mouseleave", function () {
      self.tip.hidden = true;
    });
    this.pinWindow();
    // The message overlays must stay on top of the canvas.
    this.el.appendChild(this.msg);
    this.el.appendChild(this.staleEl);
    this.fitHeight();
    // Now that the plot area is known, make sure the step still fits it; if not, load again
    // at once (this runs inside the answer of a load, so none is in flight).
    var sp = this.span();
    if (stepFor(sp.end - sp.start, this.plotWidth()) > this.step) {
      this.needFull = true;
      setTimeout(function () {
        if (!self.destroyed && !self.inflight && self.needFull) self.load(true);
      }, 0);
    }
  };

  // showTip shows the time and every visible series' value at the cursor, with units.
  Chart.prototype.showTip = function (u) {
    var tip = this.tip;
    if (!tip) return;
    var idx = u.cursor.idx;
    if (idx == null || u.cursor.left == null || u.cursor.left < 0) {
      tip.hidden = true;
      return;
    }
    tip.textContent = "";
    var head = document.createElement("div");
    head.className = "chart-tip-time";
    head.textContent = formatTime(u.data[0][idx]);
    tip.appendChild(head);
    var utc = document.createElement("div");
    utc.className = "chart-tip-time";
    utc.textContent = formatUTC(u.data[0][idx]);
    tip.appendChild(utc);
    for (var i = 1; i < u.series.length; i++) {
      var s = u.series[i];
      if (!s.show) continue;
      var row = document.createElement("div");
      row.className = "chart-tip-row";
      var sw = document.createElement("span");
      sw.className = "chart-tip-swatch";
      sw.style.background = typeof s.stroke === "function" ? s.stroke(u, i) : s.stroke;
      var name = document.createElement("span");
      name.className = "chart-tip-name";
      name.textContent = s.label;
      var val = document.createElement("span");
      val.className = "chart-tip-value";
      var v = u.data[i][idx];
      val.textContent = v == null ? DASH : this.fmt(v);
      row.appendChild(sw);
      row.appendChild(name);
      row.appendChild(val);
      tip.appendChild(row);
    }
    tip.hidden = false;
    // Beside the cursor, on the side with more room.
    var w = u.over.clientWidth;
    var left = u.cursor.left;
    var tw = tip.offsetWidth;
    var x = left + 12 + tw > w ? Math.max(0, left - 12 - tw) : left + 12;
    tip.style.left = x + "px";
    tip.style.top = Math.max(0, Math.min(u.cursor.top - 10, u.over.clientHeight - tip.offsetHeight)) + "px";
  };

  // setData replaces the plotted data in place (the chart is never recreated for new points).
  Chart.prototype.setData = function (data) {
    this.plot.setData(data, false);
    this.pinWindow();
  };

  // pinWindow shows the whole span (ending now while live), however few points there are, so
  // a young series does not stretch over the whole axis.
  Chart.prototype.pinWindow = function () {
    if (!this.plot) return;
    var sp = this.span();
    this.plot.setScale("x", { min: sp.start, max: sp.end });
  };

  // setSpan zooms to [start, end] (unix seconds), or back to the page's range with null: the
  // chart drops its points and loads the new span at a step that fits its width.
  Chart.prototype.setSpan = function (zoom) {
    this.zoom = zoom;
    this.gen++;
    if (this.inflight && this.inflight.abort) this.inflight.abort();
    this.inflight = null;
    this.lastTs = 0;
    this.lastGridTs = 0;
    if (zoom) this.el.setAttribute("data-zoomed", "true");
    else this.el.removeAttribute("data-zoomed");
    this.pinWindow();
    this.load(true);
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
      var sp = self.span();
      var step = stepFor(sp.end - sp.start, self.plotWidth());
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

  // peers are the charts that zoom together with c: those showing the same range.
  function peers(c) {
    var out = [];
    charts.forEach(function (o) {
      if (o.el.isConnected && o.rangeS === c.rangeS && !!o.fixed === !!c.fixed) out.push(o);
    });
    return out;
  }

  // zoomCharts zooms c and its peers to [start, end] and puts the span in the address bar
  // (?from=&to=, the page's other parameters kept), so reloading or sharing shows it.
  function zoomCharts(c, start, end) {
    if (!(end > start)) return;
    peers(c).forEach(function (o) {
      o.setSpan({ start: start, end: end });
    });
    try {
      var u = new URL(window.location.href);
      u.searchParams.delete("range");
      u.searchParams.set("from", String(start));
      u.searchParams.set("to", String(end));
      window.history.replaceState(window.history.state, "", u.pathname + u.search + u.hash);
    } catch (e) {
      /* no URL API: the zoom still works, it is just not in the address bar */
    }
  }

  // resetZoom puts c and its peers back on the page's range, and the address bar on the
  // page's URL.
  function resetZoom(c) {
    peers(c).forEach(function (o) {
      if (o.zoom) o.setSpan(null);
    });
    try {
      window.history.replaceState(window.history.state, "", pageURL);
    } catch (e) {
      /* see zoomCharts */
    }
  }

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

  // Exposed for debugging in the console, for anyone extending the UI, and for the browser
  // tests.
  window.redwatch = {
    format: {
      bytes: formatBytes,
      bytesPerSec: formatBytesPerSec,
      percent: formatPercent,
      number: formatNumber,
      ops: formatOps,
      perSec: formatPerSec,
      duration: formatDuration,
      time: formatTime,
      utc: formatUTC,
      forUnit: formatterFor,
    },
    stepFor: stepFor,
    charts: function () {
      return Array.from(charts);
    },
  };

  // On a phone the nav scrolls sideways: keep the current page's item in view.
  function showCurrentNav() {
    var cur = document.querySelector('.nav > ul > li > [aria-current="page"], .nav .is-current');
    var ul = cur && cur.closest(".nav > ul");
    if (!ul) return;
    var r = cur.getBoundingClientRect(), u = ul.getBoundingClientRect();
    if (r.right > u.right - 24) ul.scrollLeft += r.right - u.right + 24;
  }

  function start() {
    updateToggles();
    initRangeForms(document);
    initCharts(document);
    localTitles(document.body);
    showCurrentNav();
    window.addEventListener("resize", showCurrentNav);
    // htmx:load fires for every piece of content htmx adds to the page.
    document.addEventListener("htmx:load", function (e) {
      var t = e.target && e.target.querySelectorAll ? e.target : document;
      initRangeForms(t);
      initCharts(t);
      localTitles(t);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* ---- explore ---- */
// /explore (views/pages/explore.templ): fills the query box's datalist with metric and label
// names, and draws [data-explore]'s MetricsQL result from /api/v1/query_range as a uPlot chart
// (legend from labels) and a table (labels, last value). API errors show in #explore-error.
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return { status: "error", error: "HTTP " + r.status }; }).then(function (b) {
        if (!r.ok || b.status !== "success") throw new Error(b.error || "HTTP " + r.status);
        return b.data;
      });
    });
  }

  function fillNames(list) {
    Promise.all([getJSON("/api/v1/label/__name__/values"), getJSON("/api/v1/labels")]).then(function (d) {
      var seen = {};
      d[0].concat(d[1]).forEach(function (n) {
        if (seen[n] || n === "__name__") return;
        seen[n] = true;
        var o = document.createElement("option");
        o.value = n;
        list.appendChild(o);
      });
    }).catch(function () {});
  }

  // seriesLabel names a result series as PromQL prints it: name{k="v", ...}; {} without any.
  function seriesLabel(m) {
    var parts = Object.keys(m).filter(function (k) { return k !== "__name__"; }).sort().map(function (k) {
      return k + '="' + m[k] + '"';
    });
    var name = m.__name__ || "";
    return parts.length ? name + "{" + parts.join(", ") + "}" : name || "{}";
  }

  function showError(msg) {
    var e = document.getElementById("explore-error");
    if (e) e.textContent = msg;
  }

  function run(el) {
    var now = Math.floor(Date.now() / 1000);
    var end = parseInt(el.getAttribute("data-end"), 10) || now;
    var span = parseInt(el.getAttribute("data-span"), 10) || 3600;
    var start = end - span;
    var width = el.clientWidth || 800;
    var step = Math.max(10, Math.ceil(span / Math.max(100, Math.floor(width / 2))));
    var q = new URLSearchParams({ query: el.getAttribute("data-explore"), start: start, end: end, step: step + "s" });
    getJSON("/api/v1/query_range?" + q).then(function (d) { draw(el, d.result || [], step); }).catch(function (e) {
      showError(e.message);
      el.setAttribute("data-state", "error");
    });
  }

  function draw(el, result, step) {
    var times = {};
    result.forEach(function (s) { s.values.forEach(function (v) { times[v[0]] = true; }); });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    var index = {};
    xs.forEach(function (t, i) { index[t] = i; });
    var data = [xs];
    var cs = getComputedStyle(document.documentElement);
    var series = [{}];
    var body = el.querySelector("tbody");
    body.textContent = "";
    result.forEach(function (s, n) {
      var ys = new Array(xs.length).fill(null);
      s.values.forEach(function (v) { ys[index[v[0]]] = parseFloat(v[1]); });
      data.push(ys);
      var label = seriesLabel(s.metric);
      series.push({ label: label, stroke: cs.getPropertyValue("--c" + (n % 6 + 1)).trim() || "#36c", width: 1.5, spanGaps: false });
      var tr = document.createElement("tr");
      var last = s.values.length ? s.values[s.values.length - 1] : null;
      [label, last ? last[1] : "unknown"].forEach(function (t) {
        var td = document.createElement("td");
        td.textContent = t;
        tr.appendChild(td);
      });
      tr.setAttribute("data-testid", "explore-row");
      body.appendChild(tr);
    });
    var chart = el.querySelector(".explore-chart");
    chart.textContent = "";
    if (!result.length) {
      chart.textContent = "No series match.";
      el.setAttribute("data-state", "empty");
      return;
    }
    new window.uPlot({ width: chart.clientWidth || 800, height: 320, series: series,
      scales: { x: { time: true } }, legend: { live: true } }, data, chart);
    el.setAttribute("data-state", "done");
  }

  function start() {
    var list = document.querySelector("[data-explore-names]");
    if (list) fillNames(list);
    var el = document.querySelector("[data-explore]");
    if (el) run(el);
  }

  // uPlot loads deferred: wait for the document, then for it.
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
