"""Two stores in two workspaces stay apart; the client secret and tokens never land in the database in clear; tokens renew early."""
from __future__ import annotations

import time

import pytest
from django.apps import apps
from django.db import connection

from hi.integrations.testing import ProviderCall
from hi.orders.models import Order
from hi.services.ifood.simulator import IFoodSimulator

from .helpers import CLIENT_ID, MERCHANTS, SECRET, add_ifood, work, work_until

pytestmark = pytest.mark.django_db

OTHER_ID, OTHER_SECRET = "hi-other-client", "ifood-other-canary-91be"


def test_each_workspace_gets_only_its_own_credentials_orders(workspace, other_workspace, operator_client):
    """Given two credentials serving different stores in two workspaces, then each workspace sees only its own orders."""
    with IFoodSimulator(credentials={CLIENT_ID: SECRET, OTHER_ID: OTHER_SECRET}, merchants=MERCHANTS,
                        grants={CLIENT_ID: [MERCHANTS[0]], OTHER_ID: [MERCHANTS[1]]}) as sim:
        ours = add_ifood(workspace, sim, merchant_ids=MERCHANTS[0])
        theirs = add_ifood(other_workspace, sim, client_id=OTHER_ID, client_secret=OTHER_SECRET, merchant_ids=MERCHANTS[1])
        mine, other = sim.place_order(MERCHANTS[0]), sim.place_order(MERCHANTS[1])
        work_until(ours, lambda: Order.objects.filter(external_id=mine).exists())
        work_until(theirs, lambda: Order.objects.filter(external_id=other).exists())
    assert Order.objects.get(external_id=mine).workspace == workspace
    assert Order.objects.get(external_id=other).workspace == other_workspace
    foreign = Order.objects.get(external_id=other)
    assert operator_client.get(f"/orders/{foreign.ref}/").status_code == 404
    assert foreign.ref not in operator_client.get("/orders/").content.decode()
    assert operator_client.post(f"/orders/{foreign.ref}/actions/confirm/").status_code == 404


def test_the_secret_and_the_tokens_are_nowhere_in_the_database_in_clear(ifood, ifood_sim):
    """Given an integration that polled, fetched and acted, then no table holds the client secret or an access token."""
    ifood_sim.place_orders(2)
    work_until(ifood, lambda: Order.objects.count() == 2)
    tokens = {r.headers["authorization"].split(" ", 1)[1] for r in ifood_sim.requests if r.headers.get("authorization")}
    assert tokens
    canaries = [SECRET, *tokens]
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names come from the models
            text = repr(cursor.fetchall())
            for canary in canaries:
                assert canary not in text, f"{table} holds a secret in clear"


def test_a_token_is_renewed_before_it_expires(ifood, ifood_sim):
    """Given tokens that live 2 s, when polling after they are due, then hi fetches a new one first: iFood never answers 401."""
    ifood_sim.token_lifetime_s = 2
    ifood_sim.expire_tokens()
    work(ifood)  # the cached 6-hour token is refused once (401), and a 2-second one replaces it
    refused = ProviderCall.objects.filter(integration=ifood, status=401).count()
    time.sleep(2.2)
    ifood_sim.place_order()
    work_until(ifood, lambda: Order.objects.count() == 1)
    assert len(ifood_sim.requests_to("/authentication/v1.0/oauth/token")) >= 3  # activation's, then one per lifetime
    assert ProviderCall.objects.filter(integration=ifood, status=401).count() == refused
