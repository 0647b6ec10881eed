"""The teaching notebooks run end to end (docs/notebooks/), at a size that takes a few minutes:
each notebook's parameters cell is followed by one that shrinks the lesson, as papermill would."""

from __future__ import annotations

import json

import nbformat
import pytest

from .conftest import ROOT

NOTEBOOKS = ROOT / "docs" / "notebooks"
SMALL = {
    "label-delay.ipynb": (
        'SIZE = {"horizon": "5d", "population.customers": 2000, "population.merchants": 200, '
        '"warmup": "30d", "history": "14d"}\nREPLICATIONS = 2\nWORKERS = 2'
    ),
    "replay.ipynb": "ROWS = 4000\nDAYS = 12",
}


def test_the_notebooks_are_stored_without_outputs():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(SMALL)
    for path in NOTEBOOKS.glob("*.ipynb"):
        book = json.loads(path.read_text(encoding="utf-8"))
        for cell in book["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
        tagged = [c for c in book["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_notebook_runs_end_to_end(name, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own (inline) backend, as in Jupyter
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    at = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    book.cells.insert(at + 1, nbformat.v4.new_code_cell(SMALL[name]))
    client = NotebookClient(book, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    shown = [
        output
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type in ("execute_result", "display_data")
    ]
    assert any("text/html" in output.data for output in shown), "no result showed itself as HTML"
    if name == "label-delay.ipynb":
        assert any("image/png" in output.data for output in shown), "no figure was drawn"
    assert not any(p.name != name and p.suffix != ".ipynb" for p in NOTEBOOKS.iterdir()), "wrote beside itself"
