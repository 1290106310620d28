/**
 * The run inspector's only script (served as /admin/inspector.js; the console's CSP allows same-origin scripts
 * only). It adds two things to pages that read fine without it: the details of the bar under the pointer or the
 * keyboard focus, and — on a live run — the run's event stream: each event re-renders the live part of the page
 * from the server (debounced), until the run ends.
 */
export const INSPECTOR_JS = `'use strict';
(function () {
  function showDetails(target) {
    var g = target && target.closest ? target.closest('g[data-details]') : null;
    if (!g) return;
    var svg = g.closest('svg');
    var panel = svg && document.getElementById(svg.id + '-details');
    if (!panel) return;
    var details;
    try { details = JSON.parse(g.getAttribute('data-details') || '[]'); } catch (e) { return; }
    var dl = document.createElement('dl');
    details.forEach(function (kv) {
      var dt = document.createElement('dt'); dt.textContent = kv[0];
      var dd = document.createElement('dd'); dd.textContent = kv[1];
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
        if (next && ['succeeded', 'failed', 'cancelled'].indexOf(next.getAttribute('data-status')) >= 0) {
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
