"""Executes the notebooks headlessly with the evcxr Rust kernel and fails on the first
failing cell, printing that cell and its error output (compile errors included).

    python notebooks/run.py            # run all four, leave the files as they are
    python notebooks/run.py --save     # run and store the outputs in the .ipynb files
    python notebooks/run.py --save 03  # only the notebooks whose names start so

Needs the Jupyter client packages (nbclient, nbformat, ipykernel, jupyter_client) and
the `rust` kernel from `evcxr_jupyter --install`; `.ci/run` installs both if missing.
"""

import glob
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = os.path.dirname(os.path.abspath(__file__))


def text_of(outputs):
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            parts.append("\n".join([o.get("ename", ""), o.get("evalue", "")] + o.get("traceback", [])))
        elif "data" in o and "text/plain" in o["data"]:
            parts.append(o["data"]["text/plain"])
    # evcxr colours its compiler errors; plain text reads better in a CI log
    return re.sub(r"\x1b\[[0-9;]*m", "", "".join(parts))


def main():
    save = "--save" in sys.argv
    only = [a for a in sys.argv[1:] if a != "--save"]
    paths = sorted(glob.glob(os.path.join(HERE, "[0-9][0-9]-*.ipynb")))
    if only:
        paths = [p for p in paths if any(os.path.basename(p).startswith(o) for o in only)]
    if not paths:
        sys.exit("no notebooks found" + (f" starting with {' or '.join(only)}" if only else ""))
    for path in paths:
        name = os.path.basename(path)
        nb = nbformat.read(path, as_version=4)
        started = time.time()
        client = NotebookClient(nb, kernel_name="rust", timeout=900,
                                resources={"metadata": {"path": HERE}})
        try:
            client.execute()
        except CellExecutionError:
            # find the failing cell: the first code cell with an error output
            for i, c in enumerate(nb.cells):
                if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                    print(f"FAILED: {name}, cell {i}:\n{c.source}\n--- output ---\n{text_of(c.outputs)}", file=sys.stderr)
                    break
            else:
                print(f"FAILED: {name}", file=sys.stderr)
            sys.exit(1)
        # evcxr reports a panic or a compile error as stderr text in some versions
        for i, c in enumerate(nb.cells):
            if c.cell_type != "code":
                continue
            out = text_of(c.get("outputs", []))
            if "panicked at" in out or "error[E" in out or "Child process terminated" in out:
                print(f"FAILED: {name}, cell {i}:\n{c.source}\n--- output ---\n{out}", file=sys.stderr)
                sys.exit(1)
        print(f"ok: {name} ({time.time() - started:.0f} s)")
        if save:
            nbformat.write(nb, path)


if __name__ == "__main__":
    main()
