"""The synced traits of the widgets and the TypeScript that reads them agree: each widget's
synced traits are exactly the fields of its interface in js/src/models.ts, and the front end
reads every one of them (a trait nobody reads in the browser should not travel)."""

from __future__ import annotations

import re
from functools import cache

import anywidget
import pytest
import traitlets as t
from helpers import ROOT

from nbtrack.widgets.comparison import Compare
from nbtrack.widgets.curves import CurveTraits
from nbtrack.widgets.metric_plot import MetricPlot
from nbtrack.widgets.registry import ModelRegistry
from nbtrack.widgets.run_table import RunTable

JS_SRC = ROOT / "js" / "src"
MODELS = JS_SRC / "models.ts"
# Each widget (and the mixin of the curve charts) and the interface that mirrors its traits.
INTERFACES: dict[type[t.HasTraits], str] = {
    RunTable: "RunTableModel",
    MetricPlot: "MetricPlotModel",
    Compare: "CompareModel",
    CurveTraits: "CurveTraits",
    ModelRegistry: "ModelRegistryModel",
}
# The traits of anywidget and ipywidgets themselves (_model_*, _view_*, layout, ...); anywidget
# adds _esm and _css per instance, so the class-level names below never hold them.
BASE_TRAITS = frozenset(anywidget.AnyWidget.class_trait_names(sync=True))

# `export interface Name extends A, B {` ... `}` (the closing brace at the start of a line).
INTERFACE = re.compile(r"^export interface (\w+)(?: extends ([\w, ]+))? \{\n(.*?)^\}", re.M | re.S)
# A field sits at the body's own indentation; deeper lines belong to nested object types.
FIELD = re.compile(r"^  (\w+)\??:", re.M)
# How the front end reads or writes a trait by name: model.get("x"), "change:x",
# save(model, "x", ...) and the other helpers taking (model, "x"), onChanges(model, ["x", ...]).
READ = re.compile(r'model\.get\(\s*"(\w+)"|change:(\w+)|\b\w+\(\s*model\s*,\s*"(\w+)"')
ON_CHANGES = re.compile(r"onChanges\(\s*model\s*,\s*\[([^\]]*)\]")
QUOTED = re.compile(r'"(\w+)"')


def synced_traits(cls: type[t.HasTraits]) -> set[str]:
    """The traits that ``cls`` itself tags ``sync=True`` (not anywidget's own)."""
    return set(cls.class_trait_names(sync=True)) - BASE_TRAITS


@cache
def interfaces() -> dict[str, tuple[list[str], set[str]]]:
    """Each interface of models.ts: the interfaces it extends and its own fields."""
    found = {}
    for match in INTERFACE.finditer(MODELS.read_text()):
        name, extends, body = match.groups()
        parents = [p.strip() for p in extends.split(",")] if extends else []
        found[name] = (parents, set(FIELD.findall(body)))
    return found


def interface_fields(name: str) -> set[str]:
    """The fields of interface ``name``, those it inherits included."""
    parents, fields = interfaces()[name]
    return fields.union(*(interface_fields(parent) for parent in parents))


def uses_in(source: str) -> set[str]:
    """The trait names that TypeScript ``source`` reads or writes through its model."""
    names = {name for groups in READ.findall(source) for name in groups if name}
    for listed in ON_CHANGES.findall(source):
        names.update(QUOTED.findall(listed))
    return names


@cache
def front_end_uses() -> frozenset[str]:
    """The trait names that the widgets' TypeScript reads or writes."""
    sources = (path.read_text() for path in JS_SRC.glob("*.ts") if path != MODELS)
    return frozenset().union(*(uses_in(source) for source in sources))


def widget_id(cls: type[t.HasTraits]) -> str:
    return cls.__name__


@pytest.mark.parametrize("cls", INTERFACES, ids=widget_id)
def test_synced_traits_are_the_fields_of_the_models_interface(cls: type[t.HasTraits]) -> None:
    fields = interface_fields(INTERFACES[cls])
    synced = synced_traits(cls)
    assert not synced - fields, f"synced traits missing from {INTERFACES[cls]} in models.ts"
    assert not fields - synced, f"{INTERFACES[cls]} fields that {cls.__name__} does not sync"


@pytest.mark.parametrize("cls", INTERFACES, ids=widget_id)
def test_the_front_end_uses_every_synced_trait(cls: type[t.HasTraits]) -> None:
    unused = synced_traits(cls) - front_end_uses()
    assert not unused, f"no js/src file reads these: drop their .tag(sync=True): {unused}"


def test_the_parsers_find_each_way_of_naming_a_trait() -> None:
    """A regex that stopped matching would make the tests above pass on nothing."""
    source = """
      const a = props.model.get("a") ?? [];
      model.on("change:b", update);
      save(model, "c", 1);
      traitCheckbox(model, "d", "label");
      onChanges(model, [
        "e", "f",
      ], batched(update));
      const runs = content.runs.map((run) => h("span", { class: "g" }, run.name));
    """
    assert uses_in(source) == {"a", "b", "c", "d", "e", "f"}
    assert interface_fields("CompareModel") >= {"_content", "_spec", "smoothing"}  # inherited
