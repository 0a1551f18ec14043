"""The evaluation notebook runs end to end from a fresh kernel and shows its figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]


def test_notebook_executes_and_reports(trained_model, tmp_path):
    """Run as the README says, with `jupyter nbconvert --execute` from the [notebook] extra."""
    executed = tmp_path / "executed.ipynb"
    result = subprocess.run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                             "--ExecutePreprocessor.timeout=600", "--output", str(executed),
                             str(REPO / "notebooks" / "evaluation.ipynb")],
                            env={**os.environ, "STANCE_MODEL": str(trained_model), "STANCE_REPO": str(REPO)},
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    notebook = nbformat.read(executed, as_version=4)
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(out.get("text", "") + str(out.get("data", {}).get("text/plain", "")) for out in outputs)
    assert "held-out (guardian-en)" in text and "majority" in text and "tfidf" in text
    assert "sentences differ from gold" in text
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 3  # per-stance F1 bars, the confusion matrix, the reliability curves
    assert "dev, reporting half" in text and "ECE" in "".join(cell.source for cell in notebook.cells)
