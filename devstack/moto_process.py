"""``python -m devstack.moto_process --port N``: the local AWS (moto's server mode, with
:func:`devstack.motofix.patch_moto` applied) as a process of its own, with the user pool
domains' OAuth endpoints (:mod:`devstack.hosted_ui`), which read moto's Cognito state."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Callable

from .processes import run_as_child


def serve(host: str, port: int, verbose: bool,
          state_file: Path | None = None) -> Callable[[Callable[[dict], None]], Any]:
    def start(announce: Callable[[dict], None]) -> Callable[[], None]:
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
        if not verbose:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
        from .motofix import patch_moto

        patch_moto()
        restored = 0
        checkpoints = None
        if state_file is not None:
            from . import moto_state
            from .moto_checkpoints import Checkpoints

            for leftover in state_file.parent.glob(f".{state_file.name}.*"):  # a write a kill -9 cut short
                leftover.unlink(missing_ok=True)
            if state_file.exists():
                restored = moto_state.load(state_file)
            checkpoints = Checkpoints(state_file, moto_state.snapshot,
                                      lambda path, data, as_of: moto_state.save(path, data, as_of))
        server = _server(host, port, checkpoints.wrap if checkpoints else None)
        server.start()
        if checkpoints:
            checkpoints.start()
        bound_host, bound_port = server.get_host_and_port()
        _accept_deploys(f"http://{bound_host}:{bound_port}")
        from .hosted_ui import start_hosted_ui  # issue 21: the user pool domains' OAuth endpoints moto lacks

        hosted_ui = start_hosted_ui(host)
        announce({"url": f"http://{bound_host}:{bound_port}", "restored": restored,
                  "hosted_ui_url": hosted_ui.url})

        def stop() -> None:
            if checkpoints:
                checkpoints.stop()
            hosted_ui.stop()
            server.stop()
            if state_file is not None:  # after the server: nothing changes it any more
                from . import moto_state

                try:
                    saved = moto_state.save(state_file)
                except Exception as error:  # noqa: BLE001 - said in one line, and the exit status says it too
                    print(f"devstack: error: could not save the local AWS to {state_file}: "
                          f"{type(error).__name__}: {error}", file=sys.stderr, flush=True)
                    raise SystemExit(SAVE_FAILED) from None
                print(f"devstack: saved the local AWS ({saved} backends) to {state_file}",
                      flush=True)

        return stop

    return start


SAVE_FAILED = 3  # the exit status of a moto process that could not save the local AWS on its clean stop


def _server(host: str, port: int, wrap: Callable[[Any], Any] | None) -> Any:
    """moto's threaded server, its WSGI app wrapped by ``wrap`` (the checkpoints' gate) if given."""
    from moto.server import ThreadedMotoServer

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:  # moto's own, with the app wrapped
            from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                        create_backend_app)
            from werkzeug.serving import make_server

            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(self._ip_address, self._port, wrap(app) if wrap else app, True,
                                       request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(ip_address=host, port=port, verbose=False)


def _accept_deploys(url: str) -> None:
    """Issue 21: ``scripts/deploy.py --rehearse`` may deploy a stage of its own into this local AWS (the runbook's
    commands do, in docs/deployment.md): the patches Chalice's deploy needs and the stand-in CloudFormation
    (devstack/motodeploy.py, devstack/cloudformation.py), each installed when moto first loads what it patches.
    The local stack itself is provisioned without them."""
    import boto3

    from . import motodeploy
    from .provision import FAKE_CREDENTIALS, REGION

    def session() -> Any:
        return boto3.session.Session(aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                     region_name=REGION)

    motodeploy.apply()  # moto's own modules: patched now, or (API Gateway) when something first imports them
    # The stand-in CloudFormation once a deploy first calls CloudFormation: installing it imports
    # moto.cloudformation.responses, whose parsing module imports every moto backend (about 2 s of CPU at every
    # start, for a stack that never deploys into itself).
    motodeploy.when_imported("moto.cloudformation.responses", lambda: motodeploy.apply(url, session))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.moto_process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--state-file", type=Path, default=None,
                        help="load moto's state from here if it exists; save it here on stop")
    args = parser.parse_args(argv)
    return run_as_child(serve(args.host, args.port, args.verbose, args.state_file))


if __name__ == "__main__":
    sys.exit(main())
