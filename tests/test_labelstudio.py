"""The annotation loop through a real Label Studio: `stance suggest`'s pre-annotated tasks (accented
French with emoji) go in through its REST API, an annotator's corrected version comes out through its
export API, and `stance import` puts the spans back on the articles, offsets and labels intact.

Label Studio runs from its own environment (its pins clash with ours): .ci/run builds it from
tests/labelstudio/requirements.txt. In CI a missing environment fails this test; elsewhere it is
skipped with the command that builds it, since it is a 1 GB install a contributor may not want.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stance.interchange import format_label

REPO = Path(__file__).resolve().parents[1]
LABEL_STUDIO = REPO / ".venv-labelstudio" / "bin" / "label-studio"
BUILD = ("python3 -m venv .venv-labelstudio && "
         ".venv-labelstudio/bin/pip install -r tests/labelstudio/requirements.txt")
NEW_ARTICLES = REPO / "tests" / "data" / "suggest"
#: A fresh Label Studio migrates its database before it answers: about 30 s on an idle 2-core
#: machine, several minutes when the machine is busy.
STARTUP_TIMEOUT = 900
TOKEN = "stance-test-token"


@pytest.fixture(scope="session")
def label_studio_binary() -> Path:
    """Requested first, so a missing environment is reported before minutes go into training a model."""
    if LABEL_STUDIO.exists():
        return LABEL_STUDIO
    message = f"no Label Studio environment at {LABEL_STUDIO}; build it with: {BUILD}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def stance(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "stance.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600, check=False)


class Server:
    """The REST API of a running Label Studio, through the standard library."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: HTTP {error.code}: {error.read()[:2000]!r}") from None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/health", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_label_studio(binary: Path, folder: Path) -> Iterator[tuple[Server, float]]:
    """A Label Studio on a free port with its data (and HOME) in ``folder``; stopped whatever happens."""
    port = free_port()
    (folder / "home").mkdir(parents=True)
    env = {**os.environ, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true", "HOME": str(folder / "home"),
           "LABEL_STUDIO_BASE_DATA_DIR": str(folder / "data")}
    started = time.monotonic()
    with open(folder / "label-studio.log", "wb") as log:  # the child keeps its own copy of the handle
        process = subprocess.Popen(
            [str(binary), "start", "--no-browser", "--port", str(port), "--data-dir", str(folder / "data"),
             "--username", "stance@example.org", "--password", "stance-test-password", "--user-token", TOKEN],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    server = Server(port)
    try:
        while not server.healthy():
            tail = (folder / "label-studio.log").read_text(errors="replace")[-3000:]
            assert process.poll() is None, f"Label Studio exited with {process.returncode}:\n{tail}"
            assert time.monotonic() - started < STARTUP_TIMEOUT, f"no /health after {STARTUP_TIMEOUT} s:\n{tail}"
            time.sleep(1)
        yield server, time.monotonic() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def regions(results: list[dict[str, Any]]) -> list[tuple[int, int, str, str]]:
    return sorted((r["value"]["start"], r["value"]["end"], r["value"]["text"], r["value"]["labels"][0]) for r in results)


def span_set(corpus: Path) -> set[tuple[Any, ...]]:
    lines = (corpus / "spans.jsonl").read_text(encoding="utf-8").splitlines()
    return {tuple(json.loads(line).get(k) for k in ("article", "start", "end", "speaker", "stance", "note")) for line in lines}


def test_suggested_tasks_survive_a_real_label_studio_and_import_back(label_studio_binary: Path, tiny_model: Path,
                                                                     small_corpus: Path, tmp_path: Path) -> None:
    began = time.monotonic()
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    tasks_file, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    # every sentence picked, so regions sit after each emoji and on accented words
    result = stance("suggest", str(NEW_ARTICLES), "--model", str(tiny_model), "--n", "8", "--format", "label-studio",
                    "--output", str(tasks_file), "--label-config", str(config))
    assert result.returncode == 0, result.stderr
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    texts = {path.stem: path.read_text(encoding="utf-8") for path in NEW_ARTICLES.glob("*.txt")}
    sent = {t["data"]["article"]: t["predictions"][0] for t in tasks}
    assert sorted(sent) == sorted(texts) and "🚫" in texts["annonce-fr"]
    corrected_label = format_label("bytedance_tiktok", "denial")

    with running_label_studio(label_studio_binary, tmp_path / "label-studio") as (server, startup):
        project = server.call("POST", "/api/projects", {"title": "stance round trip",
                                                         "label_config": config.read_text(encoding="utf-8")})
        imported = server.call("POST", f"/api/projects/{project['id']}/import", tasks)
        assert (imported["task_count"], imported["prediction_count"]) == (len(tasks), len(tasks))
        expected: dict[str, list[tuple[int, int, str, str]]] = {}
        for task in server.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true"):
            aid = task["data"]["article"]
            assert task["data"]["text"] == texts[aid]
            (prediction,) = server.call("GET", f"/api/predictions?task={task['id']}")
            assert prediction["model_version"] == sent[aid]["model_version"]
            assert regions(prediction["result"]) == regions(sent[aid]["result"])
            assert [r["score"] for r in prediction["result"]] == [r["score"] for r in sent[aid]["result"]]
            # the annotator accepts the pre-annotations, correcting the label of the first one
            result = [dict(r) for r in prediction["result"]]
            result[0] = {**result[0], "value": {**result[0]["value"], "labels": [corrected_label]}}
            server.call("POST", f"/api/tasks/{task['id']}/annotations",
                        {"result": result, "parent_prediction": prediction["id"]})
            expected[aid] = regions(result)
        export = server.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true")
        # the corpus's own spans and written examples (as choices) make the same trip
        corpus_tasks = tmp_path / "corpus-tasks.json"
        assert stance("export", str(corpus_tasks), "--format", "label-studio", "--examples",
                      "--corpus", str(small_corpus)).returncode == 0
        second = server.call("POST", "/api/projects", {"title": "stance corpus",
                                                        "label_config": config.read_text(encoding="utf-8")})
        server.call("POST", f"/api/projects/{second['id']}/import", json.loads(corpus_tasks.read_text(encoding="utf-8")))
        corpus_export = server.call("GET", f"/api/projects/{second['id']}/export?exportType=JSON&download_all_tasks=true")
    (tmp_path / "export.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "corpus-export.json").write_text(json.dumps(corpus_export, ensure_ascii=False), encoding="utf-8")
    again = tmp_path / "again"
    shutil.copytree(small_corpus, again)
    result = stance("import", str(tmp_path / "corpus-export.json"), "--corpus", str(again), "--force")
    assert result.returncode == 0, result.stderr
    assert (again / "examples.jsonl").read_bytes() == (small_corpus / "examples.jsonl").read_bytes()
    assert span_set(again) == span_set(small_corpus) and len(span_set(again)) > 10

    for task in export:
        aid = task["data"]["article"]
        (annotation,) = task["annotations"]
        assert regions(annotation["result"]) == expected[aid]
        for start, end, words, _ in expected[aid]:
            assert texts[aid][start:end] == words  # code points, as in our files
    assert any(start > texts["annonce-fr"].index("🚫") for start, *_ in expected["annonce-fr"])

    result = stance("import", str(tmp_path / "export.json"), "--corpus", str(corpus), "--force")
    assert result.returncode == 0, result.stderr
    assert "detected by langdetect" in result.stderr
    spans = [json.loads(line) for line in (corpus / "spans.jsonl").read_text(encoding="utf-8").splitlines()]
    for aid, wanted in expected.items():
        got = sorted((s["start"], s["end"], s["text"], format_label(s["speaker"], s["stance"]))
                     for s in spans if s["article"] == aid)
        assert got == wanted
        assert (corpus / "articles" / f"{aid}.txt").read_text(encoding="utf-8") == texts[aid]
    languages = {json.loads(line)["id"]: json.loads(line)["language"]
                 for line in (corpus / "articles.jsonl").read_text(encoding="utf-8").splitlines()}
    assert (languages["annonce-fr"], languages["talks-en"]) == ("fr", "en")
    assert stance("validate", str(corpus)).returncode == 0
    print(f"Label Studio answered /health after {startup:.0f} s; the test took {time.monotonic() - began:.0f} s")
