"""Pytest fixtures: a fake Graph on loopback and a real msgraph-sdk client pointed at it.

Import them into a test module (`from tests.graph_server.fixtures import graph,
graph_server, graph_settings`) or list this module in the root conftest's `pytest_plugins`.
"""

from __future__ import annotations

import pytest

from bot.graph.client import GraphConnection, connect
from bot.settings import Settings

from .server import GraphServer


@pytest.fixture
async def graph_server():
    """A Graph-compatible server on 127.0.0.1 with one site and a fixed RNG seed."""
    async with GraphServer(seed=20240101) as server:
        yield server


@pytest.fixture
def graph_settings(graph_server: GraphServer) -> Settings:
    return Settings(graph_site_id=graph_server.site_id, graph_base_url=graph_server.url)


@pytest.fixture
async def graph(graph_settings: Settings):
    """A GraphConnection (msgraph-sdk client, default middleware) to graph_server."""
    connection: GraphConnection = connect(graph_settings)
    async with connection:
        yield connection
