"""The ``vigil`` command line, one module per concern.

Exit status: 0 when an analysis finds no violation, 1 when it finds violations, 2 for bad
usage or unreadable input (one line on stderr saying what was expected).

- :mod:`~vigil.cli.root`: the group, its table of commands, ``--version``, :func:`main`
- :mod:`~vigil.cli.lazy`: the group that imports a command's module only when it runs
- :mod:`~vigil.cli.common`: consoles, one-line records, errors, ``--output text|json``
- :mod:`~vigil.cli.data`: ``baseline``, ``analyze`` (no server, database or HTTP client), and
  :mod:`~vigil.cli.model_quality`, their ``--problem-type`` side
- :mod:`~vigil.cli.server`, :mod:`~vigil.cli.tokens`: ``server``, ``token create|revoke``
- :mod:`~vigil.cli.monitor`: ``monitor run|backfill``
- :mod:`~vigil.cli.alarm`, :mod:`~vigil.cli.action`, :mod:`~vigil.cli.delivery`
- :mod:`~vigil.cli.config`: ``apply``; :mod:`~vigil.cli.export`: ``export``, ``export grafana``;
  :mod:`~vigil.cli.demo`: ``demo``
- :mod:`~vigil.cli.endpoint`, :mod:`~vigil.cli.schedule`, :mod:`~vigil.cli.execution`,
  :mod:`~vigil.cli.topic`: listing and show commands, locally or against a server
- :mod:`~vigil.cli.remote`: ``vigil --server URL --token T``: the client of a server's API;
  :mod:`~vigil.cli.local`: opening a local installation without creating one by accident, and
  the API's documents computed locally; :mod:`~vigil.cli.views`: how both are printed
"""

from vigil.cli.root import COMMANDS, app, main

__all__ = ["COMMANDS", "app", "main"]
