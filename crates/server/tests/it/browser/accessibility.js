// The project's own accessibility check, run in the page by the browser tests (WebDriver's
// "execute script"): no third-party library. It returns the violations found, each
// `{rule, element, detail}`, and an empty list for a page that passes. The rules are those
// of docs/web.md ("Accessibilité"): the page's language, one h1, a name for every control,
// button, link and chart, headers in tables, no positive tabindex, a visible focus style,
// and text contrast of at least 4.5:1 (WCAG AA), computed from the computed colours.
// Bounds: at most MAX_ELEMENTS elements are looked at, and MAX_VIOLATIONS reported.
var MAX_ELEMENTS = 20000;
var MAX_VIOLATIONS = 200;
var MIN_CONTRAST = 4.5;

var violations = [];
function report(rule, element, detail) {
  if (violations.length < MAX_VIOLATIONS) {
    violations.push({ rule: rule, element: describe(element), detail: detail || '' });
  }
}

// `main > table > tr:nth-of-type(2) > a#x.y « text »`: enough to find the element again.
function describe(element) {
  if (!element || element.nodeType !== 1) { return String(element); }
  var parts = [];
  for (var node = element; node && node.nodeType === 1 && parts.length < 5; node = node.parentElement) {
    var part = node.tagName.toLowerCase();
    if (node.id) { part += '#' + node.id; }
    var classes = node.getAttribute('class');
    if (classes) { part += '.' + classes.trim().split(/\s+/).join('.'); }
    parts.unshift(part);
    if (node.id) { break; }
  }
  var text = (element.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60);
  return parts.join(' > ') + (text ? ' « ' + text + ' »' : '');
}

function shown(element) {
  var style = getComputedStyle(element);
  return style.display !== 'none' && style.visibility !== 'hidden' && element.getClientRects().length > 0;
}

function textOf(element) {
  return (element ? element.textContent || '' : '').replace(/\s+/g, ' ').trim();
}

// What assistive technology would announce, simplified: aria-labelledby, aria-label, the
// labels of a control, the value of an input button, the content (with the names of images
// and charts inside), then the title.
function accessibleName(element) {
  var labelledBy = element.getAttribute('aria-labelledby');
  if (labelledBy) {
    var named = labelledBy.split(/\s+/).map(function (id) { return textOf(document.getElementById(id)); }).join(' ').trim();
    if (named) { return named; }
  }
  var label = (element.getAttribute('aria-label') || '').trim();
  if (label) { return label; }
  if (element.labels && element.labels.length) {
    var labels = Array.prototype.map.call(element.labels, textOf).join(' ').trim();
    if (labels) { return labels; }
  }
  var tag = element.tagName.toLowerCase();
  if (tag === 'input' && /^(submit|button|reset)$/.test(element.type)) { return (element.value || '').trim(); }
  if (tag === 'img') { return (element.getAttribute('alt') || '').trim(); }
  var content = textOf(element);
  element.querySelectorAll('img[alt], svg[aria-label]').forEach(function (inner) {
    content += ' ' + (inner.getAttribute('alt') || inner.getAttribute('aria-label'));
  });
  content = content.trim();
  if (content) { return content; }
  return (element.getAttribute('title') || '').trim();
}

// `rgb(1, 2, 3)` or `rgba(1, 2, 3, 0.5)` → [r, g, b, a]; anything else (a keyword such as
// `none` for an SVG fill) → null.
function parseColour(text) {
  var match = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(text || '');
  if (!match) { return null; }
  var alpha = match[4] === undefined ? 1 : (match[4].slice(-1) === '%' ? parseFloat(match[4]) / 100 : parseFloat(match[4]));
  return [parseFloat(match[1]), parseFloat(match[2]), parseFloat(match[3]), alpha];
}

// `top` laid over an opaque `bottom`.
function over(top, bottom) {
  var a = top[3];
  return [0, 1, 2].map(function (i) { return top[i] * a + bottom[i] * (1 - a); }).concat([1]);
}

// The opaque colour behind an element: its own background and its ancestors', laid over each
// other from the first opaque one (the page's white when none is).
function backgroundOf(element) {
  var layers = [];
  for (var node = element; node && node.nodeType === 1; node = node.parentElement) {
    var colour = parseColour(getComputedStyle(node).backgroundColor);
    if (colour && colour[3] > 0) {
      layers.push(colour);
      if (colour[3] >= 1) { break; }
    }
  }
  var result = [255, 255, 255, 1];
  for (var i = layers.length - 1; i >= 0; i--) { result = over(layers[i], result); }
  return result;
}

