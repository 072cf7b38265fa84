"""Observations for the tests of ``core.causes.decide``, written flat (``handshake=…``,
``proxy=…``) as a table of cases reads best; the engine nests the network part."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any

from core.causes import Observations
from core.models import ProxyObservation, Target
from core.observations import NetworkObservation
from core.route import Route, RouteKind

NETWORK_FIELDS = frozenset(f.name for f in fields(NetworkObservation))


def observations(
    target: Target,
    local_now: dt.datetime,
    *,
    proxy: ProxyObservation | None = None,
    **kw: Any,
) -> Observations:
    """``proxy``: the check went through this proxy (a route of its own, as the engine records
    it); the network keys go into the network part, the rest as they are."""
    network = {key: kw.pop(key) for key in list(kw) if key in NETWORK_FIELDS}
    if proxy is not None:
        network.setdefault("route", Route(RouteKind.PROXY, None, (), proxy=proxy))
    return Observations(target, local_now, network=NetworkObservation(**network), **kw)
