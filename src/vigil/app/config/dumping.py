"""Writing a ``vigil.yaml``: stable key order, empty values left out, and
``load(dump(x)) == x``."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from vigil.app.config.dashboards import dashboard_document
from vigil.app.config.document import KINDS, VigilConfig

_HEADER = "# Vigil monitoring as code: apply with `vigil apply -f <this file>`.\n"


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes strings holding Unicode line breaks.

    PyYAML would write them unquoted or single-quoted with ``allow_unicode``, and read them
    back as line breaks, so ``load(dump(x))`` would differ from ``x``.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(c in value for c in "\x85\u2028\u2029"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _spec_dict(spec: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fields = type(spec).model_fields
    for name, value in spec.model_dump(mode="json").items():
        field = fields.get(name)
        required = field is not None and field.is_required()
        if (value is None or value == {}) and not required:
            continue  # a required empty value (a rule's ``pattern: {}``) is kept
        out[name] = _sorted(value) if isinstance(value, dict) else value
    return out


def dump_config(config: VigilConfig) -> str:
    """The config as YAML: fields in model order, free-form dicts sorted, empty values left out.

    >>> from vigil.app.config import EndpointSpec, parse_config
    >>> cfg = VigilConfig(endpoints=[EndpointSpec(name="churn")])
    >>> print(dump_config(cfg), end="")
    # Vigil monitoring as code: apply with `vigil apply -f <this file>`.
    version: 1
    endpoints:
    - name: churn
      variant: AllTraffic
    >>> parse_config(dump_config(cfg)) == cfg
    True
    """
    data: dict[str, Any] = {"version": config.version}
    for kind in KINDS:
        specs = getattr(config, kind)
        if specs and kind == "dashboards":  # nested widgets: what differs from the defaults
            data[kind] = [dashboard_document(s) for s in specs]
        elif specs:
            data[kind] = [_spec_dict(s) for s in specs]
    if config.platform is not None:
        data["platform"] = config.platform.model_dump(mode="json")
    if config.defaults is not None:
        data["defaults"] = config.defaults.model_dump(mode="json", exclude_none=True)
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1000,
    )
    return _HEADER + body
