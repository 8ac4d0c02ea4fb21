// medkit report: sortable tables and the document viewer (gold vs predicted entities), rendered
// a page at a time from the JSON in #report-data. Offsets are code points: texts are split with
// Array.from (one element per code point, astral characters included), never indexed as UTF-16.
// Opened with #selftest, the page checks itself and writes the result into #selftest-result.
(function () {
  'use strict';
  var PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1',
    '#ff9da7', '#9c755f', '#bab0ac'];
  var ICONS = { exact: '✓', wrong_label: '≠', wrong_boundary: '↔', wrong_label_boundary: '≠↔',
    missed: '✗', spurious: '+' };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // Sortable tables: click a header; numbers sort as numbers, the rest as text.
  function initSort(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var dir = th.getAttribute('data-dir') === 'desc' ? 'asc' : 'desc';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) { return r.cells[col] ? r.cells[col].getAttribute('data-v') : ''; };
        var numeric = rows.every(function (r) { var v = key(r); return v === '' || isFinite(+v); });
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), c;
          if (numeric) { c = (x === '' ? -Infinity : +x) - (y === '' ? -Infinity : +y); }
          else { c = x < y ? -1 : x > y ? 1 : 0; }
          return dir === 'asc' ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), initSort);

  var dataEl = document.getElementById('report-data');
  var D = dataEl ? JSON.parse(dataEl.textContent) : null;
  var docsEl = document.getElementById('docs');
  if (!D || !docsEl) { selftest(null); return; }

  var state = { label: -1, kind: -1, text: '', page: 0, size: 25 };
  var $ = function (id) { return document.getElementById(id); };

  function entMatches(e, label, kind) {
    return (label < 0 || e[0] === label) && (kind < 0 || e[1] === kind);
  }
  function docMatches(d, label, kind, text) {
    if (text && d.u.toLowerCase().indexOf(text) < 0 && d.t.toLowerCase().indexOf(text) < 0) {
      return false;
    }
    if (label < 0 && kind < 0) { return true; }
    return d.g.some(function (e) { return entMatches(e, label, kind); }) ||
      d.p.some(function (e) { return entMatches(e, label, kind); });
  }
  function matching() {
    var out = [];
    for (var i = 0; i < D.docs.length; i++) {
      if (docMatches(D.docs[i], state.label, state.kind, state.text)) { out.push(i); }
    }
    return out;
  }

  // The options with the number of documents each would show, given the other filter.
  function fillSelect(sel, names, current, count) {
    var html = '<option value="-1">all (' + count(-1) + ')</option>';
    names.forEach(function (n, i) {
      html += '<option value="' + i + '"' + (i === current ? ' selected' : '') + '>' + esc(n) +
        ' (' + count(i) + ')</option>';
    });
    sel.innerHTML = html;
    sel.value = String(current);
  }
  function countDocs(label, kind) {
    var n = 0;
    for (var i = 0; i < D.docs.length; i++) {
      if (docMatches(D.docs[i], label, kind, state.text)) { n++; }
    }
    return n;
  }
  function fillFilters() {
    fillSelect($('f-label'), D.labels, state.label, function (l) { return countDocs(l, state.kind); });
    fillSelect($('f-kind'), D.kindTitles, state.kind, function (k) { return countDocs(state.label, k); });
  }

  // One side of a document: the text cut at every entity boundary; each piece covered by
  // entities is a <mark> naming them (data-e), and a label badge follows each entity's end.
  function side(d, ents, prefix) {
    var cps = Array.from(d.t);
    var n = cps.length;
    var cuts = [0, n];
    ents.forEach(function (e) {
      for (var k = 0; k < e[3].length; k++) { cuts.push(Math.max(0, Math.min(n, e[3][k]))); }
    });
    cuts = cuts.sort(function (a, b) { return a - b; })
      .filter(function (v, i, a) { return i === 0 || v !== a[i - 1]; });
    var filtering = state.label >= 0 || state.kind >= 0;
    var html = '';
    for (var c = 0; c + 1 < cuts.length; c++) {
      var a = cuts[c], b = cuts[c + 1];
      var piece = esc(cps.slice(a, b).join(''));
      var cover = [], ending = [];
      ents.forEach(function (e, i) {
        var sp = e[3];
        for (var k = 0; k < sp.length; k += 2) {
          if (sp[k] <= a && b <= sp[k + 1]) { cover.push(i); }
        }
        if (sp.length && sp[sp.length - 1] === b) { ending.push(i); }
      });
      if (!cover.length) { html += piece; }
      else {
        var e = ents[cover[0]], color = PALETTE[e[0] % PALETTE.length];
        var kind = D.kinds[e[1]];
        var dim = filtering && !cover.some(function (i) {
          return entMatches(ents[i], state.label, state.kind);
        });
        var title = cover.map(function (i) {
          return D.labels[ents[i][0]] + ' — ' + D.kindTitles[ents[i][1]];
        }).join('; ');
        html += '<mark class="ent k-' + kind + (cover.length > 1 ? ' multi' : '') +
          (dim ? ' dim' : '') + '" style="background:' + color + '40" data-e="' +
          cover.map(function (i) { return prefix + i; }).join(' ') + '" title="' + esc(title) +
          '">' + piece + '</mark>';
      }
      ending.forEach(function (i) {
        var e = ents[i];
        var dimB = filtering && !entMatches(e, state.label, state.kind);
        html += '<span class="lb' + (dimB ? ' dim' : '') + '" style="background:' +
          PALETTE[e[0] % PALETTE.length] + '" title="' + esc(D.kindTitles[e[1]]) + '">' +
          esc(D.labels[e[0]]) + ' ' + ICONS[D.kinds[e[1]]] + '</span>';
      });
    }
    return html;
  }

  function renderDoc(i) {
    var d = D.docs[i];
    var errs = 0;
    d.g.forEach(function (e) { if (e[1] !== 0) { errs++; } });
    d.p.forEach(function (e) { if (e[1] === 5) { errs++; } });
    return '<div class="doc" data-doc="' + i + '"><div class="dh">#' + (i + 1) + ' <b>' +
      esc(d.u) + '</b> · ' + d.g.length + ' gold, ' + d.p.length + ' predicted, ' + errs +
      ' error' + (errs === 1 ? '' : 's') + '</div><div class="cols"><div class="col gold">' +
      '<div class="ch">gold</div>' + side(d, d.g, 'g') + '</div><div class="col pred">' +
      '<div class="ch">predicted</div>' + side(d, d.p, 'p') + '</div></div></div>';
  }

  var shown = [];
  function render() {
    shown = matching();
    var pages = Math.max(1, Math.ceil(shown.length / state.size));
    state.page = Math.max(0, Math.min(state.page, pages - 1));
    var from = state.page * state.size;
    var html = '';
    for (var i = from; i < Math.min(shown.length, from + state.size); i++) {
      html += renderDoc(shown[i]);
    }
    docsEl.innerHTML = html || '<p class="note">No document matches.</p>';
    $('page-info').textContent = 'page ' + (state.page + 1) + ' of ' + pages;
    $('prev').disabled = state.page === 0;
    $('next').disabled = state.page >= pages - 1;
    $('match-info').textContent = shown.length + ' of ' + D.docs.length + ' documents';
  }
  function refilter() {
    state.page = 0;
    fillFilters();
    render();
  }

  $('f-label').addEventListener('change', function () { state.label = +this.value; refilter(); });
  $('f-kind').addEventListener('change', function () { state.kind = +this.value; refilter(); });
  var timer = null;
  $('f-text').addEventListener('input', function () {
    var v = this.value.toLowerCase();
    clearTimeout(timer);
    timer = setTimeout(function () { state.text = v; refilter(); }, 150);
  });
  $('f-size').addEventListener('change', function () { state.size = +this.value; refilter(); });
  $('prev').addEventListener('click', function () { state.page--; render(); });
  $('next').addEventListener('click', function () { state.page++; render(); });

  var t0 = performance.now();
  fillFilters();
  render();
  var firstRenderMs = performance.now() - t0;
  var readyMs = performance.now();

  // #selftest: walk every page unfiltered (documents and entity texts in the DOM), then apply
  // each filter through its <select> and record what is shown.
  function selftest(extra) {
    if (location.hash !== '#selftest') { return; }
    var out = extra || {};
    out.title = document.title;
    try {
      if (D && docsEl) { walk(out); }
    } catch (err) {
      window.__reportErrors.push('selftest: ' + err);
    }
    out.errors = window.__reportErrors;
    out.loadMs = Math.round(performance.now());
    var el = document.getElementById('selftest-result');
    el.textContent = JSON.stringify(out);
  }
  function walk(out) {
    out.documents = D.docs.length;
    out.labels = $('f-label').options.length - 1;
    out.firstRenderMs = Math.round(firstRenderMs * 10) / 10;
    out.readyMs = Math.round(readyMs);
    out.docsOnFirstPage = docsEl.querySelectorAll('.doc').length;
    state.size = 100;
    refilter();
    var pages = Math.ceil(shown.length / state.size);
    out.pages = pages;
    out.docsInDom = 0;
    out.entities = [];
    out.gold = 0;
    out.pred = 0;
    out.scriptsInDocs = 0;
    for (var p = 0; p < pages; p++) {
      state.page = p;
      render();
      out.docsInDom += docsEl.querySelectorAll('.doc').length;
      out.scriptsInDocs += docsEl.querySelectorAll('script').length;
      Array.prototype.forEach.call(docsEl.querySelectorAll('.doc'), function (el) {
        var d = D.docs[+el.getAttribute('data-doc')];
        var texts = {};
        Array.prototype.forEach.call(el.querySelectorAll('mark[data-e]'), function (m) {
          m.getAttribute('data-e').split(' ').forEach(function (id) {
            texts[id] = (texts[id] || '') + m.textContent;
          });
        });
        ['g', 'p'].forEach(function (s) {
          d[s].forEach(function (e, i) {
            if (s === 'g') { out.gold++; } else { out.pred++; }
            if (out.entities.length < 5000) { out.entities.push([d.u, s, i, texts[s + i] || '']); }
          });
        });
      });
    }
    out.marks = docsEl.querySelectorAll('mark').length;
    out.filters = [];
    var pick = function (id, v) {
      var sel = $(id);
      sel.value = String(v);
      sel.dispatchEvent(new Event('change'));
    };
    var t;
    for (var k = -1; k < D.kinds.length; k++) {
      t = performance.now();
      pick('f-kind', k);
      out.filters.push({ kind: k < 0 ? 'all' : D.kinds[k], shown: shown.length,
        ms: Math.round(performance.now() - t),
        inDom: docsEl.querySelectorAll('.doc').length,
        info: $('match-info').textContent });
    }
    pick('f-kind', -1);
    for (var l = 0; l < D.labels.length; l++) {
      t = performance.now();
      pick('f-label', l);
      out.filters.push({ label: D.labels[l], shown: shown.length,
        ms: Math.round(performance.now() - t),
        inDom: docsEl.querySelectorAll('.doc').length,
        dimmed: docsEl.querySelectorAll('.dim').length });
    }
    pick('f-label', -1);
    state.size = 25;
    refilter();
  }
  selftest(null);
})();
