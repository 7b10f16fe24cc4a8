"""mc.draw: pictures rendered by graphviz to SVG, read back as a reader's browser would read them.

Every test that renders needs graphviz's `dot` (Debian: apt-get install graphviz; .ci/run installs
it, and the first test that renders does where apt-get can run) and the graphviz Python package (the `draw` extra).  Without them the tests fail and say so:
nothing is skipped silently.  Expected labels are written out by hand.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import matcalc as mc
from tests.system_packages import debian_program

SVG = "{http://www.w3.org/2000/svg}"


def _svg_texts(drawing) -> list[str]:
    assert debian_program("dot", "graphviz") is not None, "graphviz's dot is not installed: apt-get install graphviz"
    svg = drawing.svg()
    root = ET.fromstring(svg)  # well-formed XML, whatever the names were
    # a backslash is followed by an invisible word joiner (U+2060), or graphviz would read \N as the node's id
    return ["".join(t.itertext()).replace("\u2060", "") for t in root.iter(SVG + "text")]


def _one_layer():
    n, m = mc.dims("n m")
    W, a, b, t = mc.matrix("W", n, m), mc.vector("a", m), mc.vector("b", n), mc.vector("t", n)
    z = mc.let("z", W @ a + b)
    return mc.sum((mc.sigmoid(z) - t) ** 2) / 2, W, a


def test_a_derivation_shows_operations_shapes_adjoints_and_rules():
    loss, W, a = _one_layer()
    texts = _svg_texts(mc.draw(mc.derive(loss, [W, a])))
    for label in [
        "variable, matrix", "n×m", "W", "∂ℓ/∂W = δ_z aᵀ", "∂ℓ/∂a = Wᵀ δ_z",  # the variables
        "add, let", "z = Wa + b", "δ_z = (σ(z) − t) ⊙ σ'(z)",  # the let names its node and its adjoint
        "σ, elementwise", "σ(z)", "ℓ = sum((σ(z) − t)²)/2", "∂ℓ/∂ℓ = 1",
    ]:
        assert label in texts, label
    # each edge: the rule that carried the adjoint back, and what it carried
    for label in ["G : Ax = Gxᵀ : A", "← δ_z aᵀ", "G : Ax = AᵀG : x", "← Wᵀ δ_z",
                  "G : d(σ(x)) = (G ⊙ σ'(x)) : dx", "← (σ(z) − t) ⊙ σ'(z)", "d(sum(x)) = 𝟏 : dx"]:
        assert label in texts, label


def test_an_expression_shows_each_shared_node_once():
    n, m = mc.dims("n m")
    X = mc.matrix("X", n, m)
    drawing = mc.draw(mc.norm(X @ X.T @ X))
    texts = _svg_texts(drawing)
    assert texts.count("X") == 1 and "Xᵀ" in texts and "transpose" in texts and "m×n" in texts
    x_id = next(node.id for node in drawing.nodes if node.text == "X")
    assert len([e for e in drawing.edges if e.tail == x_id]) == 3  # X is used three times, drawn once


def test_the_three_paths_to_x_add_up_to_its_gradient():
    """W = XXᵀ, Y = WX, ℓ = ‖Y‖_F: X reaches ℓ along three edges; its adjoint is their sum."""
    n, m = mc.dims("n m")
    X = mc.matrix("X", n, m)
    W = mc.let("W", X @ X.T)
    Y = mc.let("Y", W @ X)
    drawing = mc.draw(mc.derive(mc.norm(Y), X))
    texts = _svg_texts(drawing)
    for label in ["W = XXᵀ", "Y = WX", "δ_Y = Y/‖Y‖_F", "δ_W = δ_Y Xᵀ", "← W δ_Y", "← δ_W X", "← Xᵀ δ_W", "← δ_Wᵀ X",
                  "d(‖A‖_F) = A/‖A‖_F : dA"]:
        assert label in texts, label
    assert "∂ℓ/∂X = W δ_Y + (δ_W + δ_Wᵀ) X" in texts


def test_values_show_each_nodes_numeric_shape_and_norm_and_the_adjoints_norm():
    n, m = mc.dims("n m")
    X = mc.matrix("X", n, m)
    Y = mc.let("Y", X @ X.T @ X)
    rng = np.random.default_rng(3)
    X0 = rng.normal(size=(3, 2))
    drawing = mc.draw(mc.derive(mc.norm(Y), X), values={"X": X0})
    texts = _svg_texts(drawing)

    def norm_of_loss(x):
        return np.linalg.norm(x @ x.T @ x)

    step, fd = 1e-6, np.zeros_like(X0)
    for i in np.ndindex(*X0.shape):  # central differences, independent of matcalc
        e = np.zeros_like(X0)
        e[i] = step
        fd[i] = (norm_of_loss(X0 + e) - norm_of_loss(X0 - e)) / (2 * step)
    assert f"value 3×2, norm {np.linalg.norm(X0):.4g}" in texts
    assert f"adjoint 3×2, norm {np.linalg.norm(fd):.4g}" in texts
    assert f"value 3×2, norm {np.linalg.norm(X0 @ X0.T @ X0):.4g}" in texts
    assert f"value {norm_of_loss(X0):.4g}" in texts


def test_automatic_names_keep_an_unnamed_network_readable():
    n = mc.dims("n")[0]
    x, t = mc.vector("x", n), mc.vector("t", n)
    W1, W2 = mc.matrix("W1", n, n), mc.matrix("W2", n, n)
    loss = mc.norm(mc.tanh(W2 @ mc.tanh(W1 @ x)) - t) ** 2 / 2
    texts = _svg_texts(mc.draw(mc.derive(loss, [W1, W2])))
    for label in ["v₁ = W₁x", "v₂ = W₂tanh(v₁)", "δ_v₁ = (W₂ᵀ δ_v₂) ⊙ (𝟏 − tanh(v₁)²)", "∂ℓ/∂W₁ = δ_v₁ xᵀ",
                  "∂ℓ/∂W₂ = δ_v₂ tanh(v₁)ᵀ"]:
        assert label in texts, label


def test_intermediates_that_share_a_name_are_numbered():
    n = mc.dims("n")[0]
    h, weights = mc.vector("x", n), []
    for k in (1, 2):
        weights.append(mc.matrix(f"W{k}", n, n))
        h = mc.let("h", mc.tanh(weights[-1] @ h))
    texts = _svg_texts(mc.draw(mc.derive(mc.sum(h), weights)))
    assert "h⁽¹⁾ = tanh(W₁x)" in texts and "h⁽²⁾ = tanh(W₂h⁽¹⁾)" in texts
    assert "δ_h⁽¹⁾ = W₂ᵀ (δ_h⁽²⁾ ⊙ (𝟏 − h⁽²⁾²))" in texts  # tanh' = 1 − tanh², written with the layer's name


@pytest.mark.parametrize("name", ['"', "\\", "<script>", "</TD>", "a&b]]>", "\\N", "{x|y}", "-->"])
def test_hostile_names_are_escaped(name):
    n = mc.dims("n")[0]
    A, x = mc.matrix(name, n, n), mc.vector("x", n)
    z = mc.let(name + "z", A @ x)
    drawing = mc.draw(mc.derive(mc.sum(mc.tanh(z)), A))
    texts = _svg_texts(drawing)
    assert name in texts and f"δ_{name}z = 𝟏 − tanh({name}z)²" in texts
    assert any(text.startswith(f"{name}z = {name}") and text.endswith("x") for text in texts)
    assert "<script>" not in drawing.source


def test_a_depth_100_network_collapses_its_repeated_layers_and_stays_small():
    n = mc.dims("n")[0]
    h, t, weights = mc.vector("x", n), mc.vector("t", n), []
    for k in range(1, 101):
        weights.append(mc.matrix(f"W{k}", n, n))
        h = mc.let("h", mc.tanh(mc.let("z", weights[-1] @ h)))
    drawing = mc.draw(mc.derive(mc.norm(h - t) ** 2 / 2, weights))
    svg = drawing.svg()
    assert len(drawing.nodes) <= 40 and "repeated layers" in drawing.note
    assert len(svg.encode()) < 100_000, f"{len(svg.encode())} bytes"  # the README states: under 100 kB
    texts = _svg_texts(drawing)
    assert any("repeated layers" in text for text in texts)
    assert "∂ℓ/∂W₁ = δ_z⁽¹⁾ xᵀ" in texts and "h⁽¹⁰⁰⁾ = tanh(z⁽¹⁰⁰⁾)" in texts  # both ends are drawn


def test_it_saves_svg_png_and_pdf_and_shows_in_jupyter(tmp_path):
    loss, W, _ = _one_layer()
    drawing = mc.draw(mc.derive(loss, W))
    assert drawing._repr_svg_().lstrip().startswith(("<?xml", "<svg"))
    assert drawing.save(tmp_path / "p.svg").read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    assert drawing.save(tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
    assert drawing.save(tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    assert drawing.save(tmp_path / "picture", format="png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(mc.MatcalcError, match="svg, png, pdf"):
        drawing.save(tmp_path / "p.gif")


def test_bad_input_and_a_missing_dot_are_errors_that_say_what_to_do(monkeypatch):
    with pytest.raises(mc.MatcalcError, match="expression or a derivation"):
        mc.draw(3)
    with pytest.raises(mc.MatcalcError, match="direction"):
        mc.draw(mc.vector("x", 2), direction="up")
    import graphviz

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Source, "pipe", missing)
    with pytest.raises(mc.MatcalcError, match="apt-get install graphviz"):
        mc.draw(mc.vector("x", 2)).svg()
