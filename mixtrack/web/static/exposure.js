/* mixtrack exposure when visible: one beacon per marked element, once it has really been seen.
 *
 * An element with data-mixtrack-exposure="<token>" counts as seen when at least half of it
 * (or, for an element taller than the window, half the window) has been on screen for the
 * dwell time (data-dwell on this script's tag, in ms) while the page is visible. Then the
 * token is posted to data-endpoint on this origin: navigator.sendBeacon, else fetch with
 * keepalive. The server decides whether it is an exposure. No inline code, no eval: it runs
 * under a strict Content-Security-Policy with a nonce on this script's tag.
 */
(function () {
  "use strict";
  var ATTR = "data-mixtrack-exposure";
  var me = document.currentScript;
  var endpoint = (me && me.getAttribute("data-endpoint")) || "/_mixtrack/exposure";
  var dwell = parseInt((me && me.getAttribute("data-dwell")) || "", 10);
  if (!(dwell >= 0)) dwell = 500;

  var sent = {};             // token -> true: one beacon per token per page
  var inView = new Map();    // element -> timer id (0 while waiting for the page to show)
  var observer = null;
  // For single-page apps and tests: send(token) posts a token the app shows itself;
  // sent lists what this page posted; waiting() counts elements in view, not yet sent.
  var api = {
    ready: false,
    sent: [],
    send: function (token) { if (typeof token === "string" && token) post(token); },
    waiting: function () { return inView.size; },
  };
  window.mixtrackExposure = api;

  function send(url, text) {
    var queued = false;
    try {
      // A string body goes as text/plain: a CORS-safelisted type, so no preflight.
      queued = !!(navigator.sendBeacon && navigator.sendBeacon(url, text));
    } catch (e) {
      queued = false;
    }
    if (!queued && window.fetch) {
      window.fetch(url, {
        method: "POST", body: text, keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
      }).catch(function () {});
    }
  }

  function post(token) {
    if (sent[token]) return;
    sent[token] = true;
    api.sent.push(token);
    send(endpoint, token);
  }

  function pageVisible() {
    return document.visibilityState === "visible";
  }

  function fire(el) {
    inView.delete(el);
    if (observer) observer.unobserve(el);
    var token = el.getAttribute(ATTR);
    if (token) post(token);
  }

  function arm(el) {
    if (inView.get(el) || !pageVisible()) return;
    inView.set(el, window.setTimeout(function () { fire(el); }, dwell));
  }

  function disarm(el) {
    var timer = inView.get(el);
    if (timer) window.clearTimeout(timer);
  }

  function halfSeen(entry) {
    if (!entry.isIntersecting) return false;
    if (entry.intersectionRatio >= 0.5) return true;
    var root = entry.rootBounds;
    return !!root && root.height > 0 && entry.intersectionRect.height >= root.height / 2;
  }

  function onIntersect(entries) {
    entries.forEach(function (entry) {
      var el = entry.target;
      if (halfSeen(entry)) {
        if (!inView.has(el)) inView.set(el, 0);
        arm(el);
      } else if (inView.has(el)) {
        disarm(el);
        inView.delete(el);
      }
    });
  }

  function onVisibility() {
    inView.forEach(function (timer, el) {
      if (pageVisible()) {
        arm(el);
      } else {
        disarm(el);
        inView.set(el, 0);
      }
    });
  }

  function watch(el) {
    var token = el.getAttribute(ATTR);
    if (token && !sent[token]) observer.observe(el);
  }

  function scan(root) {
    if (root.nodeType !== 1) return;
    if (root.hasAttribute(ATTR)) watch(root);
    var found = root.querySelectorAll("[" + ATTR + "]");
    for (var i = 0; i < found.length; i++) watch(found[i]);
  }

  function start() {
    if (!("IntersectionObserver" in window)) return; // cannot tell what is seen: send nothing
    var steps = [];
    for (var i = 0; i <= 20; i++) steps.push(i / 20);
    observer = new IntersectionObserver(onIntersect, { threshold: steps });
    scan(document.documentElement);
    document.addEventListener("visibilitychange", onVisibility);
    // Elements added later (a single-page app rendering a variant) are watched too.
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        if (record.type === "attributes") {
          scan(record.target);
        } else {
          record.addedNodes.forEach(scan);
        }
      });
    }).observe(document.documentElement, {
      childList: true, subtree: true, attributes: true, attributeFilter: [ATTR],
    });
    api.ready = true;
  }

  // A page loaded in the background (prefetch, prerender) carries an activation token: it
  // is posted once the page is really shown. A prerendered page runs while hidden and says
  // so with document.prerendering; a prefetched one runs only when navigated to.
  var activation = me && me.getAttribute("data-activation");
  var activateEndpoint = (me && me.getAttribute("data-activate-endpoint")) || "/_mixtrack/activate";
  var activated = false;
  function activate() {
    if (activated || !activation || document.prerendering || !pageVisible()) return;
    activated = true;
    api.activated = true;
    send(activateEndpoint, activation);
  }
  api.activated = false;
  if (activation) {
    document.addEventListener("prerenderingchange", activate);
    document.addEventListener("visibilitychange", activate);
    activate();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
