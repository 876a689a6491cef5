// finews archive pages in Datasette (served from the plugin's static/ folder, loaded as a
// module, so it runs once the page is parsed):
// - column descriptions folded under a "Column descriptions" toggle, so the search box is on
//   the first screen (each one is also the tooltip of its column heading);
// - on a row page, each field labelled with its column's name (static/finews.css lays the
//   fields out like the reading site's article);
// - under a canned query that stopped at its LIMIT, a note that says so, with a link to the
//   same selection in the articles table, which pages on.

function foldColumnDescriptions() {
  const dl = document.querySelector("dl.column-descriptions");
  if (!dl) return;
  const details = document.createElement("details");
  details.className = "finews-columns";
  const summary = document.createElement("summary");
  summary.textContent = "Column descriptions";
  dl.parentNode.insertBefore(details, dl);
  details.appendChild(summary);
  details.appendChild(dl);
  dl.querySelectorAll("dt").forEach((dt) => {
    const th = document.querySelector("th.col-" + CSS.escape(dt.textContent.trim()));
    const dd = dt.nextElementSibling;
    if (th && dd) th.title = dd.textContent;
  });
}

function labelFields() {
  const table = document.querySelector("body.row table.rows-and-columns");
  if (!table) return;
  const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  table.querySelectorAll("tbody tr").forEach((tr) => {
    [...tr.children].forEach((td, i) => {
      if (!names[i]) return;
      const label = document.createElement("span");
      label.className = "finews-label";
      label.textContent = names[i];
      td.prepend(label);
    });
  });
  table.classList.add("finews-fields");
}

// Where the rows of a canned query continue, by query name: a URL relative to the
// database's page, from the query's parameters (null: nowhere to go).
const CONTINUED = {
  search: (p) => (p.q ? "articles?_search=" + encodeURIComponent(p.q) : null),
  latest_by_newspaper: (p) => (p.slug ? "articles?slug=" + encodeURIComponent(p.slug) : null),
  articles_mentioning: (p) => {
    if (!p.code || !p.code.trim()) return null;
    const literal = "'" + p.code.replace(/'/g, "''") + "'";
    const where =
      "info_code in (select info_code from mentions where code = upper(trim(" +
      literal +
      ")) or name = trim(" +
      literal +
      "))";
    return "articles?_where=" + encodeURIComponent(where);
  },
};

function noteCappedQuery() {
  const match = document.body.className.match(/(?:^|\s)query-(\S+)/);
  const sql = document.querySelector("#sql-query, #sql-editor");
  const table = document.querySelector("table.rows-and-columns");
  if (!match || !sql || !table) return;
  const limits = [...(sql.value || sql.textContent).matchAll(/\blimit\s+(\d+)/gi)];
  if (!limits.length) return;
  const limit = Number(limits[limits.length - 1][1]);
  const shown = table.querySelectorAll("tbody tr").length;
  if (shown < limit) return;
  const params = Object.fromEntries(new URLSearchParams(location.search));
  const note = document.createElement("p");
  note.className = "finews-capped";
  note.textContent = `The query stops at ${limit.toLocaleString("en")} rows: these are the first ${limit.toLocaleString("en")}, there may be more. `;
  const next = CONTINUED[match[1]] && CONTINUED[match[1]](params);
  if (next) {
    const link = document.createElement("a");
    const database = location.pathname.replace(/\/[^/]*$/, "");
    link.href = database + "/" + next;
    link.textContent = "All of them in the articles table, page by page →";
    note.appendChild(link);
  }
  const wrapper = table.closest(".table-wrapper") || table;
  wrapper.parentNode.insertBefore(note, wrapper);
}

foldColumnDescriptions();
labelFields();
noteCappedQuery();
document.documentElement.dataset.finews = "ready"; // (for tests: the page is as this script leaves it)
