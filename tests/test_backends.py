"""embed backends: the backend is part of the recorded model name; ONNX export is local and matches torch."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from qa.embed import BACKENDS, DEFAULT_MODEL, WORD_TABLE_WORDS, Embedder, batches, model_name, pinned, session_options, split_name
from qa.errors import ModelError


def test_backend_is_part_of_the_model_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_BACKEND", raising=False)
    assert model_name() == f"{DEFAULT_MODEL}+openvino"  # the default backend, installed by default
    assert model_name(backend="torch") == DEFAULT_MODEL  # torch's vectors are recorded without a backend
    assert model_name(backend="onnx-int8") == f"{DEFAULT_MODEL}+onnx-int8"
    assert model_name(f"{DEFAULT_MODEL}+onnx") == f"{DEFAULT_MODEL}+onnx"  # a manifest's name loads its backend
    # an index built with torch records the bare name: pinned, it is searched with torch, not the default
    assert model_name(pinned(DEFAULT_MODEL)) == DEFAULT_MODEL
    assert pinned(f"{DEFAULT_MODEL}+onnx") == f"{DEFAULT_MODEL}+onnx"
    monkeypatch.setenv("QA_BACKEND", "onnx")
    assert model_name() == f"{DEFAULT_MODEL}+onnx"
    assert model_name(pinned(DEFAULT_MODEL)) == DEFAULT_MODEL  # the index's backend wins over $QA_BACKEND
    monkeypatch.setenv("QA_BACKEND", "torch")
    assert model_name() == DEFAULT_MODEL
    assert split_name(f"{DEFAULT_MODEL}+onnx-int8") == (DEFAULT_MODEL, "onnx-int8")
    assert split_name("my+model") == ("my+model", "torch")  # a '+' that names no backend is part of the name
    with pytest.raises(ModelError, match="unknown"):
        model_name(backend="tpu")


def test_the_cli_offers_exactly_the_embedders_backends() -> None:
    from qa import cli

    build = cli.parser()._subparsers._group_actions[0].choices["build"]  # type: ignore[union-attr]
    choices = next(a.choices for a in build._actions if a.dest == "backend")
    assert tuple(choices) == BACKENDS


def test_batches_keep_padding_small_and_cover_every_text() -> None:
    texts = ["w"] * 300 + ["x" * 1000] * 10 + ["y" * 200] * 30
    groups = batches(texts, max_size=128, max_chars=4000)
    assert sorted(i for g in groups for i in g) == list(range(len(texts)))
    for g in groups:
        longest = max(len(texts[i]) for i in g)
        assert len(g) <= 128 and (len(g) == 1 or len(g) * longest <= 4000)
        assert [len(texts[i]) for i in g] == sorted((len(texts[i]) for i in g), reverse=True)
    assert max(len(g) for g in groups) == 128  # short words share big batches
    assert [len(g) for g in groups][:3] == [4, 4, 4]  # paragraphs go a few at a time (the third: 2 long, 2 short)
    assert batches([], 8) == [] and batches([""], 8) == [[0]]


def test_onnxruntime_threads_sleep_between_batches_instead_of_spinning() -> None:
    """Spinning worker threads burned CPU seconds for nothing on 2 cores (docs/performance.md)."""
    options = session_options(2)
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (2, 1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None and not os.environ.get("CI"),
                    reason="needs the fast extra (.ci/run installs it; under CI this never skips)")
def test_onnx_export_is_local_and_matches_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE", str(tmp_path))
    texts = ["The EEC opened a delegation in Tokyo in 1974.", "nuclear", "Apples bloom in April."] * 12
    torch_vectors = Embedder(backend="torch").encode_passages(texts)
    onnx = Embedder(backend="onnx")
    assert onnx.name == f"{DEFAULT_MODEL}+onnx"
    assert list(tmp_path.rglob("model.onnx"))  # exported into the local cache, nothing downloaded
    vectors = onnx.encode_passages(texts)
    assert vectors.shape == torch_vectors.shape and vectors.dtype == np.float32
    assert float(np.min(np.sum(vectors * torch_vectors, axis=1))) > 0.9999


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("openvino") is None and not os.environ.get("CI"),
                    reason="needs the fast extra (.ci/run installs it; under CI this never skips)")
def test_openvino_runs_the_local_export_with_torch_equal_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE", str(tmp_path))
    texts = ["The EEC opened a delegation in Tokyo in 1974.", "nuclear", "Apples bloom in April. " * 30] * 5
    torch_vectors = Embedder(backend="torch").encode_passages(texts)
    fast = Embedder(backend="openvino")
    assert fast.name == f"{DEFAULT_MODEL}+openvino"
    assert list(tmp_path.rglob("model.onnx"))  # the same local export as the onnx backend
    vectors = fast.encode_passages(texts)
    assert vectors.shape == torch_vectors.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    # bfloat16 on processors that have it: a few parts in 100,000 of cosine, far below what ranks passages
    assert float(np.min(np.sum(vectors * torch_vectors, axis=1))) > 0.999


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None and not os.environ.get("CI"),
                    reason="needs the fast extra (.ci/run installs it; under CI this never skips)")
@pytest.mark.parametrize("backend, least", [("torch", 0.9999), ("openvino", 0.999)])
def test_questions_go_through_the_onnx_twin_with_torch_equal_vectors(monkeypatch: pytest.MonkeyPatch, backend: str,
                                                                     least: float) -> None:
    """torch's and OpenVINO's (bfloat16 where the processor has it) passages, asked by the fp32 ONNX twin."""
    model = Embedder(backend=backend)
    assert model.name == (DEFAULT_MODEL if backend == "torch" else f"{DEFAULT_MODEL}+{backend}")  # one model, one index
    question = ["Which source says the EU would seek a defence pact with Japan?", "archipelago", "shortfall"]
    queries = model.encode_queries(question)
    assert model._query_onnx is not None  # made at the first question
    assert float(np.min(np.sum(queries * model.encode_passages(question), axis=1))) > least  # passages: the backend
    batch = [f"Passage number {i} about harbours and the river." for i in range(40)]  # a build-sized batch: the backend
    assert np.allclose(model.encode_queries(batch), model.encode_passages(batch), atol=1e-6)
    monkeypatch.setenv("QA_QUERY_ONNX", "0")
    off = Embedder(backend=backend)
    off.encode_queries(question)
    assert off._query_onnx is None


@pytest.mark.slow
def test_the_word_table_is_built_once_and_gives_the_models_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE", str(tmp_path))
    monkeypatch.setenv("QA_QUERY_ONNX", "0")  # torch on both sides: the comparison is of the table alone
    model = Embedder()
    words = ["archipelago", "shortfall", "harbour", "zqxvbn"]  # in the tokenizer's words, or not
    encoded = model.encode_passages(words)
    assert model.build_word_table() == WORD_TABLE_WORDS  # the tokenizer's most frequent whole words
    assert list((tmp_path / "words").glob("*.npy"))
    assert model.build_word_table() == 0  # once per model
    looked_up = Embedder().encode_words(words)  # a new process's embedder finds the cached table
    assert looked_up.dtype == np.float32 and looked_up.shape == encoded.shape
    assert float(np.min(np.sum(looked_up * encoded, axis=1))) > 0.999  # float16 storage


def test_the_cache_key_follows_a_models_files_not_where_they_are(tmp_path: Path) -> None:
    import os
    import shutil

    from qa.embed import _folder_key

    first = tmp_path / "a" / "model"
    first.mkdir(parents=True)
    (first / "config.json").write_text('{"dim": 384}', encoding="utf-8")
    weights = bytearray(os.urandom(3 << 20))
    (first / "model.safetensors").write_bytes(bytes(weights))
    second = tmp_path / "b" / "model"
    shutil.copytree(first, second)
    os.utime(second / "model.safetensors", (1, 1))  # another install: another place, other times
    assert _folder_key(str(first)) == _folder_key(str(second))
    weights[-10] ^= 0xFF  # other weights of the same size
    (second / "model.safetensors").write_bytes(bytes(weights))
    assert _folder_key(str(first)) != _folder_key(str(second))
    assert _folder_key("sentence-transformers/all-MiniLM-L6-v2") != _folder_key("another/model")


@pytest.mark.slow
def test_a_damaged_word_table_is_rebuilt_and_a_missing_one_is_looked_for_once(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.embed as embed

    monkeypatch.setenv("QA_CACHE", str(tmp_path))
    model = Embedder()
    looked: list[str] = []
    real = embed.word_table_file
    monkeypatch.setattr(embed, "word_table_file", lambda *a: looked.append("x") or real(*a))
    model.encode_words(["harbour"])
    model.encode_words(["harbour"])
    assert len(looked) == 1  # no table: words are encoded, and the cache is not searched per question
    file = real(model.name, model._path)
    file.parent.mkdir(parents=True)
    file.write_bytes(b"not a table")
    assert model.build_word_table() == WORD_TABLE_WORDS  # damaged: made again
    assert model.encode_words(["harbour"]).shape == (1, model.dimension) and model._words


@pytest.mark.slow
def test_questions_go_without_torch_once_the_export_is_cached(tmp_path: Path) -> None:
    """qa search's question path: the cached ONNX export + tokenizers, no torch import, same vectors."""
    import subprocess
    import sys

    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed")
    env = {**os.environ, "QA_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    code = ("import sys, numpy as np\n"
            "from qa.embed import load_embedder\n"
            "q = load_embedder(questions=True)\n"
            "print(type(q).__name__, 'torch' in sys.modules)\n")
    first = subprocess.run([sys.executable, "-c", code + "q.encode_queries(['a first question'])\n"],
                           capture_output=True, text=True, env=env, timeout=600, check=False)
    assert first.stdout.split() == ["Embedder", "True"], first.stderr  # no export yet: torch, which makes it
    check = code + ("texts = ['When did the EEC open its delegation in Tokyo?', '  harbour ', 'x' * 3000]\n"
                    "a = q.encode_queries(texts); words = q.encode_words(['harbour', 'zzqx'])\n"
                    "t = load_embedder(backend='torch')\n"  # fp32 on both sides: the question path alone
                    "print(float(min((a * t.encode_passages(texts)).sum(1))),"
                    " float(min((words * t.encode_passages(['harbour', 'zzqx'])).sum(1))))\n"
                    "print([q.count_tokens(x) for x in texts] == [t.count_tokens(x) for x in texts], q.dimension,"
                    " q.max_tokens)\n")
    second = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, timeout=600,
                            check=False)
    lines = second.stdout.splitlines()
    assert lines[0] == "QueryEncoder False", second.stderr  # the export is cached: no torch on the question path
    cos, word_cos = map(float, lines[1].split())
    assert cos > 0.9999 and word_cos > 0.9999
    assert lines[2] == "True 384 254"


