"""The conformance suite every cloud connector must pass (one suite, parametrised by
connector and its simulated cloud).

Black-box: each case starts the simulated cloud as a real HTTP server with a generated
clinic (:mod:`.harness`: one small class per cloud that reads the cloud's state, makes
cloud-side changes and injects faults), and a real branch server process connected to it
through the command line (:mod:`.branch`: ``python -m app.sync serve --cloud NAME
--cloud-url URL --cloud-account ID``, the key in ``ISTIQBAL_CLOUD_KEY``). The desk acts
through the branch's HTTP API; ``sync --once`` and the ``/sync`` routes settle it.

A case whose capability the connector does not declare (``GET /sync/clouds`` →
``capabilities``, read by :mod:`.declared`) is skipped with that reason; a cloud whose
connector is not registered is skipped with "connector not registered". Nothing here
imports ``app``: the suite sees the connector only as a user of the branch would.
"""
