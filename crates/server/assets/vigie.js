// Vigie's own script for its pages: countdowns and ages that keep running, and live updates
// (server-sent events from /flux: on a change, the regions that show it ask the server for
// their fragment again). Pages work without it; it only keeps them current. Its words are
// the page's own, in the viewer's language: the server writes them in `data-` attributes
// (the body's for durations and countdowns, #live-status's for the stream), so that the
// script has no language of its own.
(function () {
  'use strict';

  // The server's clock: countdowns run on it, whatever the tablet's own clock says.
  var stamp = document.querySelector('[data-now]');
  var offset = stamp ? Number(stamp.getAttribute('data-now')) - Date.now() : 0;

  function two(n) { return n < 10 ? '0' + n : String(n); }

  // The page's words: `{name}` in a template is replaced by its value.
  var words = document.body.dataset;
  function fill(template, values) {
    return String(template || '').replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  // The same wording as the server's: the two largest units.
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) { return fill(words.days, { d: d, h: h }); }
    if (h > 0) { return fill(words.hours, { h: h, m: two(m) }); }
    if (m > 0) { return fill(words.minutes, { m: m }); }
    return fill(words.seconds, { s: s });
  }

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll('[data-deadline]').forEach(function (el) {
      var left = Number(el.getAttribute('data-deadline')) - now;
      el.textContent = left >= 0 ? fill(words.left, { d: duration(left) }) : fill(words.late, { d: duration(-left) });
      el.classList.toggle('late', left < 0);
    });
    document.querySelectorAll('[data-since]').forEach(function (el) {
      el.textContent = duration(now - Number(el.getAttribute('data-since')));
    });
  }
  tick();
  setInterval(tick, 1000);

  // The header's search: suggestions under the field as one types (the results page works
  // without them); the arrow key goes down into them, Escape closes them.
  var searchField = document.getElementById('search-text');
  var suggestions = document.getElementById('search-suggestions');
  if (searchField && suggestions) {
    var waiting = null;
    var asked = '';
    searchField.addEventListener('input', function () {
      clearTimeout(waiting);
      waiting = setTimeout(function () {
        var text = searchField.value.trim();
        asked = text;
        if (text.length < 2) { suggestions.innerHTML = ''; return; }
        fetch('/console/recherche?partiel=1&q=' + encodeURIComponent(text), { credentials: 'same-origin' })
          .then(function (response) { return response.status === 200 ? response.text() : ''; })
          .then(function (html) { if (asked === text) { suggestions.innerHTML = html; } })
          .catch(function () { suggestions.innerHTML = ''; });
      }, 200);
    });
    searchField.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') { suggestions.innerHTML = ''; }
      if (event.key === 'ArrowDown') {
        var first = suggestions.querySelector('a');
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    document.addEventListener('click', function (event) {
      if (event.target !== searchField && !suggestions.contains(event.target)) { suggestions.innerHTML = ''; }
    });
  }

  var status = document.getElementById('live-status');
  var lost = document.getElementById('live-lost');
  // A cut is loud: a banner says the page is no longer current, and the live regions stop
  // looking live until the stream is back.
  function say(text, on) {
    if (status) {
      status.textContent = text;
      status.classList.toggle('on', on);
    }
    if (lost) { lost.hidden = on; }
    document.body.classList.toggle('stale', !on);
  }

  // The tab's title carries the count a region gives (the wall: the alarms to handle).
  function retitle() {
    var counted = document.querySelector('[data-title-count]');
    if (counted) {
      document.title = '(' + counted.getAttribute('data-title-count') + ') ' + document.title.replace(/^\(\d+\) /, '');
    }
  }

  // Whether someone is filling a form of this region: then it is not replaced under them. A
  // field still holding what the page wrote in it (a post-mortem being reread) is not being
  // filled.
  function typing(region) {
    return Array.prototype.some.call(region.querySelectorAll('textarea, input[type=text], input[type=number], input[type=datetime-local], input[type=date], select'), function (field) {
      var written = field.tagName === 'SELECT'
        ? Array.prototype.some.call(field.options, function (option) { return option.selected !== option.defaultSelected; })
        : field.value !== field.defaultValue;
      return field === document.activeElement || written;
    });
  }

  // One region: asked again at most once at a time; a change during a fetch asks once more.
  function refresh(region) {
    if (region.getAttribute('data-busy')) {
      region.setAttribute('data-again', '1');
      return;
    }
    if (typing(region)) {
      // Asked again once the form is left.
      region.addEventListener('focusout', function again() {
        region.removeEventListener('focusout', again);
        setTimeout(function () { if (!typing(region)) { refresh(region); } }, 0);
      });
      return;
    }
    region.setAttribute('data-busy', '1');
    fetch(region.getAttribute('data-src'), { credentials: 'same-origin', redirect: 'manual' })
      .then(function (response) {
        if (response.status === 200) { return response.text(); }
        // Logged out or session expired: the page itself shows the login.
        window.location.reload();
        return null;
      })
      .then(function (html) {
        if (html !== null) {
          // The boxes ticked for a selection stay ticked across a refresh.
          var ticked = Array.prototype.map.call(region.querySelectorAll('input[type=checkbox]:checked'), function (box) { return box.name; });
          // So do the panels opened (by their summary's words: the steps offered may change).
          var opened = Array.prototype.map.call(region.querySelectorAll('details[open] > summary'), function (summary) { return summary.textContent; });
          region.innerHTML = html;
          ticked.forEach(function (name) {
            var box = region.querySelector('input[type=checkbox][name="' + name + '"]');
            if (box) { box.checked = true; }
          });
          region.querySelectorAll('details > summary').forEach(function (summary) {
            if (opened.indexOf(summary.textContent) >= 0) { summary.parentNode.open = true; }
          });
          tick();
          retitle();
        }
      })
      .catch(function () { say(status.getAttribute('data-retry'), false); })
      .then(function () {
        region.removeAttribute('data-busy');
        if (region.getAttribute('data-again')) {
          region.removeAttribute('data-again');
          refresh(region);
        }
      });
  }

  var regions = document.querySelectorAll('[data-live]');
  if (!window.EventSource || !status) { return; }
  var source = new EventSource('/flux');
  // Reachable for the browser tests, which play a cut of the feed through it.
  window.vigieLive = source;
  // A browser keeps few connections per server: the stream of a page left must not hold one.
  window.addEventListener('pagehide', function () { source.close(); });
  var missed = false;
  source.addEventListener('ready', function () {
    say(status.getAttribute('data-on'), true);
    // Back after a cut: what changed meanwhile was not heard.
    if (missed) { missed = false; regions.forEach(refresh); }
  });
  source.addEventListener('change', function (event) {
    var topics = String(event.data).split(' ');
    regions.forEach(function (region) {
      var wants = region.getAttribute('data-live').split(' ');
      if (topics.some(function (t) { return wants.indexOf(t) >= 0; })) { refresh(region); }
    });
  });
  source.addEventListener('error', function () { missed = true; say(status.getAttribute('data-retry'), false); });
})();
