"""A local certificate authority and server certificate for ``--tls``.

Some clients (the Node.js ``mixpanel`` package among them) refuse to send credentials over
plain HTTP. ``trustme`` (in the ``dev`` extra) mints a throw-away CA; point the client at the
CA file (``NODE_EXTRA_CA_CERTS``, ``SSL_CERT_FILE``, ``verify=``) and it trusts the collector.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import attrs

from mixtrack.errors import ConfigError


@attrs.frozen
class LocalTLS:
    context: ssl.SSLContext
    ca_file: Path


def local_tls(directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> LocalTLS:
    """Generate a CA and a certificate for ``hosts``; write ``ca.pem`` into ``directory``."""
    try:
        import trustme
    except ImportError:
        raise ConfigError(
            "--tls needs the trustme package: pip install 'mixtrack[dev]' (or trustme)"
        ) from None
    ca = trustme.CA()
    cert = ca.issue_cert(*hosts)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return LocalTLS(context, ca_file)
