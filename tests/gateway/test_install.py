"""gateway/install's steps before it changes the system: reading and checking the URL.

The rest needs root, apt and systemd; here the script is sourced (which only
defines its functions) and its own ``read_url`` and ``check_url`` run as it runs
them, the check through scripts/gateway as the service would start it.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.mqtt_broker import ROOT

INSTALL = ROOT / "gateway" / "install"
PASSWORD = "s3cret-pw"


def read_and_check(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``read_url`` then ``check_url``, the URL typed or piped in as ``stdin``.

    ``id`` answers "not root" first: should sourcing ever run the installer, it
    stops at its root check instead of changing this machine.
    """
    return subprocess.run(
        [
            "bash",
            "-c",
            'id() { echo 1000; }; source "$0"; read_url "$@"; check_url "$url"',
            INSTALL,
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_installer_parses() -> None:
    subprocess.run(["bash", "-n", INSTALL], check=True)


@pytest.mark.parametrize(
    ("stdin", "args"),
    [
        (f"mqtts://rider:{PASSWORD}@ha.local:8883\n", ()),
        ("", (f"mqtts://rider:{PASSWORD}@ha.local:8883",)),  # as before: an argument
    ],
)
def test_a_usable_url_passes_the_check_without_showing_its_password(
    stdin: str, args: tuple[str, ...]
) -> None:
    done = read_and_check(stdin, *args)
    assert done.returncode == 0, done.stderr
    # One line; the gateway id defaults to this host's name.
    assert done.stdout.startswith("scripts/gateway: options usable: gateway ")
    assert done.stdout.endswith(", broker mqtts://rider@ha.local:8883\n")
    assert done.stdout.count("\n") == 1
    assert PASSWORD not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("stdin", "reason"),
    [
        (f"http://rider:{PASSWORD}@ha.local\n", "must start with mqtt:// or mqtts://"),
        ("mqtt://ha.local:port\n", "port that is not a number"),
        (f"mqtt://rider:{PASSWORD}@ha.local/topic\n", "has a path or query"),
        ("mqtt://rider:pass word@ha.local\n", "percent-encoded (%20"),
        ("\n", "no broker URL given"),
        ("", "no broker URL given"),
    ],
)
def test_an_unusable_url_is_refused_with_one_line(stdin: str, reason: str) -> None:
    """Refused before the service is enabled, not restarted every 10 s for ever."""
    done = read_and_check(stdin)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert reason in done.stderr
    assert PASSWORD not in done.stderr


@pytest.mark.parametrize(
    ("check_status", "told"),
    [
        (2, "run it again with a usable URL"),
        (1, "the gateway's Python environment could not be prepared"),
    ],
)
def test_the_installer_names_what_failed_before_installing(
    check_status: int, told: str
) -> None:
    """A bad URL and a gateway that could not be set up (no Python 3.12, pip
    offline) are told apart, each with the check's own exit status."""
    done = subprocess.run(
        [
            "bash",
            "-c",
            'id() { echo 1000; }; source "$0"; check_url() { return "$1"; }; '
            'refuse_unless_usable "$1"; echo "installing"',
            INSTALL,
            str(check_status),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == check_status
    assert told in done.stderr
    assert "installing" not in done.stdout
