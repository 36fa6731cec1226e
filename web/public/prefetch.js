// kiswatch: a stock page's first requests, sent from the page's <head> while its code is still on its way.
//
// A stock page (a trigger's window above all) cannot draw anything before its snapshot, its candles and its
// triggers are here; its own code asks for them only once the bundle is loaded and run, a few hundred
// milliseconds after the HTML on a busy machine. This script asks for the same URLs as soon as the HTML is
// parsed, and `api.ts` takes each answer (once, and only in the page's first seconds) instead of asking
// again. The URLs must be exactly the ones the page asks for (`src/views/stock.ts` and `firstBars` in
// `src/model.ts`); `test/prefetch.test.ts` checks that they are.
/* global window, location, fetch, performance, URLSearchParams */
(function () {
  var PERIODS = ["1m", "5m", "30m", "60m", "D", "W", "M"];
  var m = /^\/stocks\/([0-9A-Za-z]{6})\/?$/.exec(location.pathname);
  if (!m || typeof fetch !== "function") return;
  var code = m[1].toUpperCase();
  var q = new URLSearchParams(location.search);
  var period = q.get("period");
  if (PERIODS.indexOf(period) < 0) period = "D";
  // The chart's width from the window's (the side panels take 364 px on a wide screen), 6 px a bar.
  var vw = window.innerWidth;
  var width = vw > 1000 ? vw - 364 : vw - 16;
  var count = Math.min(400, Math.max(260, Math.ceil(width / 6) + 20));
  var paths = [
    "/api/v1/stocks/" + code + "/snapshot",
    "/api/v1/stocks/" + code + "/candles?period=" + encodeURIComponent(period) + "&count=" + count,
    "/api/v1/triggers?code=" + code + "&limit=200",
  ];
  var answers = {};
  paths.forEach(function (p) {
    var res = fetch(p, { headers: { Accept: "application/json" } });
    // A failure is the page's to report when it takes the answer; unhandled here it would be logged twice.
    res.catch(function () {});
    answers[p] = res;
  });
  window.__kiswatchEarly = { at: performance.now(), answers: answers };
})();
