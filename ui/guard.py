"""Who may drive the app: a request must name this machine as its Host, and off loopback carry the token.

Binding to 127.0.0.1 does not stop a web page the user visits from reaching the app through DNS rebinding: the
browser then sends `Host: attacker.example:8501`. So every page first checks the Host header against loopback
names, IP literals (a rebinding page always uses a domain name), this machine's names, the configured
server.address and $GANLAB_ALLOWED_HOSTS (comma-separated). When the server listens beyond loopback
(`--server.address 0.0.0.0`, or no address at all), a session must also present the token kept in
$GANLAB_HOME/token (mode 0600) as `?token=...` once; the server prints the ready link when it first serves.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping

import streamlit as st

from ganlab import paths

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SESSION_OK = "guard.token_ok"


def _headers() -> Mapping[str, str]:
    return st.context.headers


def _server_address() -> str:
    return str(st.get_option("server.address") or "")


def _server_port() -> int:
    return int(st.get_option("server.port") or 8501)


def host_name(host_header: str) -> str:
    """'example.org:8501' -> 'example.org'; '[::1]:8501' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def allowed_names() -> set[str]:
    names = set(LOOPBACK_NAMES) | {socket.gethostname().lower(), socket.getfqdn().lower()}
    address = _server_address().lower()
    if address and address not in ("0.0.0.0", "::"):
        names.add(address)
    names |= {h.strip().lower() for h in os.environ.get("GANLAB_ALLOWED_HOSTS", "").split(",") if h.strip()}
    return names


def host_allowed(host_header: str | None) -> bool:
    """Whether a request with this Host header may use the app (no header: no browser request to check)."""
    if not host_header:
        return True
    name = host_name(host_header)
    return _is_ip(name) or name in allowed_names()


def needs_token() -> bool:
    """True when the server listens beyond loopback: then a session must present the token."""
    address = _server_address()
    if not address:
        return True  # Streamlit's default binds every interface
    return not (address.lower() in LOOPBACK_NAMES or (_is_ip(address) and ipaddress.ip_address(address).is_loopback))


@st.cache_resource(show_spinner=False)
def _announce() -> bool:
    """Print the ready link once per server process (the terminal that started the app shows it)."""
    if needs_token():
        host = _server_address() if _server_address() not in ("", "0.0.0.0", "::") else socket.gethostname()
        print(f"GAN Lab is reachable beyond this machine; open it with: "
              f"http://{host}:{_server_port()}/?token={paths.app_token()}", flush=True)
    return True


def link_params() -> dict[str, str] | None:
    """Query parameters page links must carry (the token when one is needed), so a reload keeps working."""
    return {"token": paths.app_token()} if needs_token() and st.session_state.get(SESSION_OK) else None


def check() -> None:
    """Render a refusal and stop the page unless this request may drive the app."""
    _announce()
    host = _headers().get("Host")
    if not host_allowed(host):
        st.error(f"Refused: this page was requested as {host!r}, which is not this machine. GAN Lab answers "
                 "only to localhost, its own addresses and the names in GANLAB_ALLOWED_HOSTS.")
        st.stop()
    if not needs_token() or st.session_state.get(SESSION_OK):
        return
    if st.query_params.get("token") == paths.app_token():
        st.session_state[SESSION_OK] = True
        return
    st.error("This GAN Lab listens beyond this machine, so it needs its access token. Open the link the server "
             "printed in its terminal, or run `python -m ganlab token` on the machine that runs it.")
    st.stop()
