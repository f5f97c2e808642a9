"""The int8 query graph (bot/embed/convert/quantize.py) on a tiny hand-made graph: which products are
quantised, that the kept ones stay fp32, that the result is made once and redone when the recipe
changes, and that a broken recipe file means no int8 graph rather than a crash."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from bot.embed.convert.quantize import (
    Q8_DIR,
    Q8_FILE,
    ensure_query_graph,
    load_recipe,
    quantize_graph,
    recipe_digest,
    split_outliers,
    weight_matmuls,
)
from bot.errors import FittedFileError, ModelError


@pytest.fixture()
def graph(tmp_path):
    """x · W1 → · W2 → y, plus a product of two inputs (x · b), which is not a weight product."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.normal(size=(16, 16)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(size=(16, 8)).astype(np.float32), "w2")
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
             helper.make_node("MatMul", ["h", "w2"], ["y"], name="mm2"),
             helper.make_node("MatMul", ["x", "b"], ["z"], name="activations")]
    g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 16]),
                                          helper.make_tensor_value_info("b", TensorProto.FLOAT, [16, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 8]),
                           helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, 4])], [w1, w2])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = tmp_path / "fp32.onnx"
    onnx.save_model(model, str(path))
    return path


def _ops(path):
    return {n.name: n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}


def _run(path, x):
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return s.run(["y"], {"x": x, "b": np.ones((16, 4), np.float32)})[0]


def test_weight_matmuls_are_the_products_with_a_weight(graph):
    assert weight_matmuls(graph) == ["mm1", "mm2"]


def test_kept_products_stay_fp32_and_the_rest_is_int8(graph, tmp_path):
    dest = tmp_path / "q" / "model.onnx"
    dest.parent.mkdir()
    quantize_graph(graph, dest, keep_fp32=["mm2"])
    ops = _ops(dest)
    assert ops["mm2"] == "MatMul" and ops["activations"] == "MatMul"
    assert "mm1" not in ops or ops["mm1"] != "MatMul"
    assert any(op == "MatMulInteger" for op in ops.values())
    x = np.random.default_rng(1).normal(size=(5, 16)).astype(np.float32)
    a, b = _run(graph, x), _run(dest, x)
    assert not np.array_equal(a, b)  # quantised...
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.99  # ...and close


