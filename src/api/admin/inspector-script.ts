/**
 * The run inspector's only script (served as /admin/inspector.js; the console's CSP allows same-origin scripts
 * only). It adds two things to pages that read fine without it: the details of the bar under the pointer or the
 * keyboard focus, and — on a live run — the run's event stream: each event re-renders the live part of the page
 * from the server (debounced), until the run ends.
 */
export const INSPECTOR_JS = `'use strict';
(function () {
  function showDetails(target) {
    var g = target && target.closest ? target.closest('svg.timeline g[tabindex]') : null;
    var title = g && g.querySelector('title');
    if (!title) return;
    var svg = g.closest('svg');
    var panel = svg && document.getElementById(svg.id + '-details');
    if (!panel) return;
    // The bar's <title> (what the browser shows on hover without this script): a heading line, then "name: value".
    var lines = title.textContent.split('\\n');
    var dl = document.createElement('dl');
    lines.forEach(function (line, i) {
      var at = line.indexOf(': ');
      var dt = document.createElement('dt'); dt.textContent = i === 0 ? 'what' : at > 0 ? line.slice(0, at) : '';
      var dd = document.createElement('dd'); dd.textContent = i === 0 || at < 0 ? line : line.slice(at + 2);
      dl.appendChild(dt); dl.appendChild(dd);
    });
    panel.replaceChildren(dl);
    panel.hidden = false;
  }
  document.addEventListener('mouseover', function (e) { showDetails(e.target); });
  document.addEventListener('focusin', function (e) { showDetails(e.target); });

  var run = document.getElementById('run');
  if (!run || run.getAttribute('data-live') !== 'true' || !window.EventSource) return;
  var id = run.getAttribute('data-run');
  var state = document.getElementById('live-state');
  var pending = null;
  var fetching = false;
  var again = false;
  var source = new EventSource('/admin/runs/' + id + '/events');

  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch('/admin/runs/' + id + '?fragment=live', { headers: { accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(String(r.status))); })
      .then(function (text) {
        var current = document.getElementById('run-live');
        var focused = document.activeElement && document.activeElement.getAttribute('data-key');
        var box = document.createElement('div');
        box.innerHTML = text;
        var next = box.firstElementChild;
        if (current && next) current.replaceWith(next);
        if (focused) {
          var again2 = document.querySelector('g[data-key="' + CSS.escape(focused) + '"]');
          if (again2) again2.focus();
        }
        if (next && next.getAttribute('data-ended') === 'true') {
          source.close();
          if (state) state.textContent = 'The run has ended.';
        }
      })
      .catch(function () { if (state) state.textContent = 'Live updates paused: reload the page.'; })
      .finally(function () {
        fetching = false;
        if (again) { again = false; refresh(); }
      });
  }
  source.onmessage = function (e) {
    var type = '';
    try { type = JSON.parse(e.data).type; } catch (err) { type = ''; }
    if (type === 'agent.delta') return;
    clearTimeout(pending);
    pending = setTimeout(refresh, 100);
  };
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED && state) state.textContent = 'Live updates stopped.';
  };
})();
`;
