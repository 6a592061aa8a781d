"""The account-opening state machine and its audit history, one module per concern.

One explicit table says which event may move an application from which state to which state. Every
change to an application is a ``Change``: the new application (version + 1) and the history events
that explain it, each chained to the previous one by hash. The repository commits a Change as one
conditional transaction, so a state without its history event cannot exist.

Each module imports only the ones above it in this list (an import-linter layers contract,
.importlinter ``workflow-layers``, keeps it so):

* ``states``: ``State``, ``EventType`` and THE table ``TRANSITIONS``; which events the applicant never sees;
* ``errors``: the rule violations (``DomainError`` and its kinds) the API answers with a 4xx;
* ``history``: ``HistoryEvent`` and ``Actor``, an event's hash, the personal data in it and its salted
  commitments, the chain's versions and ``LegacySeal``;
* ``application``: ``Application``, ``Change`` and the ``ChangeBuilder`` that makes every Change through
  ``TRANSITIONS``; ``iso``/``parse_iso``, the timestamps they carry;
* ``chain``: sealing a Change under the chain key and verifying a history (``seal``, ``verify_chain``);
* the commands, each making a Change, none importing another: ``intake`` (submit, the document, withdraw),
  ``consolidation`` (the checks' fan-in and the decision), ``review`` (a reviewer's decision, four eyes,
  the review queue's claims, staff access), ``screening`` (sanctions false positives and re-screening
  cases), ``lifecycle`` (expiry, escalation, the retention purge).

Import from the module that holds a name (``from chalicelib.domain.workflow.states import State``); the
package itself re-exports nothing. Pure domain code: no I/O, no AWS.
"""
