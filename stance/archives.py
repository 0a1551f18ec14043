"""Archives as researchers have them: saved web pages and tables of articles.

- A web page (``.html``/``.htm``) is reduced to its title and main text by trafilatura, so scripts,
  menus, cookie banners and footers are not tagged as sentences; row offsets index that extracted
  text, which ``--save-text`` writes out so they can be checked.
- A table (``.csv``, ``.jsonl``, ``.parquet``) holds one article per row, in a text column and an
  id column. Tables are read only when named: a stray export in a folder of articles is listed in
  a warning instead of being tagged as thousands of articles. A table is read whole (as Arrow,
  about the size of its text); split a bigger archive into several tables, or use a cluster.
- Any other file in a folder is listed in a warning, never skipped silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .errors import InputError, UsageError
from .io import read_text
from .outputs import resolve_output

PAGE_SUFFIXES = (".html", ".htm")
#: What a folder gives: articles saved as text, and saved web pages.
FOLDER_SUFFIXES = (".txt", *PAGE_SUFFIXES)
TABLE_SUFFIXES = (".csv", ".jsonl", ".parquet")
TEXT_COLUMN = "text"
ID_COLUMN = "id"
#: File names shown in the warning about a folder's other files; beyond this, a count.
SHOWN_FILES = 10


def is_page(path: Path) -> bool:
    return path.suffix in PAGE_SUFFIXES


def is_table(path: Path) -> bool:
    return path.suffix in TABLE_SUFFIXES


def read_page(path: Path) -> tuple[str, str | None]:
    """The title and main text of a saved web page, and a warning when there is none to tag.

    The title leads, as in a text file, unless the page's own text already starts with it."""
    import trafilatura

    markup, warning = read_text(path)
    found = trafilatura.bare_extraction(markup, with_metadata=True, include_comments=False)
    page: Any = found  # trafilatura's Document (a dict only when asked for one)
    body = (page.text or "").strip() if page is not None else ""
    title = (page.title or "").strip() if page is not None else ""
    text = body if not title or body.startswith(title) else f"{title}\n\n{body}" if body else title
    if not text:
        warning = "; ".join(w for w in (warning, f"{path}: no article text found in the page; nothing tagged") if w)
    return text, warning


def unread_files(folder: Path) -> str | None:
    """A warning naming the files of ``folder`` that are neither articles nor pages, if any."""
    others = sorted(Path(top, name).relative_to(folder).as_posix() for top, _, names in os.walk(folder)
                    for name in names if not name.endswith(FOLDER_SUFFIXES))
    if not others:
        return None
    shown = ", ".join(others[:SHOWN_FILES]) + (f" and {len(others) - SHOWN_FILES} more" if len(others) > SHOWN_FILES else "")
    return (f"{folder}: {len(others)} file(s) not read, as only {', '.join(FOLDER_SUFFIXES)} are read from a folder: "
            f"{shown} (name a .csv, .jsonl or .parquet table explicitly to tag its rows)")


def read_table(path: Path, text_column: str = TEXT_COLUMN,
               id_column: str = ID_COLUMN) -> list[tuple[str, str, str | None]]:
    """``(id, text, note)`` per row of a table; ``note`` says when a row has no text.

    Ids are read as text (``007`` stays ``007``); an empty or missing id is an error, because rows
    of the output could not be told apart or joined back to the table."""
    import pyarrow as pa

    table = _load_table(path, text_column, id_column)
    for column, option in ((text_column, "--text-column"), (id_column, "--id-column")):
        kind = table.schema.field(column).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
                or (column == id_column and pa.types.is_integer(kind))):
            raise InputError(f"{path}: column {column!r} holds {kind}, expected text; choose another with {option}")
    rows = []
    for number, (key, text) in enumerate(zip(table.column(id_column).to_pylist(), table.column(text_column).to_pylist()), 1):
        if key is None or str(key) == "":
            raise InputError(f"{path}: row {number} has no {id_column!r}; give every row an id (or choose the id "
                             f"column with --id-column)")
        note = None if text else f"{path}: row {number} (id {key}) has no {text_column!r}; nothing tagged"
        rows.append((str(key), text or "", note))
    return rows


def _load_table(path: Path, text_column: str, id_column: str) -> Any:
    """The two columns of a table, after checking they exist (the error lists the columns there are)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.json as pa_json
    import pyarrow.parquet as pq

    kind = path.suffix[1:]
    wanted = list(dict.fromkeys((id_column, text_column)))
    try:
        if kind == "parquet":
            names = pq.read_schema(path).names
        elif kind == "csv":
            with pa_csv.open_csv(path) as reader:
                names = reader.schema.names
        else:
            table = pa_json.read_json(path)
            names = table.column_names
        missing = [column for column in wanted if column not in names]
        if missing:
            option = "--text-column" if missing[0] == text_column else "--id-column"
            raise UsageError(f"{path}: no column {missing[0]!r}; its columns are {', '.join(names)}; "
                             f"name the right one with {option}")
        if kind == "parquet":
            return pq.read_table(path, columns=wanted)
        if kind == "csv":
            strings = pa_csv.ConvertOptions(include_columns=wanted, column_types={c: pa.string() for c in wanted},
                                            strings_can_be_null=False)
            return pa_csv.read_csv(path, convert_options=strings)
        return table.select(wanted)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path}: cannot be read as a {kind} table ({reason}); expected one article per row") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def check_text_folder(folder: str, inputs: Sequence[str]) -> Path:
    """Where ``--save-text`` writes, checked before any model loads: a folder (made if missing)
    outside every input folder, so the saved texts are never read back as articles."""
    path = Path(os.path.realpath(folder))
    if path.exists() and not path.is_dir():
        raise UsageError(f"--save-text {folder}: is a file; expected a folder for the extracted texts")
    resolve_output(path / "article.txt" if path.exists() else path, "--save-text", inputs=inputs)
    path.mkdir(exist_ok=True)
    return path


def text_saver(folder: str | None, inputs: Sequence[str]) -> Callable[[Any], None]:
    """What ``--save-text DIR`` does with each piece of tagged rows: write its article's text when
    the piece is the article's first (nothing without the option). The folder is checked now."""
    if folder is None:
        return lambda piece: None
    path = check_text_folder(folder, inputs)
    return lambda piece: save_text(path, piece.id, piece.text) if piece.first else None


def text_file_name(article: str) -> str:
    """The file ``--save-text`` writes an article's text to: its id with ``%`` and ``/`` written as
    ``%25`` and ``%2F`` (ids from tables may be URLs), and control characters likewise escaped."""
    return "".join(quote(c, safe="") if c in "%/" or not c.isprintable() else c for c in article) + ".txt"


def save_text(folder: Path, article: str, text: str) -> None:
    """Write one extracted text atomically, as an output file is (never half a file)."""
    with resolve_output(folder / text_file_name(article), "--save-text").open() as handle:
        handle.write(text)
