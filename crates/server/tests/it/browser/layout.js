// The tablet check, run in the page by the browser tests: nothing may make the page scroll
// sideways, no element may be wider than the viewport, and every button must be a touch
// target at least MIN_TARGET_PX tall. Returns the problems found, each `{rule, element,
// detail}`, and an empty list for a page that passes. At most MAX_ELEMENTS elements are
// looked at, and MAX_PROBLEMS reported.
var MAX_ELEMENTS = 20000;
var MAX_PROBLEMS = 100;
var MIN_TARGET_PX = 44;
// Sub-pixel rounding of layouts.
var SLACK_PX = 0.5;

var problems = [];
function report(rule, element, detail) {
  if (problems.length < MAX_PROBLEMS) {
    problems.push({ rule: rule, element: describe(element), detail: detail });
  }
}

function describe(element) {
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

var root = document.documentElement;
var viewport = root.clientWidth;
if (root.scrollWidth > viewport) {
  report('page-scrolls-sideways', root, 'scrollWidth ' + root.scrollWidth + ' > clientWidth ' + viewport);
}

var elements = Array.prototype.slice.call(document.body.querySelectorAll('*'), 0, MAX_ELEMENTS);
elements.forEach(function (element) {
  if (!shown(element)) { return; }
  var box = element.getBoundingClientRect();
  // Off the page on purpose (the skip link until it has the focus).
  if (box.right <= 0) { return; }
  if (box.width > viewport + SLACK_PX) {
    report('wider-than-viewport', element, Math.round(box.width) + ' px > ' + viewport + ' px');
  } else if (box.right + window.scrollX > viewport + SLACK_PX) {
    report('past-the-right-edge', element, 'bord droit à ' + Math.round(box.right) + ' px > ' + viewport + ' px');
  }
  var tag = element.tagName.toLowerCase();
  var isButton = tag === 'button' || element.classList.contains('button') ||
    (tag === 'input' && /^(submit|button|reset)$/.test(element.type));
  if (isButton && box.height < MIN_TARGET_PX - SLACK_PX) {
    report('touch-target', element, Math.round(box.height) + ' px de haut < ' + MIN_TARGET_PX + ' px');
  }
});

return problems;
