"""Secrets out of everything stored or printed, and stored addresses never trusted with a key.

* :func:`is_secret_name` decides whether an option name holds a secret (``api_key``,
  ``access_token``, ``password``, ``HF_TOKEN``...; not ``max_tokens`` or ``keep_share``).
* :func:`redact_url` replaces URL passwords (``scheme://user:PASSWORD@host``), tokens given as the
  whole user-info of an ``http(s)`` URL (``https://TOKEN@host``) and secret query values
  (``?password=...``, ``&token=...``, ``&api_key=...``) with ``***``, anywhere in a text.
* :func:`mask_secrets` does both at any depth of mappings and lists: a value under a secret name
  becomes :data:`SECRET_PLACEHOLDER`, every string is passed through :func:`redact_url`, and a
  string that looks like a provider key (``sk-...``, ``hf_...``, ``ghp_...``) is masked wherever it is.
* :func:`redact_command` does the same to a recorded command line (``--llm-api-key VALUE``,
  ``--password=VALUE``, ``-o api_key=VALUE`` and URLs in arguments).
* :func:`find_masked` lists where a stored value was masked, so that reopening a study can ask for it.
* :func:`trust_base_url` / :func:`check_stored_urls`: an LLM server URL read from storage is only
  used while an API key sits in the environment when this process was given the same URL.

A private utility of the lowest layer (it imports only :mod:`hpolab.exceptions`): the LLM clients and
optimizers, the storage, the study, the harness, the analysis and the CLI all mask with it.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hpolab.exceptions import UntrustedURLError

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "REDACTED",
    "SECRET_PLACEHOLDER",
    "UntrustedURLError",
    "check_stored_urls",
    "find_masked",
    "is_secret_name",
    "is_trusted_url",
    "mask_secrets",
    "redact_command",
    "redact_url",
    "trust_base_url",
]

#: What replaces a secret inside a URL or a command line.
REDACTED = "***"
#: What replaces the value of a secret option in stored options.
SECRET_PLACEHOLDER = "<secret: not stored>"
#: Environment variables that name a trusted LLM server URL, in the order they are read.
BASE_URL_ENV = ("HPOLAB_LLM_BASE_URL", "OPENAI_BASE_URL")
#: The environment variable an OpenAI-compatible client reads its key from.
API_KEY_ENV = "OPENAI_API_KEY"

# Words of an option name that make it a secret (the name split at _, -, ., spaces and camelCase).
_SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "pass",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "sig",
        "signature",
        "privatekey",
        "accesskey",
        "sessionid",
    }
)
# Names that contain a secret word but hold none (counts and settings).
_NOT_SECRET = frozenset({"keys", "tokens", "key_col", "sort_key", "keep"})
# Values that are a provider's key whatever option holds them.
_KEY_VALUE = re.compile(
    r"\b(?:sk|pk|rk)-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_]{16,}|\bhf_[A-Za-z0-9]{20,}|\bgh[opsu]_[A-Za-z0-9]{20,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b"
)
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][\w+.-]*)://(?P<user>[^:/@\s?#]*)(?::(?P<pw>[^@\s/?#]*))?@")
_QUERY_PAIR = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&#\s;?]+)=(?P<value>[^&#\s;\"'<>]*)")
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def is_secret_name(name: Any) -> bool:
    """Whether an option, flag or query-parameter name holds a secret.

    Args:
        name: The name, e.g. ``"api_key"``, ``"--llm-api-key"``, ``"HF_TOKEN"``, ``"max_tokens"``.

    Returns:
        ``True`` when one of the name's words is a secret word (key, token, secret, password,
        credential, auth...), or the whole name joined is one (``apikey``).
    """
    text = str(name).strip().lstrip("-")
    if not text or text.lower() in _NOT_SECRET:
        return False
    words = [w.lower() for w in _WORD_SPLIT.split(text) if w]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return "".join(words) in _SECRET_WORDS


def redact_url(text: Any) -> str:
    """``text`` with every URL password, ``http(s)`` user-info token and secret query value as ``***``.

    Args:
        text: A URL, or any text holding URLs (an error message, a command line).

    Returns:
        The text; a user name before a password is kept (it names the account), e.g.
        ``postgresql://hpolab:***@db/hpo?sslmode=require&password=***``.
    """
    out = str(text)

    def userinfo(match: re.Match[str]) -> str:
        scheme, user, pw = match.group("scheme"), match.group("user"), match.group("pw")
        if pw is not None:
            return f"{scheme}://{user}:{REDACTED}@" if pw else match.group(0)
        if scheme.lower() in ("http", "https", "ws", "wss") and user:
            return f"{scheme}://{REDACTED}@"  # a lone user-info of a web URL is a token
        return match.group(0)

    def query(match: re.Match[str]) -> str:
        if match.group("value") and is_secret_name(match.group("name")):
            return f"{match.group('sep')}{match.group('name')}={REDACTED}"
        return match.group(0)

    out = _URL_USERINFO.sub(userinfo, out)
    out = _QUERY_PAIR.sub(query, out)
    return _KEY_VALUE.sub(REDACTED, out)


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` with every secret masked, at any depth.

    Mappings and lists (tuples become lists) are walked; the value under a secret name (see
    :func:`is_secret_name`) becomes :data:`SECRET_PLACEHOLDER` unless it is empty; every string,
    keys' values and list items alike, goes through :func:`redact_url`. Other values are kept.

    Args:
        value: Options, a benchmark context, study attributes.

    Returns:
        The masked copy (the input is not changed).
    """
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if is_secret_name(key) and item not in (None, "", False) and not _is_structure(item):
                out[key] = SECRET_PLACEHOLDER
            else:
                out[key] = mask_secrets(item)
        return out
    if isinstance(value, (list, tuple)):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def _is_structure(value: Any) -> bool:
    return isinstance(value, (Mapping, list, tuple))


