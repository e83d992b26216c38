/* Downloads of the page's figures (PNG, SVG, CSV of their numbers) and tables (CSV), all in the browser: no server
   round trip, so they work offline and on Spaces alike. demo/exports.py wires the buttons to `window.s2sExport` and
   puts this script into the page (with its messages in both languages where MESSAGES stands).

   Images: Plotly's own static export (`Plotly.downloadImage`, from the plotly.js Gradio loads with the page).
   Figure CSV: long format, one row per point (heatmaps: one row per cell), built from the drawn figure's data.
   CSV: RFC 4180 quoting, CRLF line ends, a UTF-8 byte order mark (so that Excel reads Chinese). Against spreadsheet
   formula injection (OWASP "CSV Injection") a text cell that starts with = + - @, a tab or a carriage return gets
   a leading apostrophe; numbers (JavaScript numbers, e.g. the log-probabilities -1.23) stay numbers. */
(function () {
  "use strict";
  var MESSAGES = /*MESSAGES*/ {en: {}, zh: {}};
  var FORMULA = /^[=+\-@\t\r]/;
  var TAGS = /<\/?(?:b|i|em|sup|sub|span|a|s|u)(?:\s[^>]*)?>/gi; /* the HTML subset plotly draws in labels */
  var timer = null;

  function lang() { return /^zh/i.test(document.documentElement.lang || "") ? "zh" : "en"; }

  function say(key, detail) {
    var text = (MESSAGES[lang()] || {})[key] || MESSAGES.en[key] || key;
    var box = document.getElementById("s2s_export_note");
    if (!box) {
      box = document.createElement("div");
      box.id = "s2s_export_note";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      box.style.cssText = "position: fixed; left: 50%; bottom: 1.5rem; transform: translateX(-50%); z-index: 1000;" +
        "max-width: min(32rem, 92vw); padding: 0.7em 1.1em; border-radius: 8px; background: #1f2937; color: #fff;" +
        "font: 15px/1.4 sans-serif; box-shadow: 0 4px 14px rgba(0,0,0,0.25); display: none;";
      document.body.appendChild(box);
    }
    box.textContent = text + (detail ? " " + detail : "");
    box.style.display = "block";
    clearTimeout(timer);
    timer = setTimeout(function () { box.style.display = "none"; }, 6000);
    return text;
  }

  /* one CSV cell: numbers as they are, text neutralised (formula injection) and quoted when it must be */
  function cell(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return isFinite(v) ? String(v) : "";
    var s = String(v);
    if (FORMULA.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function csv(rows) {
    return rows.map(function (row) { return row.map(cell).join(","); }).join("\r\n") + "\r\n";
  }

  function save(text, filename) {
    var url = URL.createObjectURL(new Blob(["\ufeff" + text], {type: "text/csv;charset=utf-8"}));
    var a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { a.remove(); URL.revokeObjectURL(url); }, 1000);
  }

  /* a plotly label as plain text: line breaks become spaces, markup goes, entities (&lt;eos&gt;) are decoded */
  function plain(v) {
    if (typeof v !== "string" || !/[<&]/.test(v)) return v;
    var t = document.createElement("textarea");
    t.innerHTML = v.replace(/<br\s*\/?>/gi, " ").replace(TAGS, "");
    return t.value;
  }

  function graph(elemId) {
    var root = document.getElementById(elemId);
    var gd = root && root.querySelector(".js-plotly-plot");
    return gd && gd.data && gd.data.length && window.Plotly ? gd : null;
  }

  function list(v) {
    if (Array.isArray(v)) return v;
    if (v && ArrayBuffer.isView(v)) return Array.prototype.slice.call(v);
    return null;
  }

  function axis(layout, ref, letter) { /* "x2" -> layout.xaxis2 */
    return layout[letter + "axis" + (ref && ref.length > 1 ? ref.slice(1) : "")] || {};
  }

  /* {value: tick text} of an axis with ticks of its own, or of the axis it matches (shared axes of subplots) */
  function tickLabels(layout, ref, letter) {
    var ax = axis(layout, ref, letter);
    for (var hops = 0; ax && !(ax.ticktext && ax.tickvals) && ax.matches && hops < 5; hops++) {
      ax = axis(layout, ax.matches, letter);
    }
    if (!ax || !ax.ticktext || !ax.tickvals) return null;
    var map = {};
    list(ax.tickvals).forEach(function (v, i) { map[String(v)] = plain(ax.ticktext[i]); });
    return map;
  }

  /* with several panels: each trace's panel, named by its subplot title (or else its y axis title) */
  function panels(gd) {
    var layout = gd._fullLayout || {}, seen = {};
    gd._fullData.forEach(function (t) { seen[(t.xaxis || "x") + (t.yaxis || "y")] = true; });
    if (Object.keys(seen).length < 2) return null;
    var notes = (layout.annotations || []).filter(function (a) {
      return a.xref === "paper" && a.yref === "paper" && a.text;
    });
    return function (t) {
      var dx = axis(layout, t.xaxis, "x").domain || [0, 1], ya = axis(layout, t.yaxis, "y");
      var dy = ya.domain || [0, 1], best = null;
      notes.forEach(function (a) {
        if (a.x >= dx[0] - 1e-6 && a.x <= dx[1] + 1e-6 && a.y >= dy[1] - 1e-6 && (!best || a.y < best.y)) best = a;
      });
      if (best) return plain(best.text);
      return plain((ya.title && ya.title.text) || "") || (t.xaxis || "x") + (t.yaxis || "y");
    };
  }

  function value(v) { /* a point's text or custom data as one cell */
    if (Array.isArray(v)) return v.length === 1 ? value(v[0]) : v.map(value).join("; ");
    return plain(v);
  }

  function traceRows(trace, full, layout, panel) {
    var base = {panel: panel ? panel(full) : "", trace: plain(trace.name || full.name || ""), type: full.type || ""};
    var xl = tickLabels(layout, full.xaxis, "x"), yl = tickLabels(layout, full.yaxis, "y"), rows = [];
    var text = trace.text !== undefined ? trace.text : trace.hovertext, custom = trace.customdata;
    function add(x, y, extra) {
      var labels = {x_label: xl ? xl[String(x)] : "", y_label: yl ? yl[String(y)] : ""};
      rows.push(Object.assign({}, base, {x: x, y: y}, labels, extra));
    }
    var z = list(trace.z);
    if (z && list(z[0])) { /* heatmap: one row per cell */
      var xs = list(trace.x), ys = list(trace.y);
      z.forEach(function (zrow, r) {
        list(zrow).forEach(function (zv, c) {
          if (zv === null || zv === undefined) return;
          add(xs ? xs[c] : c, ys ? ys[r] : r, {z: zv, text: value(text && text[r] ? text[r][c] : ""),
                                               customdata: value(custom && custom[r] ? custom[r][c] : "")});
        });
      });
      return rows;
    }
    var px = list(trace.x), py = list(trace.y), n = Math.max(px ? px.length : 0, py ? py.length : 0);
    var missing = function (v) { return v === null || v === undefined; }, segment = 1;
    var broken = (px || []).some(missing); /* lines drawn as segments (the beam tree's edges): number them */
    for (var i = 0; i < n; i++) {
      var x = px ? px[i] : i, y = py ? py[i] : i;
      if (missing(x) && missing(y)) { segment++; continue; }
      add(x, y, {segment: broken ? segment : "", text: value(Array.isArray(text) ? text[i] : (text || "")),
                 customdata: value(custom ? custom[i] : "")});
    }
    return rows;
  }

  var COLUMNS = ["panel", "trace", "type", "segment", "x", "x_label", "y", "y_label", "z", "text", "customdata"];
  var ALWAYS = {trace: true, x: true, y: true};

  function figureRows(gd) {
    var layout = gd._fullLayout || {}, panel = panels(gd), points = [];
    gd.data.forEach(function (trace, i) {
      points = points.concat(traceRows(trace, gd._fullData[i] || trace, layout, panel));
    });
    var blank = function (v) { return v === "" || v === null || v === undefined; };
    var columns = COLUMNS.filter(function (c) {
      return ALWAYS[c] || points.some(function (p) { return !blank(p[c]); });
    });
    return points.length ? [columns].concat(points.map(function (p) {
      return columns.map(function (c) { return p[c]; });
    })) : null;
  }

  function image(elemId, format, name) {
    var gd = graph(elemId);
    if (!gd) return say("export_msg_plot_empty");
    var full = gd._fullLayout || {};
    return window.Plotly.downloadImage(gd, {format: format, filename: "s2s-" + name, width: full.width,
                                            height: full.height, scale: format === "png" ? 2 : 1})
      .catch(function (err) { say("export_msg_failed", String(err && err.message || err)); });
  }

  function figureCsv(elemId, name) {
    var gd = graph(elemId), rows = gd && figureRows(gd);
    if (!rows) return say("export_msg_plot_empty");
    save(csv(rows), "s2s-" + name + ".csv");
  }

  function unwrap(v) { return v !== null && typeof v === "object" && "value" in v ? v.value : v; }

  function tableCsv(table, name) {
    var v = table && table.headers === undefined && table.value ? table.value : table || {};
    var headers = (v.headers || []).map(unwrap), data = list(v.data) || (Array.isArray(v) ? v : []);
    var rows = data.map(function (r) { return (list(r) || []).map(unwrap); }).filter(function (r) {
      return r.some(function (c) { return c !== null && c !== undefined && c !== ""; });
    });
    if (!rows.length) return say("export_msg_table_empty");
    save(csv((headers.length ? [headers] : []).concat(rows)), "s2s-" + name + ".csv");
  }

  window.s2sExport = {image: image, figureCsv: figureCsv, tableCsv: tableCsv, csv: csv, figureRows: figureRows,
                      say: say};
})();