@pytest.mark.slow
def test_questions_to_an_int8_index_go_without_torch_through_its_own_graph(tmp_path: Path) -> None:
    """An index built with --backend onnx-int8: questions through the cached int8 export, torch-free, as its passages."""
    import subprocess
    import sys

    env = {**os.environ, "QA_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    name = f"{DEFAULT_MODEL}+onnx-int8"
    texts = ["When did the EEC open its delegation in Tokyo?", "harbour"]
    make = (f"from qa.embed import Embedder\nimport numpy as np\ne = Embedder('{name}')\n"
            f"np.save('{tmp_path / 'v.npy'}', e.encode_queries({texts!r}))\nprint(e.fingerprint)\n")
    made = subprocess.run([sys.executable, "-c", make], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert made.returncode == 0, made.stderr
    ask = (f"import sys, numpy as np\nfrom qa.embed import load_embedder\nq = load_embedder('{name}', questions=True)\n"
           f"v = np.load('{tmp_path / 'v.npy'}')\n"
           f"cos = float(min((q.encode_queries({texts!r}) * v).sum(1)))\n"
           "print(type(q).__name__, 'torch' in sys.modules, q.fingerprint, cos)\n")
    asked = subprocess.run([sys.executable, "-c", ask], capture_output=True, text=True, env=env, timeout=600, check=False)
    kind, torch_loaded, fingerprint, cos = asked.stdout.split()
    assert (kind, torch_loaded, fingerprint) == ("QueryEncoder", "False", made.stdout.strip()), asked.stderr
    assert float(cos) > 0.9999


@pytest.mark.slow
def test_a_build_goes_without_torch_once_the_export_is_cached(tmp_path: Path) -> None:
    """The default backend's GraphEmbedder (no torch): the torch-loaded Embedder's counts and vectors exactly."""
    import subprocess
    import sys

    env = {**os.environ, "QA_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    texts = [f"Passage {i} on the harbour of Vellmar, opened in 1911." for i in range(40)] + \
            ["  spaced out  ", "Über naïve café", "word " * 600]  # a batch, a few, and one past the model's window
    run = ("import sys, json, numpy as np\nfrom qa.embed import Embedder, load_embedder\n"
           f"texts = {texts!r}\n"
           "e = Embedder() if sys.argv[1] == 'torch' else load_embedder()\n"
           "print(type(e).__name__, 'torch' in sys.modules, e.name, e.fingerprint)\n"
           "print(json.dumps([e.count_tokens(t) for t in texts]))\n"
           f"np.save('{tmp_path}/' + sys.argv[1] + '.npy', np.vstack([e.encode_passages(texts), e.encode_passages(texts[-3:]),"
           " e.encode_words(['harbour', 'zzqxv'] * 20)]))\n")
    made = subprocess.run([sys.executable, "-c", run, "torch"], capture_output=True, text=True, env=env, timeout=600,
                          check=False)  # loads torch and makes the export
    again = subprocess.run([sys.executable, "-c", run, "graph"], capture_output=True, text=True, env=env, timeout=600,
                           check=False)
    assert made.returncode == 0 and again.returncode == 0, made.stderr[-2000:] + again.stderr[-2000:]
    first, second = made.stdout.splitlines(), again.stdout.splitlines()
    kind, torch_loaded, name, fingerprint = second[0].split()
    assert (kind, torch_loaded) == ("GraphEmbedder", "False")
    assert first[0].split()[2:] == [name, fingerprint] == [f"{DEFAULT_MODEL}+openvino", fingerprint]  # one index
    assert first[1] == second[1] and max(json.loads(second[1])) > 254  # counts past the window too
    assert np.array_equal(np.load(tmp_path / "torch.npy"), np.load(tmp_path / "graph.npy"))


def test_an_openvino_runner_that_failed_midway_runs_again(tmp_path: Path) -> None:
    """The build's OpenVINO runner (its requests made once, taken in turn): every batch's output reaches ``done``
    with its rows, and a run stopped by an error (the texts' generator failing) leaves no request running, so
    the next run takes them all again."""
    pytest.importorskip("openvino")
    import onnx
    from onnx import TensorProto, helper

    from qa.embed import _openvino_run

    graph = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
         helper.make_node("Unsqueeze", ["ids", "axis"], ["out"])],
        "tiny", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "t"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", "t", 1])],
        [helper.make_tensor("axis", TensorProto.INT64, [1], [2])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "tiny.onnx")
    run = _openvino_run(tmp_path / "tiny.onnx", 2)

    def jobs(n: int, fail_at: int | None = None):
        for i in range(n):
            if i == fail_at:
                raise RuntimeError("a text could not be read")
            yield [i], {"input_ids": np.full((1, 3), i, dtype=np.int64)}

    got: dict[int, float] = {}
    with pytest.raises(RuntimeError):
        run(jobs(9, fail_at=5), lambda rows, out, feed: got.update({rows[0]: float(out[0, 0, 0])}))
    got.clear()
    run(jobs(9), lambda rows, out, feed: got.update({rows[0]: float(out[0, 0, 0])}))
    assert got == {i: float(i) for i in range(9)}
