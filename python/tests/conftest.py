"""Shared paths and small corpora for the medkit_rs tests (run by scripts/test-python.sh)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / ".venv" / "models" / "all-MiniLM-L6-v2"
DATA = ROOT / "data" / "ncbi-disease"
MEDKIT = ROOT / "target" / "release" / "medkit"
LABELS = ["CompositeMention", "DiseaseClass", "Modifier", "SpecificDisease"]


def first_lines(src: Path, dst: Path, n: int, with_entities: bool = False) -> Path:
    """The header and the first ``n`` documents of a medkit JSONL file (with at least one
    entity each, if ``with_entities``: one short epoch then learns to find some)."""
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        out.write(next(f))
        lines = (line for line in f if not with_entities or "annotation.Entity" in line)
        for line in itertools.islice(lines, n):
            out.write(line)
    return dst


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> dict:
    """300 train (with entities), 60 validation and 80 test NCBI-disease sentence documents."""
    d = tmp_path_factory.mktemp("corpus")
    return {
        "train": first_lines(DATA / "train.jsonl", d / "train.jsonl", 300, with_entities=True),
        "validation": first_lines(DATA / "validation.jsonl", d / "validation.jsonl", 60),
        "test": first_lines(DATA / "test.jsonl", d / "test.jsonl", 80),
    }


def toml_value(v) -> str:
    return json.dumps(str(v) if isinstance(v, Path) else v)


def write_pipeline(path: Path, corpus: dict, trainer: dict, max_length: int = 128, extra: str = "",
                   max_documents=None) -> Path:
    """A pipeline training MiniLM on ``corpus``'s train / validation files (iob2) with the
    ``[train.trainer]`` keys of ``trainer``; ``extra``: more TOML after it."""
    lines = [
        "[corpus]",
        f"train = {toml_value(corpus['train'])}",
        f"validation = {toml_value(corpus['validation'])}",
        f"max_documents = {max_documents}" if max_documents else "",
        "",
        "[train.trainable]",
        'operation = "hf-entity-matcher"',
        f"model_name_or_path = {toml_value(MODEL)}",
        f"labels = {toml_value(LABELS)}",
        'tagging_scheme = "iob2"',
        f"tokenizer_max_length = {max_length}",
        "",
        "[train.trainer]",
        *(f"{k} = {toml_value(v)}" for k, v in trainer.items()),
        "",
        extra,
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def external_plugin(tmp_path_factory, manifest_dir: Path, lib: str) -> Path:
    """A folder holding plugin ``lib`` built from its own Cargo project (against the SDK only)."""
    manifest = manifest_dir / "Cargo.toml"
    # the target dir the cargo tests build external plugins in (tests/src/workspace.rs)
    target = ROOT / "target" / "external-plugins"
    subprocess.run(
        ["cargo", "build", "--quiet", "--manifest-path", str(manifest)],
        check=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
    )
    d = tmp_path_factory.mktemp("plugins")
    shutil.copy(target / "debug" / f"lib{lib}.so", d / f"lib{lib}.so")
    return d


@pytest.fixture(scope="session")
def template_plugin_dir(tmp_path_factory) -> Path:
    """examples/template-plugin: metrics `token-accuracy`, callback `epoch-file`."""
    return external_plugin(tmp_path_factory, ROOT / "examples" / "template-plugin", "medkit_plugin_template")


@pytest.fixture(scope="session")
def faulty_plugin_dir(tmp_path_factory) -> Path:
    """tests/fixtures/faulty-plugin: operations that panic."""
    return external_plugin(tmp_path_factory, ROOT / "tests" / "fixtures" / "faulty-plugin", "medkit_plugin_faulty")


@pytest.fixture(scope="session")
def trained_checkpoint(small_corpus, tmp_path_factory) -> str:
    """A MiniLM checkpoint fine-tuned 2 epochs on the small corpus (finds some diseases)."""
    from medkit.io.medkit_json import load_text_documents

    from medkit_rs import HFEntityMatcher
    from medkit_rs.training import Trainer, TrainerConfig

    trainable = HFEntityMatcher.make_trainable(str(MODEL), LABELS, "iob2", tokenizer_max_length=128)
    trainer = Trainer(
        trainable,
        TrainerConfig(output_dir=str(tmp_path_factory.mktemp("trained")), learning_rate=5e-4,
                      nb_training_epochs=2, batch_size=8, seed=0),
        list(load_text_documents(small_corpus["train"])),
        list(load_text_documents(small_corpus["validation"])),
    )
    trainer.train()
    return trainer.last_checkpoint
