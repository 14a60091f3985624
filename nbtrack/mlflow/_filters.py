"""MLflow's search filters and ``order_by`` terms, as nbtrack's grammar takes them.

nbtrack's grammar already reads MLflow's spellings (see :mod:`nbtrack.query.filter`); what is
left is MLflow's meaning of a few names:

* the system tags nbtrack keeps as run attributes: ``tags.mlflow.runName`` is ``name``,
  ``tags.mlflow.parentRunId`` is ``parent_run_id``, ``tags.mlflow.user`` is ``user``,
  ``tags.mlflow.source.name`` is ``source``, ``tags.mlflow.source.git.commit`` is ``git_commit``;
* ``attributes.experiment_id`` is ``experiment`` (an experiment's id is its name);
* times: MLflow compares ``start_time``/``end_time``/``created`` with epoch milliseconds,
  nbtrack with seconds, so numbers after those names are divided by 1000.

>>> translate("tags.mlflow.runName = 'rf' and attributes.start_time > 1700000000000")
"name = 'rf' and attributes.start_time > 1700000000.0"
>>> translate("tags.note = 'tags.mlflow.runName'")
"tags.note = 'tags.mlflow.runName'"
"""

from __future__ import annotations

import re

SYSTEM_TAGS = {
    "mlflow.runName": "name",
    "mlflow.parentRunId": "parent_run_id",
    "mlflow.user": "user",
    "mlflow.source.name": "source",
    "mlflow.source.git.commit": "git_commit",
}
_TAG_PREFIXES = {"tags", "tag"}
_ATTR_PREFIXES = {"attributes", "attribute", "attr", "run"}
_TIMES = {"start_time", "end_time", "created"}

_TOKEN = re.compile(
    r"""
    (?P<string>'(?:[^']|'')*')
    |(?P<column>(?P<prefix>`?[A-Za-z_]\w*`?)\.
        (?P<key>`[^`]*`|"(?:[^"]|"")*"|'(?:[^']|'')*'|[\w\-/:.]+))
    |(?P<dquoted>"(?:[^"]|"")*")
    |(?P<word>`[^`]*`|[A-Za-z_]\w*)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_COMPARED_NUMBER = re.compile(r"(\s*(?:<=|>=|!=|<>|==|=|<|>)\s*)(-?\d+(?:\.\d+)?)")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`\"'":
        return text[1:-1].replace(text[0] * 2, text[0]) if text[0] != "`" else text[1:-1]
    return text


def translate(text: str) -> str:
    """An MLflow filter (or order_by term) in nbtrack's meaning; strings are left alone."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        token = _TOKEN.match(text, pos)
        assert token is not None  # the last alternative matches any character
        pos = token.end()
        piece = token.group()
        attribute = None
        if token.group("column"):
            prefix = _unquote(token.group("prefix")).lower()
            key = _unquote(token.group("key"))
            if prefix in _TAG_PREFIXES and key in SYSTEM_TAGS:
                piece = SYSTEM_TAGS[key]
            elif prefix in _ATTR_PREFIXES:
                attribute = key
                if key == "experiment_id":
                    piece = "experiment"
        elif token.group("word"):
            attribute = _unquote(piece)
            if attribute == "experiment_id":
                piece = "experiment"
        out.append(piece)
        if attribute in _TIMES:
            number = _COMPARED_NUMBER.match(text, pos)
            if number is not None:
                out.append(number.group(1) + repr(float(number.group(2)) / 1000))
                pos = number.end()
    return "".join(out)


def translate_order(order_by: list[str] | str | None) -> list[str] | None:
    """``order_by`` terms with MLflow's names translated (see :func:`translate`)."""
    if order_by is None:
        return None
    terms = [order_by] if isinstance(order_by, str) else list(order_by)
    return [translate(term) for term in terms]
