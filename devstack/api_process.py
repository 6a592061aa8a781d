"""``python -m devstack.api_process``: the app's REST API (Chalice's local
server) as a process of its own, so its HTTP handling and the handlers' SDK work
do not share an interpreter lock with moto and the pumps.

``DEVSTACK_API_OPTIONS`` (JSON: project_dir, stage, host, port, app_env) says
what to serve, in the environment rather than the command line so ``ps`` stays
readable; the rest of the environment (endpoint, credentials, CA bundle) is
the parent's.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from .processes import run_as_child


def serve(options: dict[str, Any]) -> Callable[[Callable[[dict], None]], Any]:
    def start(announce: Callable[[dict], None]) -> Callable[[], None]:
        # Like `chalice local`: the app's logging goes to stdout, as in Lambda.
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
        logging.getLogger("botocore").setLevel(logging.WARNING)
        logging.getLogger("pynamodb").setLevel(logging.WARNING)
        from chalice.cli.factory import CLIFactory
        from chalice.deploy.validate import validate_routes

        from .greedy_paths import install

        install()  # /{proxy+} at any depth, as API Gateway routes it

        ack = options.get("settings_ack_file")
        signal.signal(signal.SIGUSR1, lambda signum, frame: _drop_cached_settings(ack))
        factory = CLIFactory(options["project_dir"], environ=os.environ)
        config = factory.create_config_obj(chalice_stage_name=options["stage"])
        app = factory.load_chalice_app(options["app_env"])
        domain = options["app_env"].get("WEBSOCKET_DOMAIN")
        if domain:
            app.websocket_api.configure(domain, options["stage"])
        validate_routes(app.routes)  # what `chalice deploy` would refuse, refuse here too
        server = factory.create_local_server(app, config, options["host"], options["port"])
        thread = threading.Thread(target=server.server.serve_forever, args=(0.1,),
                                  name="devstack-chalice-local", daemon=True)
        thread.start()
        announce({"port": server.server.server_address[1]})

        def stop() -> None:
            server.shutdown()
            server.server.server_close()
            thread.join(2.0)

        return stop

    return start


def _drop_cached_settings(ack_file: str | None) -> None:
    """The app caches Parameter Store for SETTINGS_CACHE_SECONDS; the stack's control endpoint
    asks (SIGUSR1) for a change to apply at once, as a new container would, and waits for the
    count in ``ack_file`` to go up."""
    from chalicelib.bootstrap import services

    built = services()
    if "settings" in vars(built):
        built.settings.clear_cache()
    if ack_file:
        path = Path(ack_file)
        try:
            count = int(path.read_text() or 0)
        except (OSError, ValueError):
            count = 0
        path.write_text(str(count + 1))


def main() -> int:
    return run_as_child(serve(json.loads(os.environ.pop("DEVSTACK_API_OPTIONS"))))


if __name__ == "__main__":
    sys.exit(main())