def test_the_graph_is_made_once_and_redone_for_another_recipe(graph, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    first = ensure_query_graph(folder, graph, {"keep_fp32": ["mm2"]})
    assert first == folder / Q8_DIR / Q8_FILE and _ops(first)["mm2"] == "MatMul"
    mtime = first.stat().st_mtime_ns
    assert ensure_query_graph(folder, graph, {"keep_fp32": ["mm2"]}).stat().st_mtime_ns == mtime
    again = ensure_query_graph(folder, graph, {"keep_fp32": []})
    assert _ops(again).get("mm2") != "MatMul" and "MatMulInteger" in _ops(again).values()
    assert [p.name for p in folder.iterdir()] == [Q8_DIR]  # no temp folder left behind


def test_a_damaged_query_graph_is_made_again(graph, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    path = ensure_query_graph(folder, graph, {"keep_fp32": ["mm2"]})
    path.write_bytes(path.read_bytes()[:10])  # truncated: its size no longer matches the stamp
    path = ensure_query_graph(folder, graph, {"keep_fp32": ["mm2"]})
    x = np.ones((2, 16), np.float32)
    assert _run(path, x).shape == (2, 8)


_PROVENANCE = '"format": 1, "features": ["keep_fp32", "outlier_channels"], "fitted_by": "a test", "data": "none", ' \
    '"commit": "0000000", "model": "m", '


@pytest.mark.parametrize("text", ["", "{", "[]", '{"keep_fp32": []}',
                                  '{' + _PROVENANCE.replace('"format": 1', '"format": 2') + '"keep_fp32": []}',
                                  '{' + _PROVENANCE.replace('"keep_fp32", ', '') + '"keep_fp32": []}',
                                  '{' + _PROVENANCE + '"keep_fp32": "mm1"}', '{' + _PROVENANCE + '"keep_fp32": [1]}',
                                  '{' + _PROVENANCE + '"keep_fp32": [], "outlier_channels": ["mm1"]}',
                                  '{' + _PROVENANCE + '"keep_fp32": [], "outlier_channels": {"mm1": []}}',
                                  '{' + _PROVENANCE + '"keep_fp32": [], "outlier_channels": {"mm1": [-1]}}',
                                  '{' + _PROVENANCE + '"keep_fp32": [], "outlier_channels": {"mm1": [1.5]}}'])
def test_a_broken_recipe_is_refused_by_name(tmp_path, text):
    path = tmp_path / "recipe.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FittedFileError, match="recipe.json.*refit it"):
        load_recipe(path)
    with pytest.raises(FittedFileError, match="missing.json is missing"):
        load_recipe(tmp_path / "missing.json")


def test_a_well_formed_recipe_loads(tmp_path):
    path = tmp_path / "recipe.json"
    path.write_text('{' + _PROVENANCE + '"keep_fp32": ["mm2"], "outlier_channels": {"mm1": [3]}}', encoding="utf-8")
    assert load_recipe(path)["outlier_channels"] == {"mm1": [3]}


def test_the_shipped_recipe_loads():
    recipe = load_recipe()
    assert recipe["outlier_channels"]
    assert recipe["fitted_by"] == "python -m fit.fit_quant"
    json.dumps(recipe)  # plain data


def test_serving_sizes_follow_the_question_precision():
    """Unset workers / micro-batching: cores and off with int8 questions (the default model on
    ONNX), 8 and 16 otherwise (fp32 questions batch well); explicit values always win."""
    from bot.settings import Settings, cpu_count

    assert (Settings().workers, Settings().embed_batch) == (cpu_count(), 0)
    for fp32 in (dict(query_int8=False), dict(embed_backend="torch"), dict(model="some/own-model")):
        assert (Settings(**fp32).workers, Settings(**fp32).embed_batch) == (8, 16), fp32
    assert (Settings(workers=5, embed_batch=4).workers, Settings(workers=5, embed_batch=4).embed_batch) == (5, 4)


def test_the_quantisers_advice_is_dropped_and_nothing_else(graph, tmp_path, caplog, monkeypatch):
    """Quantising runs while a server is up: its logs meanwhile (other loggers, other threads)
    still go out; only the quantiser's own root-logger advice is dropped."""
    import logging

    import onnxruntime.quantization as q

    real = q.quantize_dynamic

    def meanwhile(*args, **kwargs):
        logging.getLogger("jaxabot.test").warning("a server's own warning")
        return real(*args, **kwargs)

    monkeypatch.setattr(q, "quantize_dynamic", meanwhile)
    level = logging.getLogger().level
    with caplog.at_level(logging.WARNING):
        quantize_graph(graph, tmp_path / "q.onnx", keep_fp32=[])
    messages = [r.getMessage() for r in caplog.records]
    assert not any("pre-processing" in m for m in messages)
    assert "a server's own warning" in messages
    assert logging.getLogger().level == level and not logging.getLogger().filters


def _cos(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_an_outlier_channel_split_off_stays_fp32_and_spares_the_others(graph, tmp_path):
    """One input channel 60× the rest (as the model's feed-forward inputs have) sets a product's
    whole int8 range; split off, it is computed in fp32 and the rest quantises finely."""
    x = np.random.default_rng(2).normal(size=(6, 16)).astype(np.float32)
    x[:, 3] *= 60
    plain, split = tmp_path / "plain.onnx", tmp_path / "split.onnx"
    quantize_graph(graph, plain, keep_fp32=["mm2"])  # mm1 alone int8, in both
    quantize_graph(graph, split, keep_fp32=["mm2"], outlier_channels={"mm1": [3]})
    ops = _ops(split)
    assert ops["mm1/outlier_matmul"] == "MatMul"  # the outlier channel's part, fp32
    assert "mm1" not in ops or ops["mm1"] != "MatMul"  # the rest, int8
    exact = _run(graph, x)
    assert _cos(_run(split, x), exact).min() > _cos(_run(plain, x), exact).min()
    assert np.abs(_run(split, x) - exact).mean() < 0.1 * np.abs(_run(plain, x) - exact).mean()  # 0.09 vs 3.2


def test_splitting_without_quantising_changes_nothing(graph, tmp_path):
    """The rewrite alone is exact: (x · mask) · W' + x[k] · W[k] = x · W."""
    model = onnx.load(str(graph))
    assert split_outliers(model, {"mm1": [3, 5], "mm2": [0]}) == ["mm1/outlier_matmul", "mm2/outlier_matmul"]
    path = tmp_path / "rewritten.onnx"
    onnx.save_model(model, str(path))
    x = np.random.default_rng(3).normal(size=(4, 16)).astype(np.float32)
    np.testing.assert_allclose(_run(path, x), _run(graph, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("channels, message", [({"nowhere": [1]}, "does not have"),
                                               ({"mm1": [16]}, "channel 16 of 16")])
def test_a_recipe_that_does_not_fit_the_graph_is_refused(graph, tmp_path, channels, message):
    with pytest.raises(ModelError, match=message):
        ensure_query_graph(tmp_path, graph, {"keep_fp32": [], "outlier_channels": channels})
    assert not (tmp_path / Q8_DIR).exists()


def test_the_graph_is_redone_when_the_split_channels_change(graph, tmp_path):
    one = {"keep_fp32": [], "outlier_channels": {"mm1": [3]}}
    two = {"keep_fp32": [], "outlier_channels": {"mm1": [4]}}
    assert recipe_digest(one) != recipe_digest(two) != recipe_digest({"keep_fp32": []})
    path = ensure_query_graph(tmp_path, graph, one)
    ensure_query_graph(tmp_path, graph, two)
    rows = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    assert rows["mm1/outlier_channels"].tolist() == [4]
    assert not [p.name for p in tmp_path.rglob("*split*")]  # the rewritten fp32 copy is gone