def find_masked(value: Any, path: str = "") -> list[str]:
    """Where :func:`mask_secrets` removed something: dotted paths such as ``llm_kwargs.api_key``.

    Args:
        value: Stored options.
        path: Prefix of the paths (for recursion).

    Returns:
        Paths of the placeholders and of strings holding a redacted part, in order.
    """
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found.extend(find_masked(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found.extend(find_masked(item, f"{path}[{i}]"))
    elif isinstance(value, str) and (
        value == SECRET_PLACEHOLDER or f":{REDACTED}@" in value or f"://{REDACTED}@" in value or f"={REDACTED}" in value
    ):
        found.append(path or "<value>")
    return found


def redact_command(argv: str | Sequence[str]) -> str:
    """A command line as it may be recorded or printed: secret flag values and URL secrets as ``***``.

    Args:
        argv: The arguments (``sys.argv``-like) or a command line already joined.

    Returns:
        The shell-quoted command line, e.g. ``hpolab compare --llm-base-url 'https://u:***@host/v1'
        --llm-api-key '***'``.
    """
    if isinstance(argv, str):
        try:
            args = shlex.split(argv)
        except ValueError:
            return redact_url(argv)
    else:
        args = [str(a) for a in argv]
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        name, eq, rest = arg.partition("=")
        if arg.startswith("-") and not eq and is_secret_name(arg):
            out.append(arg)
            hide_next = True
        elif eq and rest and is_secret_name(name) and "://" not in name:
            out.append(f"{name}={REDACTED}")
        else:
            out.append(redact_url(arg))
    return " ".join(shlex.quote(a) for a in out)


# ------------------------------------------------------------------------------ trust
_TRUSTED: set[str] = set()
_TRUSTED_LOCK = threading.Lock()


def _normal(url: str) -> str:
    text = str(url).strip().rstrip("/")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def trust_base_url(url: str) -> None:
    """Let this process send its environment's API key to ``url`` when a stored study names it.

    ``hpolab worker --llm-base-url URL`` calls it; so may a program that reopens studies.

    Args:
        url: The server URL, exactly as stored (a trailing ``/`` and the host's case do not matter).
    """
    with _TRUSTED_LOCK:
        _TRUSTED.add(_normal(url))


def is_trusted_url(url: str) -> bool:
    """Whether this process was given ``url``: by :func:`trust_base_url` or an environment variable in :data:`BASE_URL_ENV`."""
    target = _normal(url)
    with _TRUSTED_LOCK:
        if target in _TRUSTED:
            return True
    return any(os.environ.get(name) and _normal(os.environ[name]) == target for name in BASE_URL_ENV)


def _urls(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        yield value.strip()


def check_stored_urls(options: Any, *, what: str) -> None:
    """Refuse stored options that would send the environment's API key to a URL this process was not given.

    Every ``http(s)://`` string in ``options`` (at any depth) is a server an LLM client may call
    with the key in :data:`API_KEY_ENV`. When that variable is set, each such URL must be trusted
    (:func:`is_trusted_url`); without a key in the environment there is nothing to send.

    Args:
        options: Options read from storage.
        what: What they belong to, for the message (e.g. ``"study 'b'"``).

    Raises:
        UntrustedURLError: Naming the (redacted) URL and the three ways to give it.
    """
    if not os.environ.get(API_KEY_ENV):
        return
    for url in _urls(options):
        if not is_trusted_url(url):
            raise UntrustedURLError(
                f"{what}: its stored options send LLM requests to {redact_url(url)!r}, which this process was not "
                f"given, and {API_KEY_ENV} is set: the key is only sent to a URL you give. Pass the same URL "
                f"(--llm-base-url on `hpolab worker`, the environment variable {BASE_URL_ENV[0]}, "
                "hpolab.llm.trust_base_url(url) in a program) or give the options again with optimizer_kwargs=."
            )
