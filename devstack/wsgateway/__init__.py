"""A local stand-in for API Gateway's WebSocket API (developer tooling only).

`chalice local` serves the REST API and nothing else, so the app's
``@app.on_ws_connect`` / ``@app.on_ws_message`` / ``@app.on_ws_disconnect``
handlers would never run on a laptop. :class:`WebSocketGateway` plays API
Gateway's part for them, in four pieces:

* ``websocket_server``: the ``ws://`` server clients connect to, calling the
  handlers through ``app.handler_map`` as Lambda would, so Chalice's own
  ``WebsocketEventSourceHandler`` and websocket middleware run as in AWS;
* ``lambda_events``: the API Gateway-shaped events those handlers get;
* ``management_api``: ``POST``/``GET``/``DELETE /<stage>/@connections/{id}``,
  which ``app.websocket_api`` talks to through boto3;
* ``local_ca``: the TLS certificate for it (Chalice always builds the
  endpoint as ``https://{domain_name}/{stage}``). Point ``AWS_CA_BUNDLE`` at
  :attr:`WebSocketGateway.ca_bundle` in every process that sends.

``gateway`` ties them to one event loop thread. This package lives in
``devstack/``, outside ``chalicelib/`` and ``requirements.txt``, so it is
never part of the Lambda package.
"""
from .connections import MAX_MESSAGE_BYTES
from .gateway import WebSocketGateway

__all__ = ["MAX_MESSAGE_BYTES", "WebSocketGateway"]
