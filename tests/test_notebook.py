"""The evaluation notebook runs end to end from a fresh kernel and shows its figures."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def test_notebook_executes_and_reports(trained_model, monkeypatch):
    monkeypatch.setenv("STANCE_MODEL", str(trained_model))
    monkeypatch.setenv("STANCE_REPO", str(REPO))
    notebook = nbformat.read(REPO / "notebooks" / "evaluation.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(out.get("text", "") + str(out.get("data", {}).get("text/plain", "")) for out in outputs)
    assert "held-out (guardian-en)" in text and "majority" in text and "tfidf" in text
    assert "sentences differ from gold" in text
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 3  # per-stance F1 bars, the confusion matrix, the reliability curves
    assert "dev, reporting half" in text and "ECE" in "".join(cell.source for cell in notebook.cells)
