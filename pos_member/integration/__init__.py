"""The main POS talking to the till (issue 16), without HTTP or Qt: what a reported sale or
refund is, how it is checked and applied through the till's own services (``reports``), the
integration token and where it is kept (``tokens``), the refusals (``errors``). The HTTP API
and the watched folder are in the ``integration_api`` package; docs/integration.md."""
