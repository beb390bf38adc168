"""Opening msgraph-sdk from the settings: who gets a token, and settings that are refused."""

from __future__ import annotations

import pytest
from azure.identity.aio import ClientSecretCredential, ManagedIdentityCredential
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from msgraph_core.authentication import AzureIdentityAuthenticationProvider

from bot.errors import ConfigurationError
from bot.graph.client import GRAPH_HOSTS, connect
from bot.settings import GRAPH_PUBLIC_URL, Settings

SITE = "contoso.sharepoint.com,1,2"


def settings(**values) -> Settings:
    return Settings(**{"graph_site_id": SITE, **values})


async def test_a_loopback_base_url_gets_anonymous_auth():
    async with connect(settings(graph_base_url="http://127.0.0.1:8123/v1.0")) as graph:
        assert isinstance(graph.adapter._authentication_provider, AnonymousAuthenticationProvider)
        assert graph.adapter.base_url == "http://127.0.0.1:8123/v1.0"
        assert graph.credential is None


async def test_a_client_secret_gives_tokens_to_microsofts_graph_hosts_only():
    secret = settings(graph_tenant_id="t", graph_client_id="c", graph_client_secret="s")

    async with connect(secret) as graph:
        auth = graph.adapter._authentication_provider
        validator = auth.access_token_provider.get_allowed_hosts_validator()

        assert isinstance(auth, AzureIdentityAuthenticationProvider)
        assert isinstance(graph.credential, ClientSecretCredential)
        assert graph.adapter.base_url == GRAPH_PUBLIC_URL
        assert validator.is_url_host_valid("https://graph.microsoft.com/v1.0/sites")
        assert not validator.is_url_host_valid("http://127.0.0.1:8123/v1.0/sites")
        assert not validator.is_url_host_valid("https://evil.example/v1.0/sites")
        assert sorted(validator.get_allowed_hosts()) == sorted(GRAPH_HOSTS)


async def test_no_secret_means_the_managed_identity():
    async with connect(settings(graph_client_id="user-assigned-id")) as graph:
        assert isinstance(graph.credential, ManagedIdentityCredential)


def test_a_secret_without_tenant_and_client_ids_is_refused_with_their_names():
    with pytest.raises(ConfigurationError, match="BCP_GRAPH_TENANT_ID and BCP_GRAPH_CLIENT_ID"):
        connect(settings(graph_client_secret="s"))


def test_a_base_url_that_is_neither_graph_nor_loopback_is_refused():
    with pytest.raises(ConfigurationError, match="BCP_GRAPH_BASE_URL='https://graph.example"):
        connect(settings(graph_base_url="https://graph.example/v1.0"))


def test_plain_http_to_microsofts_graph_is_refused():
    with pytest.raises(ConfigurationError, match="is not accepted"):
        connect(settings(graph_base_url="http://graph.microsoft.com/v1.0"))


def test_connecting_with_graph_off_names_the_setting_that_turns_it_on():
    with pytest.raises(ConfigurationError, match="BCP_GRAPH_SITE_ID"):
        connect(Settings())
