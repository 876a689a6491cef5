"""Run the examples of a Markdown document and write their real output back into it.

A document is checked by ``regenerate(text, archive) == text``: every example is run
against ``archive`` (a folder holding ``finews.db``, the quick start's archive) and its
output put where the document shows it, so a document that passes shows real output.
``python -m tests.doc_examples DOC ARCHIVE_FOLDER`` rewrites DOC so (then read the diff).

What counts as an example:

- in a ```console block, each line ``$ COMMAND`` and the lines after it (its stdout,
  then its stderr): ``scrapy search …`` (run in the project with
  ``-s FINEWS_DATA_DIR=ARCHIVE``), ``datasette data/finews.db …`` (the archive's
  path given instead) and ``echo $?`` (the exit status of the command before);
- a ```sql block, run through Datasette (the plugin loaded as installed) on the
  archive, and right after it the result: a Markdown table of its rows, or a line
  ``> Error: MESSAGE``;
- a table whose header is ``| you write | finds | FTS5 expression | articles found |``:
  the third and fourth columns are what ``fts_query`` and ``count_matches`` give for the
  query in the first (the second says it in words);
- a table whose header is ``| you write | refused with |``: the second column is what
  ``SearchSyntaxError.problem`` says of the first.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYNTAX_HEADER = "| you write | finds | FTS5 expression | articles found |"
REFUSAL_HEADER = "| you write | refused with |"


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a | inside a cell)."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def row(cells: list[str]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def code(text: str) -> str:
    return f"`{text}`"


def uncode(cell: str) -> str:
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell


class Runner:
    def __init__(self, archive: Path):
        self.archive = Path(archive)
        self.status = 0
        self._datasette = None

    def command(self, line: str) -> list[str]:
        """The output lines of a console command (stdout, then stderr)."""
        if line.strip() == "echo $?":
            return [str(self.status)]
        words = shlex.split(line)
        if words[:2] == ["scrapy", "search"]:
            cmd = [sys.executable, "-m", "scrapy", "search", "-s", f"FINEWS_DATA_DIR={self.archive}", *words[2:]]
        elif words[:2] == ["datasette", "data/finews.db"]:
            cmd = [sys.executable, "-m", "datasette", str(self.archive / "finews.db"), *words[2:]]
        else:
            raise ValueError(f"not an example this document can run: {line}")
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        self.status = result.returncode
        return (result.stdout + result.stderr).rstrip("\n").split("\n") if (result.stdout + result.stderr) else []

    def sql(self, sql: str) -> list[str]:
        """The result lines of a SQL example: a Markdown table, or ``> Error: …``."""
        from datasette.app import Datasette

        if self._datasette is None:
            self._datasette = Datasette([str(self.archive / "finews.db")])
        response = asyncio.run(self._datasette.client.get("/finews.json", params={"sql": sql, "_shape": "objects"}))
        data = response.json()
        if response.status_code != 200:
            return [f"> Error: {data['error']}"]
        columns = data["columns"]
        return [row(columns), row(["---"] * len(columns))] + [row([r[c] for c in columns]) for r in data["rows"]]

    def syntax_row(self, cells: list[str]) -> list[str]:
        from finews_spider.search import count_matches, fts_query

        query = uncode(cells[0])
        conn = sqlite3.connect(self.archive / "finews.db")
        try:
            return [cells[0], cells[1], code(fts_query(query)), str(count_matches(conn, query))]
        finally:
            conn.close()

    def refusal_row(self, cells: list[str]) -> list[str]:
        from finews_spider.search import SearchSyntaxError, fts_query

        try:
            fts_query(uncode(cells[0]))
        except SearchSyntaxError as exc:
            return [cells[0], exc.problem]
        return [cells[0], "(not refused)"]


def regenerate(text: str, archive: Path) -> str:
    """``text`` with the output of every example replaced by what running it gives."""
    runner = Runner(archive)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```console"):
            out.append(line)
            i += 1
            while not lines[i].startswith("```"):
                if lines[i].startswith("$ "):
                    out.append(lines[i])
                    out += runner.command(lines[i][2:])
                    i += 1
                    while not lines[i].startswith(("$ ", "```")):
                        i += 1  # the old output
                else:
                    out.append(lines[i])  # a comment before the first command
                    i += 1
            out.append(lines[i])
            i += 1
        elif line.startswith("```sql"):
            start = i
            i += 1
            while not lines[i].startswith("```"):
                i += 1
            sql = "\n".join(lines[start + 1 : i])
            out += lines[start : i + 1]
            i += 1
            out.append("")
            while i < len(lines) and lines[i] == "":
                i += 1
            while i < len(lines) and lines[i].startswith(("|", "> Error:")):
                i += 1  # the old result
            while i < len(lines) and lines[i] == "":
                i += 1
            out += runner.sql(sql)
            out.append("")  # (the blank line after, or the file's last newline)
        elif line.strip() in (SYNTAX_HEADER, REFUSAL_HEADER):
            make = runner.syntax_row if line.strip() == SYNTAX_HEADER else runner.refusal_row
            out += [line, lines[i + 1]]
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                out.append(row(make(split_row(lines[i]))))
                i += 1
        else:
            out.append(line)
            i += 1
    return "\n".join(out)


def examples(text: str) -> int:
    """How many examples ``text`` has (commands, SQL blocks, table rows)."""
    count, table = 0, False
    for line in text.split("\n"):
        if line.startswith("$ ") or line.startswith("```sql"):
            count += 1
        if line.strip() in (SYNTAX_HEADER, REFUSAL_HEADER):
            table = True
        elif table and line.startswith("|") and not line.startswith("| ---"):
            count += 1
        elif not line.startswith("|"):
            table = False
    return count


if __name__ == "__main__":
    doc, archive = Path(sys.argv[1]), Path(sys.argv[2])
    doc.write_text(regenerate(doc.read_text("utf-8"), archive), "utf-8")