function luminance(colour) {
  var channel = function (value) {
    var c = value / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * channel(colour[0]) + 0.7152 * channel(colour[1]) + 0.0722 * channel(colour[2]);
}

function contrast(a, b) {
  var la = luminance(a), lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function hex(colour) {
  return '#' + colour.slice(0, 3).map(function (c) { return ('0' + Math.round(c).toString(16)).slice(-2); }).join('');
}

// The page as a whole.
var lang = (document.documentElement.getAttribute('lang') || '').trim();
if (!lang) { report('html-lang', document.documentElement, 'html sans attribut lang'); }
var headings = document.querySelectorAll('h1');
if (headings.length !== 1) {
  report('one-h1', headings[1] || document.body, headings.length + ' h1 dans la page');
}

// A visible focus: the style sheet draws an outline on :focus-visible.
var focusStyle = false;
Array.prototype.forEach.call(document.styleSheets, function (sheet) {
  var rules;
  try { rules = sheet.cssRules; } catch (error) { return; }
  Array.prototype.forEach.call(rules || [], function (rule) {
    if (rule.selectorText && rule.selectorText.indexOf(':focus-visible') >= 0 &&
        rule.style && rule.style.outlineStyle && rule.style.outlineStyle !== 'none') {
      focusStyle = true;
    }
  });
});
if (!focusStyle) { report('focus-visible', document.documentElement, 'aucune règle :focus-visible avec un contour'); }

var elements = Array.prototype.slice.call(document.body.querySelectorAll('*'), 0, MAX_ELEMENTS);
elements.forEach(function (element) {
  var tag = element.tagName.toLowerCase();

  // Controls, buttons and links have a name.
  if ((tag === 'input' && element.type !== 'hidden') || tag === 'select' || tag === 'textarea') {
    var labelled = (element.getAttribute('aria-label') || '').trim() ||
      (element.getAttribute('aria-labelledby') || '').trim() ||
      Array.prototype.map.call(element.labels || [], textOf).join('').trim();
    if (!labelled) { report('control-name', element, 'ni label, ni aria-label, ni aria-labelledby'); }
  }
  if (tag === 'button' || (tag === 'a' && element.hasAttribute('href')) ||
      (tag === 'input' && /^(submit|button|reset)$/.test(element.type))) {
    if (!accessibleName(element)) { report('button-link-name', element, 'nom accessible vide'); }
  }

  // Charts say what they show.
  if (tag === 'svg' && element.getAttribute('aria-hidden') !== 'true') {
    if (element.getAttribute('role') !== 'img') { report('chart-role', element, 'svg sans role="img"'); }
    var chartName = (element.getAttribute('aria-label') || '').trim() ||
      textOf(element.querySelector(':scope > title')) ||
      ((element.getAttribute('aria-labelledby') || '') && accessibleName(element));
    if (!chartName) { report('chart-name', element, 'svg sans nom accessible'); }
  }

  // Tables have headers.
  if (tag === 'table' && !element.querySelector('th')) { report('table-headers', element, 'tableau sans th'); }

  // The tab order is the page's.
  if (element.hasAttribute('tabindex') && parseInt(element.getAttribute('tabindex'), 10) > 0) {
    report('positive-tabindex', element, 'tabindex=' + element.getAttribute('tabindex'));
  }

  // Text is readable: 4.5:1 against what is behind it.
  if (/^(script|style|title|option|noscript|template)$/.test(tag)) { return; }
  var ownText = Array.prototype.some.call(element.childNodes, function (node) {
    return node.nodeType === 3 && node.textContent.trim() !== '';
  });
  if (!ownText || !shown(element)) { return; }
  var box = element.getBoundingClientRect();
  // Off the page on purpose (the skip link until it has the focus).
  if (box.right <= 0 || box.bottom <= 0) { return; }
  var style = getComputedStyle(element);
  var ink = element instanceof SVGElement ? (parseColour(style.fill) || parseColour(style.color)) : parseColour(style.color);
  if (!ink) { return; }
  var ground = backgroundOf(element);
  var ratio = contrast(over(ink, ground), ground);
  if (ratio < MIN_CONTRAST) {
    report('contrast', element, ratio.toFixed(2) + ':1 (' + hex(ink) + ' sur ' + hex(ground) + ')');
  }
});

return violations;
