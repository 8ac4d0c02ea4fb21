"""medkit_rs.spark on a local[2] Spark (one session for the module): the CLI's entities (fp32 and
int8), a killed Python worker retried with nothing lost or duplicated, error rows, segments, the medkit JSONL
round trip."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, MEDKIT, ROOT

@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers' Python: the one with medkit_rs
    session = (
        SparkSession.builder.master("local[2,4]")  # 2 cores, a task may fail 3 times
        .appName("medkit_rs tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


def cli_entities(checkpoint, input_path, tmp_path, *extra):
    out = tmp_path / "cli.jsonl"
    subprocess.run(
        [str(MEDKIT), "annotate", "--model", checkpoint, "--input", str(input_path), "--output", str(out),
         "--drop-existing-entities", "--batch-size", "16", *extra],
        check=True, capture_output=True,
    )
    found = {}
    with open(out, encoding="utf-8") as f:
        next(f)
        for line in f:
            d = json.loads(line)
            found[d["uid"]] = sorted(
                (a["label"], a["spans"][0]["start"], a["spans"][-1]["end"], a["text"],
                 next(x["value"] for x in a["attrs"] if x["label"] == "score"))
                for a in d["anns"] if a["_class_name"].endswith("Entity")
            )
    return found


def spark_entities(df):
    found = {}
    for r in df.collect():
        assert r["error"] is None, r
        found.setdefault(r["uid"], []).append((r["label"], r["start"], r["end"], r["text"], r["score"]))
    return {k: sorted(v) for k, v in found.items()}


def same(spark_found, cli_found, tol=1e-6):
    """Same entities per document (label, offsets, text), scores within ``tol``."""
    assert {k for k, v in cli_found.items() if v} == set(spark_found)
    for uid, theirs in cli_found.items():
        mine = spark_found.get(uid, [])
        assert [e[:4] for e in mine] == [e[:4] for e in theirs], uid
        assert all(abs(a[4] - b[4]) <= tol for a, b in zip(mine, theirs)), (uid, mine, theirs)


def test_entities_equal_the_clis_on_the_ncbi_test_sentences(spark, trained_checkpoint, tmp_path):
    from medkit_rs import spark as mks

    docs = mks.read_medkit_jsonl(spark, DATA / "test.jsonl")
    assert docs.count() == 1015
    found = spark_entities(mks.annotate(docs, trained_checkpoint, batch_size=16))
    cli = cli_entities(trained_checkpoint, DATA / "test.jsonl", tmp_path)
    assert len(cli) == 1015 and sum(map(len, cli.values())) > 100
    same(found, cli)


def test_int8_entities_equal_the_clis_int8_entities(spark, trained_checkpoint, tmp_path):
    from medkit_rs import spark as mks

    subset = tmp_path / "subset.jsonl"
    with open(DATA / "test.jsonl", encoding="utf-8") as f, open(subset, "w", encoding="utf-8") as out:
        out.writelines(line for _, line in zip(range(201), f))  # the header line and 200 documents
    docs = mks.read_medkit_jsonl(spark, subset)
    found = spark_entities(mks.annotate(docs, trained_checkpoint, batch_size=16, quantize="int8"))
    cli = cli_entities(trained_checkpoint, subset, tmp_path, "--quantize", "int8")
    # int8 depends on the batches (other batches than the CLI's move fp32 values by ~1e-7, which
    # can move a token's int8 rounding by a step): nearly the same entities, scores within 1e-2.
    mine = {(uid,) + e[:4]: e[4] for uid, es in found.items() for e in es}
    theirs = {(uid,) + e[:4]: e[4] for uid, es in cli.items() for e in es}
    common = set(mine) & set(theirs)
    assert len(common) >= 0.97 * max(len(mine), len(theirs)) and len(common) > 50, (len(mine), len(theirs))
    assert max(abs(mine[k] - theirs[k]) for k in common) < 1e-2
    fp32 = spark_entities(mks.annotate(docs, trained_checkpoint, batch_size=16))
    assert found != fp32, "quantize did not reach the matcher"
    with pytest.raises(Exception, match="int4"):
        mks.annotate(docs, trained_checkpoint, quantize="int4")


def test_a_killed_worker_is_retried_with_nothing_lost_or_duplicated(spark, trained_checkpoint, tmp_path):
    from medkit_rs import spark as mks

    marker = str(tmp_path / "killed")
    docs = mks.read_medkit_jsonl(spark, DATA / "test.jsonl").select("uid", "text").repartition(2)

    def die_once_midway(batches):
        from pyspark import TaskContext

        ctx = TaskContext.get()
        for n, pdf in enumerate(batches):
            yield pdf
            if n == 1 and ctx.partitionId() == 0 and ctx.attemptNumber() == 0:
                Path(marker).write_text(str(os.getpid()))
                os._exit(1)  # the Python worker dies in the middle of its partition

    flaky = docs.mapInPandas(die_once_midway, docs.schema)
    rows = mks.annotate(flaky, trained_checkpoint, batch_size=16).collect()
    assert Path(marker).exists(), "the worker was not killed"
    clean = mks.annotate(docs, trained_checkpoint, batch_size=16).collect()
    key = lambda r: (r["uid"], r["label"], r["start"], r["end"])  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, clean))
    assert len(set(map(key, rows))) == len(rows), "an entity came twice"


def test_documents_that_cannot_be_annotated_give_error_rows(spark, trained_checkpoint):
    from pyspark.sql import types as T

    from medkit_rs import spark as mks

    schema = T.StructType([T.StructField("id", T.LongType()), T.StructField("body", T.StringType())])
    df = spark.createDataFrame(
        [(1, "Familial adenomatous polyposis and colorectal cancer."), (2, None), (3, "   ")], schema)
    rows = mks.annotate(df, trained_checkpoint, text_col="body", id_col="id").collect()
    errors = {r["id"]: r["error"] for r in rows if r["error"]}
    assert errors == {2: "text is null", 3: "text is empty"}
    assert all(r["label"] for r in rows if r["id"] == 1)
    with pytest.raises(Exception, match="document 2: text is null"):
        mks.annotate(df, trained_checkpoint, text_col="body", id_col="id", on_error="fail").collect()
    with pytest.raises(ValueError, match="column 'text' is not in the DataFrame"):
        mks.annotate(df, trained_checkpoint)
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        mks.annotate(df, "/tmp/no-such-model", text_col="body", id_col="id")
    with pytest.raises(Exception, match="aggregation"):
        mks.annotate(df, trained_checkpoint, text_col="body", id_col="id", aggregation_strategy="median")


def test_segments_equal_the_clis_segmentation(spark, trained_checkpoint, tmp_path):
    """Three sentences per document, annotated sentence by sentence: the CLI's entities with
    `--segments sentence --segmentation sentence-tokenizer`, offsets in the document."""
    from medkit_rs import spark as mks

    lines = (DATA / "test.jsonl").read_text(encoding="utf-8").splitlines()[1:61]
    texts = [json.loads(line)["text"] for line in lines]
    docs = [{"uid": f"doc{i}", "text": " ".join(texts[i:i + 3]), "metadata": {}, "anns": [],
             "_class_name": "medkit.core.text.document.TextDocument"} for i in range(0, 60, 3)]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join([mks.MEDKIT_HEADER] + [json.dumps(d, ensure_ascii=False) for d in docs]) + "\n",
                    encoding="utf-8")
    df = mks.read_medkit_jsonl(spark, path)
    result = mks.annotate(df, trained_checkpoint, batch_size=16, segments="sentence-tokenizer")
    assert {r["segment"] for r in result.collect()} == {"sentence"}
    cli = cli_entities(trained_checkpoint, path, tmp_path, "--segments", "sentence",
                       "--segmentation", "sentence-tokenizer")
    same(spark_entities(result.drop("segment")), cli)


def test_medkit_jsonl_round_trip_is_identical(spark, tmp_path):
    from medkit_rs import spark as mks

    for src in (DATA / "test.jsonl", ROOT / "tests" / "data" / "interop" / "fr.jsonl"):
        out = tmp_path / src.name
        n = mks.write_medkit_jsonl(mks.read_medkit_jsonl(spark, src), out)
        assert out.read_bytes() == src.read_bytes(), src
        assert n == len(src.read_text(encoding="utf-8").splitlines()) - 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text(mks.MEDKIT_HEADER + '\n{"uid": "x", "text": "t"}\n', encoding="utf-8")
    with pytest.raises(Exception, match="line 2: not a medkit TextDocument"):
        mks.read_medkit_jsonl(spark, bad).collect()
    with pytest.raises(FileNotFoundError, match="absent.jsonl"):
        mks.read_medkit_jsonl(spark, tmp_path / "absent.jsonl")
