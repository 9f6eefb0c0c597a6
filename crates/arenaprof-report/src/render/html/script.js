// arenaprof HTML report: zoom, search and sorting. The page reads without
// this script; it only enhances it. State can be given in the URL fragment:
// #zoom=FROM,TO (milliseconds), search=TEXT, flame=FRAME (a click on the widest
// frame of that name) and sort=TABLE-ID.COLUMN.asc|desc (a click on that
// header, once or twice), e.g. #zoom=100,300&search=main
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var all = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  // Every chart's series laid out? (a headless browser checks this)
  var charts = all('svg.chart'), ok = 0;
  charts.forEach(function (svg) {
    var series = all('.series', svg), drawn = 0;
    series.forEach(function (el) {
      var b = el.getBBox();
      if (b.width > 0 || b.height > 0) drawn++;
    });
    var good = series.length > 0 && drawn === series.length;
    svg.setAttribute('data-rendered', good ? 'true' : 'false');
    if (good) ok++;
  });
  document.body.setAttribute('data-charts-rendered', ok + '/' + charts.length);

  function fmtNs(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(2) + ' s';
    if (ns >= 1e6) return (ns / 1e6).toFixed(1) + ' ms';
    if (ns >= 1e3) return (ns / 1e3).toFixed(1) + ' \u00b5s';
    return Math.round(ns) + ' ns';
  }

  // ---- zoom: one time range for every timeline chart ----
  var tcharts = all('svg.tchart');
  var T0 = Infinity, T1 = -Infinity;
  tcharts.forEach(function (svg) {
    T0 = Math.min(T0, +svg.getAttribute('data-t0'));
    T1 = Math.max(T1, +svg.getAttribute('data-t1'));
  });
  var zoom = null;

  // Mark labels into rows so that none overlaps another (the same rule as
  // the renderer's, with measured widths).
  function stagger(svg, a, b) {
    var band = svg.getAttribute('data-band').split(',').map(Number);
    var L = +svg.getAttribute('data-l'), PW = +svg.getAttribute('data-pw');
    var right = L + PW + 20 - 2, rows = [];
    var labels = all('text.ml', svg).map(function (el) {
      var t = +el.getAttribute('data-t');
      return { el: el, t: t, x: L + (t - a) / (b - a) * PW, w: el.getComputedTextLength() };
    }).sort(function (p, q) { return p.x - q.x; });
    labels.forEach(function (l) {
      if (l.t < a || l.t > b) { l.el.setAttribute('visibility', 'hidden'); return; }
      var r = l.x + 3 + l.w <= right;
      var span = r ? [l.x + 3, l.x + 3 + l.w] : [l.x - 3 - l.w, l.x - 3];
      var row = -1;
      for (var i = 0; i < rows.length && row < 0; i++) {
        if (rows[i].every(function (s) { return span[1] + 6 <= s[0] || s[1] + 6 <= span[0]; })) row = i;
      }
      if (row < 0 && rows.length < band[2]) { rows.push([]); row = rows.length - 1; }
      if (row < 0) { l.el.setAttribute('visibility', 'hidden'); return; }
      rows[row].push(span);
      l.el.removeAttribute('visibility');
      l.el.setAttribute('x', (r ? span[0] : span[1]).toFixed(1));
      l.el.setAttribute('text-anchor', r ? 'start' : 'end');
      l.el.setAttribute('y', (band[0] + (row + 1) * band[1] - 3).toFixed(1));
    });
  }

  function applyZoom(a, b) {
    tcharts.forEach(function (svg) {
      var t0 = +svg.getAttribute('data-t0'), t1 = +svg.getAttribute('data-t1');
      var span = Math.max(t1 - t0, 1), L = +svg.getAttribute('data-l'), PW = +svg.getAttribute('data-pw');
      all('svg.plot', svg).forEach(function (plot) {
        var vb = plot.getAttribute('viewBox').split(' ');
        var x = (a - t0) / span * 1000, w = Math.max((b - a) / span * 1000, 1e-6);
        plot.setAttribute('viewBox', x.toFixed(4) + ' ' + vb[1] + ' ' + w.toFixed(4) + ' ' + vb[3]);
      });
      all('text.tick', svg).forEach(function (el) {
        // The whole range shows the renderer's own labels again.
        if (el.getAttribute('data-full') === null) el.setAttribute('data-full', el.textContent);
        var k = +el.getAttribute('data-k');
        el.textContent = a <= t0 && b >= t1 ? el.getAttribute('data-full') : fmtNs(a + (b - a) * k / 4);
      });
      // Jump labels, biggest first; one that would overlap a label
      // already shown stays hidden.
      var shown = [];
      all('text.jl', svg).forEach(function (el) {
        var t = +el.getAttribute('data-t'), x = L + (t - a) / (b - a) * PW;
        if (t < a || t > b) { el.setAttribute('visibility', 'hidden'); return; }
        var nearLeft = x - L < 90;
        el.setAttribute('x', (nearLeft ? x + 9 : x - 9).toFixed(1));
        el.setAttribute('text-anchor', nearLeft ? 'start' : 'end');
        var r = el.getBBox();
        var clear = shown.every(function (q) {
          return r.y + r.height <= q.y || q.y + q.height <= r.y || r.x + r.width + 4 <= q.x || q.x + q.width + 4 <= r.x;
        });
        if (clear) { shown.push(r); el.removeAttribute('visibility'); } else el.setAttribute('visibility', 'hidden');
      });
      stagger(svg, a, b);
      svg.setAttribute('data-shown', Math.round(a) + ',' + Math.round(b));
    });
  }

  function setZoom(a, b, fromSliders) {
    if (!(T1 > T0)) return;
    a = Math.max(T0, Math.min(a, T1));
    b = Math.max(T0, Math.min(b, T1));
    if (b < a) { var t = a; a = b; b = t; }
    if (b - a < 1) b = Math.min(T1, a + 1);
    var full = a <= T0 && b >= T1;
    zoom = full ? null : [a, b];
    applyZoom(a, b);
    document.body.setAttribute('data-zoom', full ? 'full' : Math.round(a) + ',' + Math.round(b));
    $('zoom-range').value = fmtNs(a) + ' \u2013 ' + fmtNs(b);
    if (!fromSliders) {
      $('zoom-from').value = Math.round((a - T0) / (T1 - T0) * 1000);
      $('zoom-to').value = Math.round((b - T0) / (T1 - T0) * 1000);
    }
    saveState();
  }

  function sliders() {
    var f = +$('zoom-from').value, t = +$('zoom-to').value;
    setZoom(T0 + (T1 - T0) * Math.min(f, t) / 1000, T0 + (T1 - T0) * Math.max(f, t) / 1000, true);
  }

  // Drag across any timeline chart to zoom to that range.
  tcharts.forEach(function (svg) {
    var L = +svg.getAttribute('data-l'), PW = +svg.getAttribute('data-pw'), start = null, sel = null;
    function at(ev) {
      var p = svg.createSVGPoint();
      p.x = ev.clientX; p.y = ev.clientY;
      return p.matrixTransform(svg.getScreenCTM().inverse()).x;
    }
    function toT(x) {
      var a = zoom ? zoom[0] : T0, b = zoom ? zoom[1] : T1;
      return a + (Math.max(L, Math.min(x, L + PW)) - L) / PW * (b - a);
    }
    svg.addEventListener('mousedown', function (ev) {
      var x = at(ev);
      if (x < L || x > L + PW) return;
      ev.preventDefault();
      start = x;
      // A copy of the chart's background rect: no namespace to spell out.
      sel = svg.querySelector('rect').cloneNode(false);
      sel.setAttribute('class', 'sel');
      sel.setAttribute('stroke', 'none');
      sel.setAttribute('y', 0);
      sel.setAttribute('height', svg.viewBox.baseVal.height);
      sel.setAttribute('fill', 'rgba(0,114,178,.15)');
      sel.setAttribute('x', x); sel.setAttribute('width', 0);
      svg.appendChild(sel);
    });
    svg.addEventListener('mousemove', function (ev) {
      if (start === null) return;
      var x = Math.max(L, Math.min(at(ev), L + PW));
      sel.setAttribute('x', Math.min(x, start)); sel.setAttribute('width', Math.abs(x - start));
    });
    function end(ev) {
      if (start === null) return;
      var x = at(ev), s = start;
      start = null;
      sel.parentNode.removeChild(sel);
      if (Math.abs(x - s) > 3) setZoom(toT(Math.min(x, s)), toT(Math.max(x, s)));
    }
    svg.addEventListener('mouseup', end);
    svg.addEventListener('mouseleave', end);
  });

  // ---- search: flame graph frames and table rows ----
  var frames = all('#flame-graph .fr');
  function setSearch(q) {
    q = (q || '').toLowerCase();
    var matched = [], n = 0;
    frames.forEach(function (el) {
      var hit = q !== '' && el.getAttribute('data-n').toLowerCase().indexOf(q) >= 0;
      el.classList.toggle('match', hit);
      if (hit) { n++; matched.push([+el.getAttribute('data-x'), +el.getAttribute('data-w')]); }
    });
    var flame = $('flame-graph');
    if (flame) flame.classList.toggle('searching', q !== '');
    // Share of the total under matched frames (nested matches counted once).
    matched.sort(function (p, r) { return p[0] - r[0]; });
    var share = 0, reach = -1;
    matched.forEach(function (m) {
      var s = Math.max(m[0], reach), e = m[0] + m[1];
      if (e > s) { share += e - s; reach = e; }
    });
    var rows = 0;
    all('table.searchable').forEach(function (table) {
      all('tbody tr', table).forEach(function (tr) {
        var text = tr.textContent;
        all('[title]', tr).forEach(function (el) { text += '\n' + el.getAttribute('title'); });
        var hit = q !== '' && text.toLowerCase().indexOf(q) >= 0;
        tr.classList.toggle('match', hit);
        tr.classList.toggle('nomatch', q !== '' && !hit);
        if (hit) rows++;
      });
    });
    $('search-info').textContent = q === '' ? '' :
      n + ' frames (' + (share * 100).toFixed(1) + '% of the flame graph), ' + rows + ' table rows match';
    document.body.setAttribute('data-search', q);
    saveState();
  }

  // ---- flame graph: click a frame to widen it to the full width ----
  var flameZoom = null;
  function zoomFlame(el) {
    var x = el ? +el.getAttribute('data-x') : 0, w = el ? +el.getAttribute('data-w') : 1;
    if (!(w > 0)) return;
    flameZoom = el && w < 1 ? el.getAttribute('data-n') : null;
    frames.forEach(function (f) {
      var l = (+f.getAttribute('data-x') - x) / w, r = l + +f.getAttribute('data-w') / w;
      // Only the frames over the same stacks stay: callers (wider) and callees.
      var inside = r > 1e-9 && l < 1 - 1e-9;
      f.hidden = !inside;
      if (inside) {
        f.style.left = (Math.max(l, 0) * 100).toFixed(4) + '%';
        f.style.width = ((Math.min(r, 1) - Math.max(l, 0)) * 100).toFixed(4) + '%';
      }
    });
    var flame = $('flame-graph');
    if (flame) flame.setAttribute('data-zoom', flameZoom || '');
    saveState();
  }
  frames.forEach(function (f) {
    f.addEventListener('click', function () { zoomFlame(f.getAttribute('data-n') === 'all' ? null : f); });
  });

  // ---- sortable tables: click a header ----
  all('table.sortable').forEach(function (table) {
    var ths = all('thead th', table);
    ths.forEach(function (th, col) {
      th.title = 'sort by ' + th.textContent;
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') === 'descending';
        ths.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (tr) {
          var td = tr.cells[col];
          if (!td) return '';
          var v = td.getAttribute('data-v');
          return v === null ? td.textContent : +v;
        };
        rows.sort(function (p, r) {
          var x = key(p), y = key(r), c;
          if (typeof x === 'number' && typeof y === 'number') c = x - y;
          else c = String(x).localeCompare(String(y));
          return asc ? c : -c;
        });
        rows.forEach(function (tr) { body.appendChild(tr); });
      });
    });
  });

  // ---- state in the URL fragment ----
  var restoring = false;
  function saveState() {
    if (restoring || !history.replaceState) return;
    var parts = [];
    if (zoom) parts.push('zoom=' + (zoom[0] / 1e6).toFixed(3) + ',' + (zoom[1] / 1e6).toFixed(3));
    var q = $('search').value;
    if (q) parts.push('search=' + encodeURIComponent(q));
    if (flameZoom) parts.push('flame=' + encodeURIComponent(flameZoom));
    try { history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname + location.search); } catch (e) { /* file: URLs may refuse */ }
  }
  function restore() {
    restoring = true;
    var h = location.hash.replace(/^#/, ''), z = null, q = '', sort = null, fz = null;
    h.split('&').forEach(function (kv) {
      var i = kv.indexOf('='), k = kv.slice(0, i), v = kv.slice(i + 1);
      if (k === 'zoom') {
        var ab = v.split(',').map(Number);
        if (ab.length === 2 && isFinite(ab[0]) && isFinite(ab[1])) z = [ab[0] * 1e6, ab[1] * 1e6];
      } else if (k === 'flame') {
        try { fz = decodeURIComponent(v); } catch (e) { fz = v; }
      } else if (k === 'sort') {
        sort = v.split('.');
      } else if (k === 'search') {
        try { q = decodeURIComponent(v); } catch (e) { q = v; }
      }
    });
    if (z) setZoom(z[0], z[1]); else if (T1 > T0) setZoom(T0, T1);
    $('search').value = q;
    setSearch(q);
    // The widest frame of that name.
    var pick = null;
    frames.forEach(function (f) {
      if (fz !== null && f.getAttribute('data-n') === fz && (!pick || +f.getAttribute('data-w') > +pick.getAttribute('data-w'))) pick = f;
    });
    zoomFlame(pick);
    var table = sort && $(sort[0]);
    var th = table && table.tHead && table.tHead.rows[0].cells[+sort[1]];
    if (th) {
      th.click();
      if (sort[2] === 'asc') th.click();
    }
    restoring = false;
  }

  var controls = $('controls');
  if (controls) {
    controls.hidden = false;
    $('zoom-from').addEventListener('input', sliders);
    $('zoom-to').addEventListener('input', sliders);
    $('zoom-reset').addEventListener('click', function () { setZoom(T0, T1); });
    $('search').addEventListener('input', function () { setSearch(this.value); });
    if (!(T1 > T0)) $('zoom').hidden = true;
    window.addEventListener('hashchange', restore);
    restore();
  }
})();
