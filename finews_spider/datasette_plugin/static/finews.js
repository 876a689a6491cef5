// finews archive pages in Datasette (served from the plugin's static/ folder, loaded as a
// module, so it runs once the page is parsed): column descriptions folded under a
// "Column descriptions" toggle, so the search box is on the first screen (each one is
// also the tooltip of its column heading); on a row page, each field labelled.
(function () {
  var dl = document.querySelector("dl.column-descriptions");
  if (dl) {
    var details = document.createElement("details");
    details.className = "finews-columns";
    var summary = document.createElement("summary");
    summary.textContent = "Column descriptions";
    dl.parentNode.insertBefore(details, dl);
    details.appendChild(summary);
    details.appendChild(dl);
    dl.querySelectorAll("dt").forEach(function (dt) {
      var th = document.querySelector("th.col-" + dt.textContent.trim());
      var dd = dt.nextElementSibling;
      if (th && dd) { th.title = dd.textContent; }
    });
  }
  if (document.body.classList.contains("row")) {
    var ths = document.querySelectorAll("table.rows-and-columns thead th");
    document.querySelectorAll("table.rows-and-columns tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (ths[i]) { td.setAttribute("data-label", ths[i].textContent.trim()); }
      });
    });
  }
})();
