"""The library entry points: load, lower and compile spec files."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pydantic

from seqspec import ir, loader, spec
from seqspec.errors import Problem, SpecError, UnsupportedFeature
from seqspec.lower import lower
from seqspec.validation import problems_from

if TYPE_CHECKING:
    from seqspec import registry


def _validate(doc: loader.Document) -> spec.Spec:
    try:
        return spec.Spec.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise SpecError(problems_from(exc, doc.data)).located(doc.file, doc.positions) from None


def _lower(path: str | os.PathLike[str]) -> tuple[ir.Model, loader.Document]:
    doc, raw = loader.read(path)
    parsed = _validate(doc)
    try:
        model = lower(parsed, source_name=Path(path).name,
                      spec_sha256=hashlib.sha256(raw).hexdigest())
    except SpecError as exc:
        raise exc.located(doc.file, doc.positions) from None
    return model, doc


def load(path: str | os.PathLike[str]) -> spec.Spec:
    """Read, validate and check a spec file.

    Raises :class:`SpecError` carrying every problem, each at FILE:LINE:COL.
    """
    doc, _ = loader.read(path)
    parsed = _validate(doc)
    try:
        lower(parsed, source_name=Path(path).name)
    except SpecError as exc:
        raise exc.located(doc.file, doc.positions) from None
    return parsed


def lower_file(path: str | os.PathLike[str]) -> ir.Model:
    """Load a spec file and lower it to the normalized model."""
    return _lower(path)[0]


def check_features(model: ir.Model, backend: registry.Backend, doc: loader.Document) -> None:
    """Fail with a located error for every feature ``backend`` cannot compile."""
    missing = [
        Problem(path, f"the {backend.name} backend does not support {feature}")
        for feature, path in model.feature_sites
        if feature not in backend.features
    ]
    if missing:
        raise UnsupportedFeature(missing).located(doc.file, doc.positions)


def inline_runtimes(files: dict[str, str], backend: str) -> dict[str, str]:
    """``--single-file``: each runtime module inlined into the files that import it
    (model.py: ``<backend>_runtime.py``; train.py and predict.py: ``<backend>_train_runtime.py``),
    and no runtime file written."""
    from seqspec.render import inline_runtime

    plan = {f"{backend}_runtime.py": ("model.py",),
            f"{backend}_train_runtime.py": ("train.py", "predict.py")}
    out = dict(files)
    for runtime, users in plan.items():
        text = out.pop(runtime, None)
        if text is None:
            continue
        for user in users:
            if user in out:
                out[user] = inline_runtime(out[user], text, runtime[:-3])
    return out


def compile_spec(path: str | os.PathLike[str], backend: str,
                 out_dir: str | os.PathLike[str], force: bool = False,
                 single_file: bool = False) -> list[Path]:
    """Compile a spec for ``backend`` into ``out_dir``; return the files written.

    Output is deterministic: the same spec gives the same bytes. A file in ``out_dir`` that
    seqspec did not write is never replaced unless ``force`` (:mod:`seqspec.outputs`); such a
    refusal, an empty ``out_dir`` or a symlink raise :class:`~seqspec.outputs.OutputError`
    before any file is written.
    """
    from seqspec import registry  # importlib.metadata and the emitters: not on the validate path
    from seqspec.outputs import OutputError, check_output, write_output

    model, doc = _lower(path)
    try:
        chosen = registry.get(backend)
    except KeyError:
        known = ", ".join(registry.names())
        raise SpecError([Problem((), f"unknown backend {backend!r} (known: {known})",
                                 doc.file)]) from None
    check_features(model, chosen, doc)
    if model.data is not None:  # train.py finds the data from the output folder
        from seqspec.training import data_location

        where = data_location(model.data.source, path, out_dir)
        model = dataclasses.replace(model, data=dataclasses.replace(model.data, path=where))
    files = chosen.emit(model)
    if single_file:
        files = inline_runtimes(files, chosen.name)
    if str(out_dir) == "":  # not read as the current folder
        raise OutputError('""', "the output folder is empty; name the folder to write into")
    out = Path(out_dir)
    targets = [(check_output(out / rel, force), text) for rel, text in sorted(files.items())]
    return [write_output(target, text, force) for target, text in targets]
