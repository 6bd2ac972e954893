// Zoom: the chart's width follows the slider; the page scrolls sideways.
(function () {
  var svg = document.getElementById('chart');
  var zoom = document.getElementById('zoom');
  var base = +svg.getAttribute('width');
  zoom.addEventListener('input', function () {
    svg.setAttribute('width', Math.round(base * zoom.value));
    document.getElementById('zoomval').textContent = zoom.value + '×';
  });
  // Clicking an event row scrolls the chart to its time.
  document.querySelectorAll('tr[data-t]').forEach(function (tr) {
    tr.addEventListener('click', function () {
      var x = +tr.getAttribute('data-x') * svg.getAttribute('width') / base;
      svg.parentNode.scrollLeft = x - svg.parentNode.clientWidth / 2;
    });
  });
  // Marks the page as drawn: how many lanes have a laid-out size (the
  // kit's headless-browser test reads this).
  var lanes = Array.prototype.filter.call(document.querySelectorAll('g.lane'), function (g) {
    return g.getBBox().width > 0;
  });
  document.body.setAttribute('data-rendered-lanes', lanes.length);
})();
